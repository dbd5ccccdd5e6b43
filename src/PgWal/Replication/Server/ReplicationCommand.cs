// The replication commands of PostgreSQL 15's walsender grammar (repl_gram.y), as parsed values.
// Physical replication only: logical forms parse (so their errors are the right ones) but are
// refused by the session.
namespace PgWal.Replication.Server;

/// <summary>A parsed replication command.</summary>
public abstract record ReplicationCommand
{
    /// <summary>The CommandComplete tag (the command's name).</summary>
    public abstract string Tag { get; }
}

/// <summary>IDENTIFY_SYSTEM.</summary>
public sealed record IdentifySystemCommand : ReplicationCommand
{
    /// <inheritdoc/>
    public override string Tag => "IDENTIFY_SYSTEM";
}

/// <summary>SHOW name (lower-cased unless quoted; dotted names joined with '.').</summary>
public sealed record ShowCommand(string Name) : ReplicationCommand
{
    /// <inheritdoc/>
    public override string Tag => "SHOW";
}

/// <summary>TIMELINE_HISTORY tli.</summary>
public sealed record TimelineHistoryCommand(uint Timeline) : ReplicationCommand
{
    /// <inheritdoc/>
    public override string Tag => "TIMELINE_HISTORY";
}

/// <summary>CREATE_REPLICATION_SLOT name [TEMPORARY] PHYSICAL|LOGICAL plugin [options].</summary>
public sealed record CreateSlotCommand(string Name, bool Temporary, string? LogicalPlugin, bool ReserveWal) : ReplicationCommand
{
    /// <inheritdoc/>
    public override string Tag => "CREATE_REPLICATION_SLOT";
}

/// <summary>DROP_REPLICATION_SLOT name [WAIT].</summary>
public sealed record DropSlotCommand(string Name, bool Wait) : ReplicationCommand
{
    /// <inheritdoc/>
    public override string Tag => "DROP_REPLICATION_SLOT";
}

/// <summary>READ_REPLICATION_SLOT name.</summary>
public sealed record ReadSlotCommand(string Name) : ReplicationCommand
{
    /// <inheritdoc/>
    public override string Tag => "READ_REPLICATION_SLOT";
}

/// <summary>START_REPLICATION [SLOT name] [PHYSICAL] X/X [TIMELINE n] (or LOGICAL, refused).</summary>
public sealed record StartReplicationCommand(string? Slot, Lsn Start, uint Timeline, bool Logical) : ReplicationCommand
{
    /// <inheritdoc/>
    public override string Tag => "START_REPLICATION";
}

/// <summary>BASE_BACKUP [( option [value], ... )]: the options in order, values as written (null: none).</summary>
public sealed record BaseBackupCommand(IReadOnlyList<KeyValuePair<string, string?>> Options) : ReplicationCommand
{
    /// <inheritdoc/>
    public override string Tag => "BASE_BACKUP";
}
