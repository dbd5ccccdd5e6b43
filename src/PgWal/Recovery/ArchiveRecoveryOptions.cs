// ArchiveRecoveryOptions: PostgreSQL 15's recovery settings (restore_command, recovery_target*,
// recovery_target_timeline, recovery_target_action, recovery_end_command). They apply only when the
// data directory holds recovery.signal, as in PostgreSQL; given in WalInstanceOptions, or read
// from the directory's postgresql.conf and postgresql.auto.conf (RecoveryConfigFile).
using PgWal.Archive;

namespace PgWal.Recovery;

/// <summary>recovery_target_action.</summary>
public enum RecoveryTargetAction
{
    /// <summary>PostgreSQL's default; without hot standby it becomes <see cref="Shutdown"/> (PgWal has no hot standby yet).</summary>
    Pause,
    /// <summary>End recovery at the target and start a new timeline.</summary>
    Promote,
    /// <summary>Stop at the target and leave the directory in recovery (the next open replays to the target again).</summary>
    Shutdown,
}

/// <summary>recovery_target_timeline: latest (default), current, or a number.</summary>
/// <param name="Kind">Which.</param>
/// <param name="Id">The number, for <see cref="RecoveryTimelineKind.Numbered"/>.</param>
public readonly record struct RecoveryTimeline(RecoveryTimelineKind Kind, TimelineId Id = default)
{
    /// <summary>Follow the newest timeline found in the archive or pg_wal.</summary>
    public static RecoveryTimeline Latest => new(RecoveryTimelineKind.Latest);

    /// <summary>Stay on the timeline of the starting checkpoint.</summary>
    public static RecoveryTimeline Current => new(RecoveryTimelineKind.Current);

    /// <summary>A given timeline.</summary>
    public static RecoveryTimeline Of(uint id) => new(RecoveryTimelineKind.Numbered, new TimelineId(id));

    /// <inheritdoc/>
    public override string ToString() => Kind switch { RecoveryTimelineKind.Latest => "latest", RecoveryTimelineKind.Current => "current", _ => Id.ToString() };
}

/// <summary>Kinds of <see cref="RecoveryTimeline"/>.</summary>
public enum RecoveryTimelineKind
{
    /// <summary>latest.</summary>
    Latest,
    /// <summary>current.</summary>
    Current,
    /// <summary>A number.</summary>
    Numbered,
}

/// <summary>Settings of archive recovery (point-in-time recovery).</summary>
public sealed record ArchiveRecoveryOptions
{
    /// <summary>Where archived WAL comes from, in-process (<see cref="RepositoryRestorer"/>); takes precedence over <see cref="RestoreCommand"/>.</summary>
    public IWalRestorer? Restorer { get; init; }

    /// <summary><c>restore_command</c> (%f, %p, %r, %%), run in the data directory.</summary>
    public string? RestoreCommand { get; init; }

    /// <summary>Where to stop (recovery_target_lsn/_xid/_time/_name, recovery_target = immediate, recovery_target_inclusive); null: the end of the archived WAL.</summary>
    public RecoveryTarget? Target { get; init; }

    /// <summary><c>recovery_target_timeline</c>. Default latest.</summary>
    public RecoveryTimeline TargetTimeline { get; init; } = RecoveryTimeline.Latest;

    /// <summary><c>recovery_target_action</c>. Default pause, which without hot standby is shutdown.</summary>
    public RecoveryTargetAction Action { get; init; } = RecoveryTargetAction.Pause;

    /// <summary><c>recovery_end_command</c> (%r, %%), run once when recovery ends; a failure is a warning.</summary>
    public string? RecoveryEndCommand { get; init; }

    internal IWalRestorer? RestorerFor(string dataDirectory)
        => Restorer ?? (string.IsNullOrEmpty(RestoreCommand) ? null : new ShellRestoreCommand(RestoreCommand, dataDirectory));
}
