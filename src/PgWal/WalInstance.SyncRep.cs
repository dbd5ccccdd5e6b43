// WalInstance.SyncRep: committing with PostgreSQL's synchronous_commit on a primary — the local
// flush (or, at off, only a request for one), then SyncRepWaitForLSN: with the walsender server
// running, a non-empty synchronous_standby_names and a level above local, the commit waits until
// its synchronous standbys confirm it (written, flushed or applied). Such a commit does not wait
// for its local flush first: the walsender sends only flushed WAL, so a standby's confirmation
// implies it; the commit makes sure the flush happens (GroupCommit.Kick) and waits once, and any
// other end of the wait (the setting emptied, a cancel) still waits for the local flush; a fault
// of the engine ends it (SyncRepCoordinator.Fail). The wait has no timeout (as PostgreSQL's); a
// cancel or closing the instance ends it with SyncRepWaitCanceledException, and the commit is then
// durable locally. The coordinator is created on first use, from the options.
using PgWal.Replication.Sync;

namespace PgWal;

public sealed partial class WalInstance
{
    private SyncRepCoordinator? _syncRep;      // created once, on first use
    private int _synchronousCommit = -1;       // -1: the options' level; else a SynchronousCommitLevel set at run time

    internal SyncRepCoordinator SyncRep => Volatile.Read(ref _syncRep) ?? CreateSyncRep();

    private SyncRepCoordinator CreateSyncRep()
    {
        var created = new SyncRepCoordinator(Replication.Sync.SynchronousStandbyNames.Parse(_options.SynchronousStandbyNames));
        return Interlocked.CompareExchange(ref _syncRep, created, null) ?? created;
    }

    /// <summary>
    /// <c>synchronous_standby_names</c>, changeable at run time (a configuration reload): setting it
    /// empty releases every waiting commit; a rule the connected standbys already satisfy releases
    /// the commits they confirmed. See <see cref="WalInstanceOptions.SynchronousStandbyNames"/>.
    /// </summary>
    /// <exception cref="FormatException">Not valid; PostgreSQL's message (the setting is left as it was).</exception>
    public string SynchronousStandbyNames
    {
        get => SyncRep.Names.Text;
        set => SyncRep.SetNames(Replication.Sync.SynchronousStandbyNames.Parse(value));
    }

    /// <summary>
    /// <c>synchronous_commit</c> for commits that name no level, changeable at run time; initially
    /// <see cref="WalInstanceOptions.SynchronousCommit"/>.
    /// </summary>
    public SynchronousCommitLevel SynchronousCommit
    {
        get => Volatile.Read(ref _synchronousCommit) is var set and >= 0 ? (SynchronousCommitLevel)set : _options.SynchronousCommit;
        set
        {
            if (!Enum.IsDefined(value))
                throw new ArgumentOutOfRangeException(nameof(value), value, "synchronous_commit must be off, local, remote_write, on or remote_apply");
            Volatile.Write(ref _synchronousCommit, (int)value);
        }
    }

    /// <summary>How far the synchronous standbys have confirmed the WAL (written, flushed, applied); each only moves forward.</summary>
    public SyncRepPositions SynchronousReplicationPositions => SyncRep.Positions;

    /// <summary>
    /// Makes the commit whose record ends at <paramref name="commitEnd"/> as durable as
    /// <paramref name="level"/> (default <see cref="SynchronousCommit"/>) asks: off requests the
    /// local flush and returns; local waits for it; remote_write, on and remote_apply then wait
    /// (without a timeout) until the synchronous standbys have written, flushed or applied it —
    /// when the walsender server runs and <see cref="SynchronousStandbyNames"/> is not empty.
    /// </summary>
    /// <exception cref="SyncRepWaitCanceledException">
    /// <paramref name="cancellationToken"/> was cancelled, or the instance closed, during the standby
    /// wait: the commit is durable locally but might not have been replicated.
    /// </exception>
    /// <exception cref="IOException">The local flush failed (the WAL engine is faulted).</exception>
    public void WaitForCommit(Lsn commitEnd, SynchronousCommitLevel? level = null, CancellationToken cancellationToken = default)
    {
        var effective = level ?? SynchronousCommit;
        if (effective == SynchronousCommitLevel.Off)
        {
            Wal.RequestFlush(commitEnd);
            return;
        }
        if (!SyncRep.WaitsAt(effective))
        {
            Wal.Flush(commitEnd);
            return;
        }
        // The standbys can only confirm WAL that is flushed here (the walsender sends no further),
        // so the commit waits once, for them, instead of for its local flush and then for them: it
        // only makes sure the flush happens. Ending the wait any other way (the setting emptied, a
        // cancel) still waits for the local flush, so a commit is never reported without it.
        Wal.Kick(commitEnd);
        try
        {
            SyncRep.Wait(commitEnd, effective, cancellationToken);
        }
        catch (SyncRepWaitCanceledException)
        {
            FlushAfterCanceledWait(commitEnd);
            throw;
        }
        Wal.Flush(commitEnd);
    }

    // A canceled standby wait promises a locally durable commit; closing flushes everything inserted.
    private void FlushAfterCanceledWait(Lsn commitEnd)
    {
        try
        {
            Wal.Flush(commitEnd);
        }
        catch (ObjectDisposedException)
        {
        }
    }

    /// <summary>As <see cref="WaitForCommit"/>, without blocking a thread; completes synchronously when nothing needs waiting for.</summary>
    /// <exception cref="SyncRepWaitCanceledException">Cancelled, or the instance closed, during the standby wait.</exception>
    /// <exception cref="OperationCanceledException">Cancelled during the local flush (the WAL may still become durable).</exception>
    public ValueTask WaitForCommitAsync(Lsn commitEnd, SynchronousCommitLevel? level = null, CancellationToken cancellationToken = default)
    {
        var effective = level ?? SynchronousCommit;
        if (effective == SynchronousCommitLevel.Off)
        {
            Wal.RequestFlush(commitEnd);
            return default;
        }
        if (!SyncRep.WaitsAt(effective))
            return Wal.FlushAsync(commitEnd, cancellationToken);
        try
        {
            Wal.Kick(commitEnd);   // as WaitForCommit: one wait, for the standbys
        }
        catch (Exception e)
        {
            return ValueTask.FromException(e);
        }
        var wait = SyncRep.WaitAsync(commitEnd, effective, cancellationToken);
        if (!wait.IsCompleted)
            return WaitThenFlush(wait, commitEnd);
        try
        {
            wait.GetAwaiter().GetResult();   // observes the result (and returns a pooled waiter)
        }
        catch (SyncRepWaitCanceledException e)
        {
            return CanceledAfterFlush(e, commitEnd);
        }
        catch (Exception e)
        {
            return ValueTask.FromException(e);
        }
        return Wal.FlushAsync(commitEnd, CancellationToken.None);   // normally durable already: completes synchronously
    }

    private async ValueTask WaitThenFlush(ValueTask wait, Lsn commitEnd)
    {
        try
        {
            await wait.ConfigureAwait(false);
        }
        catch (SyncRepWaitCanceledException e)
        {
            await CanceledAfterFlush(e, commitEnd).ConfigureAwait(false);
        }
        await Wal.FlushAsync(commitEnd, CancellationToken.None).ConfigureAwait(false);
    }

    private async ValueTask CanceledAfterFlush(SyncRepWaitCanceledException canceled, Lsn commitEnd)
    {
        try
        {
            await Wal.FlushAsync(commitEnd, CancellationToken.None).ConfigureAwait(false);
        }
        catch (ObjectDisposedException)
        {
        }
        System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(canceled);
    }
}
