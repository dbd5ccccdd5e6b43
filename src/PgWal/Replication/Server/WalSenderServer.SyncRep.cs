// WalSenderServer.SyncRep: the walsender server as the source of standbys for synchronous
// replication — every status update, a session reaching "streaming" and a session going away
// re-evaluate the synchronous standbys (SyncRepReleaseWaiters), and pg_stat_replication's
// sync_priority and sync_state are computed from the same rule the releases use.
using PgWal.Replication.Sync;

namespace PgWal.Replication.Server;

public sealed partial class WalSenderServer : ISyncRepStandbySource
{
    void ISyncRepStandbySource.CollectStandbys(List<SyncRepStandby> standbys)
    {
        foreach (var (_, session) in _sessions)
        {
            if (session.Counted)
                standbys.Add(session.SyncRepView);
        }
    }

    /// <summary>A status update arrived: release the commits the synchronous standbys now confirm.</summary>
    internal void ReplyReceived(WalSenderSession session) => Instance.SyncRep.Release();

    /// <summary>A session became a candidate or stopped being one (streaming began, it went away).</summary>
    internal void SyncCandidacyChanged(WalSenderSession session) => Instance.SyncRep.Release();

    // pg_stat_replication's sync_priority and sync_state for the rows of Snapshot.
    private List<WalSenderInfo> WithSyncState(List<WalSenderInfo> rows)
    {
        var standbys = rows.Select(r => new SyncRepStandby(r.Pid, r.ApplicationName, r.State, r.WriteLsn, r.FlushLsn, r.ReplayLsn)).ToList();
        var states = Instance.SyncRep.Classify(standbys);
        for (int i = 0; i < rows.Count; i++)
            rows[i] = rows[i] with { SyncPriority = states[i].Priority, SyncState = states[i].State };
        return rows;
    }
}
