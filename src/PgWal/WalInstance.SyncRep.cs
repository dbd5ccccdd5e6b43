// WalInstance.SyncRep: committing with PostgreSQL's synchronous_commit on a primary — the local
// flush (or, at off, only a request for one), then SyncRepWaitForLSN: with the walsender server
// running, a non-empty synchronous_standby_names and a level above local, the commit waits until
// its synchronous standbys confirm it (written, flushed or applied). The wait has no timeout (as
// PostgreSQL's); a cancel or closing the instance ends it with SyncRepWaitCanceledException, and the
// commit stays durable locally either way. The coordinator is created on first use, from the options.
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
        Wal.Flush(commitEnd);
        if (effective > SynchronousCommitLevel.Local)
            SyncRep.Wait(commitEnd, effective, cancellationToken);
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
        var flush = Wal.FlushAsync(commitEnd, cancellationToken);
        if (!flush.IsCompleted)
            return FlushThenWait(flush, commitEnd, effective, cancellationToken);
        try
        {
            flush.GetAwaiter().GetResult();   // observes the result (and returns a pooled waiter)
        }
        catch (Exception e)
        {
            return ValueTask.FromException(e);   // failures arrive through the ValueTask, as for a flush that waited
        }
        return effective > SynchronousCommitLevel.Local ? SyncRep.WaitAsync(commitEnd, effective, cancellationToken) : default;
    }

    private async ValueTask FlushThenWait(ValueTask flush, Lsn commitEnd, SynchronousCommitLevel level, CancellationToken cancellationToken)
    {
        await flush.ConfigureAwait(false);
        if (level > SynchronousCommitLevel.Local)
            await SyncRep.WaitAsync(commitEnd, level, cancellationToken).ConfigureAwait(false);
    }
}
