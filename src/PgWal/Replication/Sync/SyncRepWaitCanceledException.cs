// SyncRepWaitCanceledException: a commit stopped waiting for its synchronous standbys before they
// confirmed it. The commit is NOT undone and NOT in doubt locally: its WAL was flushed before the
// wait began (SyncRepWaitForLSN runs after the local flush), so it survives a crash of this
// instance; it may simply not be on any standby yet. Messages are PostgreSQL's WARNING and DETAIL.
namespace PgWal.Replication.Sync;

/// <summary>Why a synchronous replication wait ended without confirmation.</summary>
public enum SyncRepCancelReason
{
    /// <summary>The caller's <see cref="CancellationToken"/> (PostgreSQL: a query cancel).</summary>
    UserRequest,
    /// <summary>The instance closed (PostgreSQL: the backend is terminated at shutdown).</summary>
    InstanceClosed,
}

/// <summary>
/// A wait for synchronous replication ended before the standbys confirmed the commit. The
/// transaction has already committed locally (its WAL is durable here), but might not have been
/// replicated to the standby.
/// </summary>
public sealed class SyncRepWaitCanceledException : OperationCanceledException
{
    /// <summary>PostgreSQL's DETAIL for every such cancel.</summary>
    public const string DetailText = "The transaction has already committed locally, but might not have been replicated to the standby.";

    /// <summary>Creates the exception for the commit ending at <paramref name="commitEnd"/>.</summary>
    public SyncRepWaitCanceledException(SyncRepCancelReason reason, Lsn commitEnd, CancellationToken token = default)
        : base($"{PrimaryMessage(reason)}: {DetailText}", token)
    {
        Reason = reason;
        CommitEnd = commitEnd;
    }

    /// <summary>Why the wait ended.</summary>
    public SyncRepCancelReason Reason { get; }

    /// <summary>The end of the commit record that was waited for (durable locally).</summary>
    public Lsn CommitEnd { get; }

    /// <summary>PostgreSQL's DETAIL: committed locally, maybe not replicated.</summary>
    public string Detail => DetailText;

    /// <summary>PostgreSQL's WARNING text for <paramref name="reason"/>.</summary>
    public static string PrimaryMessage(SyncRepCancelReason reason) => reason switch
    {
        SyncRepCancelReason.UserRequest => "canceling wait for synchronous replication due to user request",
        _ => "canceling the wait for synchronous replication because the instance is closing",
    };
}
