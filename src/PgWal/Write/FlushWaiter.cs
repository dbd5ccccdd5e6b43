// FlushWaiter: one caller waiting for the WAL to be durable up to Target, while another caller's
// flush is in progress. Pooled and reused (no allocation per commit): an async waiter is an
// IValueTaskSource whose continuation runs on the thread pool, never inline on the flusher; a
// blocking waiter sleeps on its own monitor, so completing one wakes exactly one thread.
// Lifecycle: rented under the group-commit lock, completed exactly once (result, fault or
// cancellation), returned to the pool by the consumer after it has observed the result.
using System.Threading.Tasks.Sources;

namespace PgWal.Write;

internal sealed class FlushWaiter : IValueTaskSource
{
    private readonly GroupCommit _owner;
    private ManualResetValueTaskSourceCore<bool> _core = new() { RunContinuationsAsynchronously = true };
    private CancellationTokenRegistration _registration;
    private bool _blocking;
    private bool _done;            // blocking waiters only; guarded by this
    private Exception? _error;     // blocking waiters only; guarded by this

    public FlushWaiter(GroupCommit owner) => _owner = owner;

    public Lsn Target { get; private set; }

    public short Version => _core.Version;

    public void Prepare(Lsn target, bool blocking)
    {
        Target = target;
        _blocking = blocking;
        _done = false;
        _error = null;
    }

    public void RegisterCancellation(CancellationToken token)
        => _registration = token.UnsafeRegister(static s => { var w = (FlushWaiter)s!; w._owner.Cancel(w); }, this);

    /// <summary>Completes the wait; <paramref name="error"/> null means durable.</summary>
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

    /// <summary>Blocks until completed, returns the waiter to the pool, rethrows a failure.</summary>
    public void Wait()
    {
        Exception? error;
        lock (this)
        {
            while (!_done)
                Monitor.Wait(this);
            error = _error;
        }
        _owner.Return(this);
        if (error != null)
            throw error is WalFaultedException f ? WalFault.Create(f.InnerException ?? f) : error;
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
            // Dispose waits for a running cancellation callback, so a reused waiter is never cancelled by a stale one.
            _registration.Dispose();
            _registration = default;
            _core.Reset();
            _owner.Return(this);
        }
    }
}
