// CheckpointStartGate: PostgreSQL's DELAY_CHKPT_START. A client in the middle of a multi-record
// change that stamps its pages with a later LSN (PgWal.Kv stamps a transaction's pages with its
// commit's end) holds the gate from its first record until that stamp; a checkpoint takes its
// redo point only while nobody holds it. So the redo point never falls between a change and its
// stamp — otherwise a page changed before the redo point would carry an LSN after it, the next
// change would get no full-page image, and a torn write of that page could not be repaired.
// Holders wait while a checkpoint takes its redo point (microseconds: it takes no page lock).
namespace PgWal.Checkpoint;

internal sealed class CheckpointStartGate
{
    private readonly object _lock = new();
    private int _holders;         // guarded by _lock
    private bool _starting;       // a checkpoint is taking its redo point; guarded by _lock

    public void Enter()
    {
        lock (_lock)
        {
            while (_starting)
                Monitor.Wait(_lock);
            _holders++;
        }
    }

    public void Exit()
    {
        lock (_lock)
        {
            if (_holders <= 0)
                throw new InvalidOperationException("checkpoint start delay released more often than taken");
            if (--_holders == 0)
                Monitor.PulseAll(_lock);
        }
    }

    /// <summary>Runs <paramref name="takeRedoPoint"/> once no holder is inside, keeping new ones out meanwhile.</summary>
    public T WhenClear<T>(Func<T> takeRedoPoint)
    {
        lock (_lock)
        {
            _starting = true;
            while (_holders > 0)
                Monitor.Wait(_lock);
        }
        try
        {
            return takeRedoPoint();
        }
        finally
        {
            lock (_lock)
            {
                _starting = false;
                Monitor.PulseAll(_lock);
            }
        }
    }
}
