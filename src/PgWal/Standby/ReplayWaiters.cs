// ReplayWaiters: callers waiting until a standby's replay passes a position (a read that must see
// a commit it was told about; tests). Waiters are few and not on a hot path: a list under a lock,
// released by the replay thread after each batch, failed when replay stops.
namespace PgWal.Standby;

internal sealed class ReplayWaiters
{
    private readonly object _lock = new();
    private readonly List<(Lsn UpTo, TaskCompletionSource Done)> _waiting = [];
    private Exception? _failed;   // set once replay stopped; guarded by _lock

    public ValueTask WaitAsync(Lsn upTo, Func<Lsn> replayed, CancellationToken cancellationToken)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_lock)
        {
            if (_failed != null)
                return ValueTask.FromException(_failed);
            if (replayed() >= upTo)   // released meanwhile
                return default;
            _waiting.Add((upTo, done));
        }
        if (!cancellationToken.CanBeCanceled)
            return new ValueTask(done.Task);
        return new ValueTask(WithCancellation(done, cancellationToken));

        async Task WithCancellation(TaskCompletionSource done, CancellationToken token)
        {
            using var registration = token.Register(() =>
            {
                lock (_lock)
                    _waiting.RemoveAll(w => w.Done == done);
                done.TrySetCanceled(token);
            });
            await done.Task.ConfigureAwait(false);
        }
    }

    public void Release(Lsn replayed)
    {
        lock (_lock)
        {
            for (int i = _waiting.Count - 1; i >= 0; i--)
            {
                if (_waiting[i].UpTo <= replayed)
                {
                    _waiting[i].Done.TrySetResult();
                    _waiting.RemoveAt(i);
                }
            }
        }
    }

    public void FailAll(Exception? cause)
    {
        lock (_lock)
        {
            _failed = new InvalidOperationException(cause == null ? "standby replay stopped" : $"standby replay stopped: {cause.Message}", cause);
            foreach (var (_, done) in _waiting)
                done.TrySetException(_failed);
            _waiting.Clear();
        }
    }
}
