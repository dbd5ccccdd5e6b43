// SyncRepStandby: what the coordinator needs to know of one walsender (PostgreSQL reads the same
// fields of WalSnd under its spinlock): application_name, state and the three positions it last
// reported. ISyncRepStandbySource is the walsender server; tests use a fake list.
namespace PgWal.Replication.Sync;

/// <summary>One walsender as synchronous replication sees it.</summary>
/// <param name="Order">Its slot order (ties between equal priorities go to the lower one); the walsender's pid.</param>
/// <param name="ApplicationName">application_name from its startup packet.</param>
/// <param name="State">pg_stat_replication.state: only "streaming" and "stopping" count.</param>
/// <param name="Write">Reported written up to (Invalid: not reported).</param>
/// <param name="Flush">Reported flushed up to (Invalid: not reported; then it is never a candidate).</param>
/// <param name="Apply">Reported applied up to.</param>
internal readonly record struct SyncRepStandby(int Order, string ApplicationName, string State, Lsn Write, Lsn Flush, Lsn Apply)
{
    /// <summary>State streaming or stopping (catchup is not, §7.2).</summary>
    public bool IsStreaming => State is "streaming" or "stopping";
}

/// <summary>The walsenders there are now.</summary>
internal interface ISyncRepStandbySource
{
    /// <summary>Adds every connected walsender to <paramref name="standbys"/> (called under the coordinator's lock: read only, take no locks).</summary>
    void CollectStandbys(List<SyncRepStandby> standbys);
}

/// <summary>
/// How far the synchronous standbys have confirmed the WAL (PostgreSQL's WalSndCtl->lsn[]): commits
/// ending at or before these positions are released. Each only moves forward.
/// </summary>
/// <param name="WrittenUpTo">Written by the synchronous standbys (releases remote_write).</param>
/// <param name="FlushedUpTo">Flushed by them (releases on).</param>
/// <param name="AppliedUpTo">Applied by them (releases remote_apply).</param>
public readonly record struct SyncRepPositions(Lsn WrittenUpTo, Lsn FlushedUpTo, Lsn AppliedUpTo);
