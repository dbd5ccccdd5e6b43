// PooledWaiter: one caller waiting until something reaches its target — the WAL durable
// (GroupCommit's FlushWaiter), or the synchronous standbys confirming a commit (SyncRepWaiter).
// Pooled and reused (no allocation per wait): an async waiter is an IValueTaskSource whose
// continuation runs on the thread pool, never inline on the thread that completes it; a blocking
// waiter sleeps on its own monitor, so completing one wakes exactly one thread. Lifecycle: rented
// by its owner, completed exactly once per rental, returned to the owner's pool by its consumer
// once it has observed the result and its cancellation callback can no longer run.
using System.Threading.Tasks.Sources;

namespace PgWal.Write;

internal abstract class PooledWaiter : IValueTaskSource
{
    private ManualResetValueTaskSourceCore<bool> _core = new() { RunContinuationsAsynchronously = true };
    private CancellationTokenRegistration _registration;
    private bool _blocking;
    private bool _done;            // blocking waiters only; guarded by this
    private Exception? _error;     // blocking waiters only; guarded by this

    public short Version => _core.Version;

    /// <summary>The next waiter of a <see cref="CompletionChain"/>; set by the owner under its lock.</summary>
    internal PooledWaiter? NextToComplete;

    /// <summary>Starts a rental: blocking (<see cref="BlockUntilCompleted"/>) or awaited as a ValueTask.</summary>
    protected void Begin(bool blocking)
    {
        _blocking = blocking;
        _done = false;
        _error = null;
    }

    /// <summary>The token's cancellation calls <see cref="OnCanceled"/> (which may run inline).</summary>
    public void RegisterCancellation(CancellationToken token)
        => _registration = token.UnsafeRegister(static s => ((PooledWaiter)s!).OnCanceled(), this);

    /// <summary>The owner takes the waiter out of its queue and completes it with the cancel exception.</summary>
    protected abstract void OnCanceled();

    /// <summary>Gives the waiter back to the owner's pool.</summary>
    protected abstract void ReturnToPool();

    /// <summary>Completes the wait; <paramref name="error"/> null means the target was reached. Once per rental.</summary>
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

    /// <summary>Blocks until completed, returns the waiter to the pool; the error it completed with, or null.</summary>
    protected Exception? BlockUntilCompleted()
    {
        Exception? error;
        lock (this)
        {
            while (!_done)
                Monitor.Wait(this);
            error = _error;
        }
        Recycle();
        return error;
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
            Recycle();
        }
    }

    // Dispose waits for a cancellation callback that is running, so a reused waiter is never
    // cancelled by a stale one; only then is the core reset and the waiter handed back.
    private void Recycle()
    {
        _registration.Dispose();
        _registration = default;
        if (!_blocking)
            _core.Reset();
        ReturnToPool();
    }
}

/// <summary>
/// Waiters an owner took out of its queue under its lock, to complete after releasing it: the
/// commits they wake come straight back for the lock (their next commit), and found it held while
/// the rest of the batch was being woken. In the order added.
/// </summary>
internal struct CompletionChain
{
    private PooledWaiter? _first, _last;

    public void Add(PooledWaiter waiter)
    {
        waiter.NextToComplete = null;
        if (_last == null)
            _first = waiter;
        else
            _last.NextToComplete = waiter;
        _last = waiter;
    }

    /// <summary>Completes every waiter added (outside the owner's lock), each exactly once.</summary>
    public void CompleteAll(Exception? error)
    {
        var waiter = _first;
        _first = _last = null;
        while (waiter != null)
        {
            var next = waiter.NextToComplete;   // read first: a completed waiter may be reused at once
            waiter.NextToComplete = null;
            waiter.Complete(error);
            waiter = next;
        }
    }
}
