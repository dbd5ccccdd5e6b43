// SyncRepWaiter: one commit waiting for its synchronous standbys (PostgreSQL's PGPROC on a
// SyncRepQueue). A PooledWaiter, as FlushWaiter: no allocation per commit. A waiter is a node
// of one of the coordinator's LSN-ordered queues (Previous/Next, guarded by the coordinator's
// lock). An async waiter is an IValueTaskSource whose continuation runs on the thread pool, never
// inline on the walsender's reader that releases it; a blocking waiter sleeps on its own monitor.
// Lifecycle: rented and queued under the coordinator's lock, completed exactly once (released,
// cancelled or closed) after it left its queue, returned to the pool by its consumer after it has
// seen the result (and after its cancellation callback can no longer run).
using PgWal.Write;

namespace PgWal.Replication.Sync;

internal sealed class SyncRepWaiter(SyncRepCoordinator owner) : PooledWaiter
{
    private CancellationToken _token;

    /// <summary>The end of the commit record waited for.</summary>
    public Lsn Target { get; private set; }

    /// <summary>The queue it waits in (0 write, 1 flush, 2 apply).</summary>
    public int Mode { get; private set; }

    // Queue links and membership; guarded by the coordinator's lock.
    public SyncRepWaiter? Previous, Next;
    public bool Queued;

    public void Prepare(Lsn target, int mode, bool blocking, CancellationToken token)
    {
        Target = target;
        Mode = mode;
        _token = token;
        Begin(blocking);
    }

    /// <summary>Call after it is queued, outside the coordinator's lock (the callback takes it, and may run inline).</summary>
    public void RegisterCancellation()
    {
        if (_token.CanBeCanceled)
            RegisterCancellation(_token);
    }

    /// <summary>The cancel exception for this wait (the token that asked for it).</summary>
    public SyncRepWaitCanceledException Canceled() => new(SyncRepCancelReason.UserRequest, Target, _token);

    protected override void OnCanceled() => owner.Cancel(this);

    protected override void ReturnToPool()
    {
        _token = default;
        owner.Return(this);
    }

    /// <summary>Blocks until completed, returns the waiter to the pool, rethrows a cancel.</summary>
    public void Wait()
    {
        if (BlockUntilCompleted() is { } error)
            throw error;
    }
}
