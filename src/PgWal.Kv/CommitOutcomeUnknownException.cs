// CommitOutcomeUnknownException: a write failed after its commit record was inserted, while it
// was being made durable. The commit may or may not survive: the WAL may have reached the disk
// before the failure. Callers must not report it as failed (a retry could apply it twice) nor as
// done: reopen the store (recovery brings back exactly the durable commits) and read to find out.
namespace PgWal.Kv;

/// <summary>
/// A commit was logged but making it durable failed: after recovery it may be there or not.
/// <see cref="Exception.InnerException"/> is the failure.
/// </summary>
public sealed class CommitOutcomeUnknownException : IOException
{
    /// <summary>Creates the exception for the commit ending at <paramref name="commitEnd"/>.</summary>
    public CommitOutcomeUnknownException(Lsn commitEnd, Exception failure)
        : base($"kv: the commit ending at {commitEnd} may or may not be durable: {failure.Message}; reopen the store (recovery keeps exactly the durable commits) and read it back to find out", failure)
    {
        CommitEnd = commitEnd;
    }

    /// <summary>End of the commit record whose durability is unknown.</summary>
    public Lsn CommitEnd { get; }
}
