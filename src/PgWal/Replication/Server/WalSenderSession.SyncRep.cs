// WalSenderSession.SyncRep: the session as synchronous replication sees it — its name, state and
// the positions the client last reported (written by the reader task, read here without a lock:
// each value read is one the client did report, which is all a release needs).
using PgWal.Replication.Sync;

namespace PgWal.Replication.Server;

internal sealed partial class WalSenderSession
{
    /// <summary>The standby's view for the synchronous replication coordinator.</summary>
    public SyncRepStandby SyncRepView
        => new(Pid, ApplicationName, State, new Lsn(Volatile.Read(ref _writeLsn)), new Lsn(Volatile.Read(ref _flushLsn)), new Lsn(Volatile.Read(ref _applyLsn)));
}
