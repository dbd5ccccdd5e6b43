// FlushNotifier: wakes whoever waits for the WAL to become durable beyond some point (walsenders,
// PostgreSQL's WalSndWakeup). A waiter takes the current task, re-checks the flush position, then
// awaits; every advance of the flush position completes that task and starts a new one the next
// time someone waits. Nothing is allocated while nobody waits.
namespace PgWal.Write;

/// <summary>Signals advances of the flush position.</summary>
public sealed class FlushNotifier
{
    private TaskCompletionSource? _waiter;

    /// <summary>Completes the task waiters hold (called after the flush position advanced).</summary>
    public void Signal()
    {
        if (Volatile.Read(ref _waiter) != null)
            Interlocked.Exchange(ref _waiter, null)?.TrySetResult();
    }

    /// <summary>A task that completes at the next <see cref="Signal"/>. Take it, re-check the position, then await.</summary>
    public Task NextSignal()
    {
        var current = Volatile.Read(ref _waiter);
        if (current != null)
            return current.Task;
        var created = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        return (Interlocked.CompareExchange(ref _waiter, created, null) ?? created).Task;
    }
}
