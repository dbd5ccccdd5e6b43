// WaiterPool: the recycled waiters of one owner (GroupCommit, the synchronous-replication
// coordinator), under a lock of its own. A release completes a whole batch of waiters under the
// owner's lock, and each woken waiter gives its waiter back at once: with the owner's lock they all
// queued behind the releaser and went back to sleep; here they only meet each other, briefly.
namespace PgWal.Write;

internal sealed class WaiterPool<T>(Func<T> create) where T : class
{
    private readonly Lock _lock = new();
    private readonly Stack<T> _free = new();   // guarded by _lock

    /// <summary>A free waiter, or a new one.</summary>
    public T Rent()
    {
        lock (_lock)
        {
            if (_free.TryPop(out var waiter))
                return waiter;
        }
        return create();
    }

    /// <summary>Takes back a waiter its consumer is done with.</summary>
    public void Return(T waiter)
    {
        lock (_lock)
            _free.Push(waiter);
    }
}
