// BufferDescriptor: the state of one shared buffer (buf_internals.h BufferDesc). Header fields are
// guarded by Monitor on the descriptor itself; the page bytes by the content lock (shared to read
// or write back, exclusive to modify); IoLock serialises write-back of this buffer so a checkpoint
// that finds a buffer clean knows its last write-back has completed (BM_IO_IN_PROGRESS).
// Lock order: IoLock, then Content, then the header. A pinned buffer is never evicted.
namespace PgWal.Pages;

internal sealed class BufferDescriptor(int index)
{
    public readonly int Index = index;
    public readonly ReaderWriterLockSlim Content = new(LockRecursionPolicy.NoRecursion);
    public readonly object IoLock = new();

    // Guarded by lock(this).
    public BufferTag Tag;
    public bool Mapped;              // Tag is in the mapping table
    public bool Valid;               // page holds Tag's content
    public bool Loading;             // content being read; waiters Monitor.Wait(this)
    public bool Dirty;
    public bool CheckpointNeeded;    // dirty when the current checkpoint started
    public int Pins;
    public int UsageCount;           // clock-sweep credit, at most MaxUsageCount

    public const int MaxUsageCount = 5;
}
