// FlushWaiter: one caller waiting for the WAL to be durable up to Target, while another caller's
// flush is in progress (a PooledWaiter: no allocation per commit). Rented under the group-commit
// lock, completed exactly once (result, fault or cancellation), returned to the pool by the
// consumer after it has observed the result.
namespace PgWal.Write;

internal sealed class FlushWaiter(GroupCommit owner) : PooledWaiter
{
    public Lsn Target { get; private set; }

    public void Prepare(Lsn target, bool blocking)
    {
        Target = target;
        Begin(blocking);
    }

    protected override void OnCanceled() => owner.Cancel(this);

    protected override void ReturnToPool() => owner.Return(this);

    /// <summary>Blocks until completed, returns the waiter to the pool, rethrows a failure.</summary>
    public void Wait()
    {
        if (BlockUntilCompleted() is { } error)
            throw error is WalFaultedException f ? WalFault.Create(f.InnerException ?? f) : error;
    }
}
