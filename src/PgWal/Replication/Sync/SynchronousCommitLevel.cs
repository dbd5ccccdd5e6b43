// SynchronousCommitLevel: PostgreSQL's synchronous_commit — how far a commit is confirmed before it
// returns (reference §7.3). The order of the values is PostgreSQL's (SYNCHRONOUS_COMMIT_OFF <
// LOCAL_FLUSH < REMOTE_WRITE < REMOTE_FLUSH < REMOTE_APPLY): "above Local" means "waits for a
// standby", which the coordinator relies on.
namespace PgWal.Replication.Sync;

/// <summary>How far a commit is confirmed before it returns (PostgreSQL's <c>synchronous_commit</c>).</summary>
public enum SynchronousCommitLevel
{
    /// <summary><c>off</c>: the local flush is only requested (the WAL writer makes it durable soon); no standby wait.</summary>
    Off = 0,
    /// <summary><c>local</c>: the commit's WAL is flushed locally; no standby wait.</summary>
    Local = 1,
    /// <summary><c>remote_write</c>: flushed locally, and the synchronous standbys have written it (not necessarily fsynced).</summary>
    RemoteWrite = 2,
    /// <summary><c>on</c> (remote flush): flushed locally and by the synchronous standbys. PostgreSQL's default.</summary>
    On = 3,
    /// <summary><c>remote_apply</c>: flushed locally, and the synchronous standbys have applied (replayed) it.</summary>
    RemoteApply = 4,
}

/// <summary>PostgreSQL's names for <see cref="SynchronousCommitLevel"/>.</summary>
public static class SynchronousCommitLevels
{
    /// <summary>The values PostgreSQL lists in its error hint (the aliases are accepted but not listed).</summary>
    public const string AvailableValues = "local, remote_write, remote_apply, on, off";

    /// <summary>PostgreSQL's name: off, local, remote_write, on, remote_apply.</summary>
    public static string Name(this SynchronousCommitLevel level) => level switch
    {
        SynchronousCommitLevel.Off => "off",
        SynchronousCommitLevel.Local => "local",
        SynchronousCommitLevel.RemoteWrite => "remote_write",
        SynchronousCommitLevel.On => "on",
        SynchronousCommitLevel.RemoteApply => "remote_apply",
        _ => throw new ArgumentOutOfRangeException(nameof(level), level, "not a synchronous_commit level"),
    };

    /// <summary>
    /// Parses a value as PostgreSQL's GUC does (case-insensitive): off, local, remote_write, on,
    /// remote_apply, and the aliases true/yes/1 (= on) and false/no/0 (= off).
    /// </summary>
    public static bool TryParse(string? text, out SynchronousCommitLevel level)
    {
        switch (text?.ToLowerInvariant())
        {
            case "local":
                level = SynchronousCommitLevel.Local;
                return true;
            case "remote_write":
                level = SynchronousCommitLevel.RemoteWrite;
                return true;
            case "remote_apply":
                level = SynchronousCommitLevel.RemoteApply;
                return true;
            case "on" or "true" or "yes" or "1":
                level = SynchronousCommitLevel.On;
                return true;
            case "off" or "false" or "no" or "0":
                level = SynchronousCommitLevel.Off;
                return true;
            default:
                level = default;
                return false;
        }
    }

    /// <summary>As <see cref="TryParse"/>, throwing PostgreSQL's message for an unknown value.</summary>
    /// <exception cref="FormatException">
    /// <c>invalid value for parameter "synchronous_commit": "x"</c>, with the available values.
    /// </exception>
    public static SynchronousCommitLevel Parse(string text)
        => TryParse(text, out var level) ? level : throw InvalidValue(text);

    private static FormatException InvalidValue(string? text)
        => new($"invalid value for parameter \"synchronous_commit\": \"{text}\" (available values: {AvailableValues})");
}
