// SyncRepWaiter: one commit waiting for its synchronous standbys (PostgreSQL's PGPROC on a
// SyncRepQueue). Pooled and reused, as FlushWaiter: no allocation per commit. A waiter is a node
// of one of the coordinator's LSN-ordered queues (Previous/Next, guarded by the coordinator's
// lock). An async waiter is an IValueTaskSource whose continuation runs on the thread pool, never
// inline on the walsender's reader that releases it; a blocking waiter sleeps on its own monitor.
// Lifecycle: rented and queued under the coordinator's lock, completed exactly once (released,
// cancelled or closed) after it left its queue, returned to the pool by its consumer after it has
// seen the result (and after its cancellation callback can no longer run).
using System.Threading.Tasks.Sources;

namespace PgWal.Replication.Sync;

internal sealed class SyncRepWaiter : IValueTaskSource
{
    private readonly SyncRepCoordinator _owner;
    private ManualResetValueTaskSourceCore<bool> _core = new() { RunContinuationsAsynchronously = true };
    private CancellationTokenRegistration _registration;
    private CancellationToken _token;
    private bool _blocking;
    private bool _done;            // blocking waiters only; guarded by this
    private Exception? _error;     // blocking waiters only; guarded by this

    public SyncRepWaiter(SyncRepCoordinator owner) => _owner = owner;

    /// <summary>The end of the commit record waited for.</summary>
    public Lsn Target { get; private set; }

    /// <summary>The queue it waits in (0 write, 1 flush, 2 apply).</summary>
    public int Mode { get; private set; }

    // Queue links and membership; guarded by the coordinator's lock.
    public SyncRepWaiter? Previous, Next;
    public bool Queued;

    public short Version => _core.Version;

    public void Prepare(Lsn target, int mode, bool blocking, CancellationToken token)
    {
        Target = target;
        Mode = mode;
        _blocking = blocking;
        _token = token;
        _done = false;
        _error = null;
    }

    /// <summary>Call after it is queued, outside the coordinator's lock (the callback takes it, and may run inline).</summary>
    public void RegisterCancellation()
    {
        if (_token.CanBeCanceled)
            _registration = _token.UnsafeRegister(static s => { var w = (SyncRepWaiter)s!; w._owner.Cancel(w); }, this);
    }

    /// <summary>The cancel exception for this wait (the token that asked for it).</summary>
    public SyncRepWaitCanceledException Canceled() => new(SyncRepCancelReason.UserRequest, Target, _token);

    /// <summary>Completes the wait; <paramref name="error"/> null means the standbys confirmed it. Once per rental.</summary>
    public void Complete(Exception? error)
    {
        if (_blocking)
        {
            lock (this)
            {
                _done = true;
                _error = error;
                Monitor.Pulse(this);
            }
            return;
        }
        if (error != null)
            _core.SetException(error);
        else
            _core.SetResult(true);
    }

    /// <summary>Blocks until completed, returns the waiter to the pool, rethrows a cancel.</summary>
    public void Wait()
    {
        Exception? error;
        lock (this)
        {
            while (!_done)
                Monitor.Wait(this);
            error = _error;
        }
        Recycle();
        if (error != null)
            throw error;
    }

    public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags)
        => _core.OnCompleted(continuation, state, token, flags);

    public void GetResult(short token)
    {
        try
        {
            _core.GetResult(token);
        }
        finally
        {
            _core.Reset();
            Recycle();
        }
    }

    // Dispose waits for a cancellation callback that is running, so a reused waiter is never
    // cancelled by a stale one.
    private void Recycle()
    {
        _registration.Dispose();
        _registration = default;
        _token = default;
        _owner.Return(this);
    }
}
