// InsertionLocks: PostgreSQL's WAL insertion locks (WALInsertLocks). An inserter holds one lock while
// it reserves space and copies its record into the buffer ring, so many records are copied in
// parallel; a flusher learns how far insertion has completed (WaitXLogInsertionsToFinish) by
// looking at the locks, without taking them.
// Slot protocol: Held is 1 while owned. InsertingAt is 0 while the owner has published nothing —
// its reservation, if any, may lie anywhere at or after a reserved position read before looking —
// else it promises "everything I reserved below this LSN is copied". The owner raises it only
// before it waits for a buffer page (so the page's writer does not wait for it) and clears it
// before release. A holder of all locks (a switch, later a checkpoint) publishes ulong.MaxValue on
// all but the last, like WALInsertLockAcquireExclusive. Waiters spin and yield: holds are short.
using System.Runtime.InteropServices;

namespace PgWal.Insert;

internal sealed class InsertionLocks
{
    /// <summary>Slot index meaning "all locks held".</summary>
    public const int Exclusive = -1;

    // One cache-line pair per slot, so inserters on different slots never share a line.
    [StructLayout(LayoutKind.Explicit, Size = 128)]
    private struct Slot
    {
        [FieldOffset(64)] public int Held;
        [FieldOffset(72)] public ulong InsertingAt;
        // pg_stat_wal counters, updated only by the holder, read racily by snapshots.
        [FieldOffset(80)] public long Records;
        [FieldOffset(88)] public long FullPageImages;
        [FieldOffset(96)] public long Bytes;
    }

    private readonly Slot[] _slots;

    [ThreadStatic] private static int t_hint;

    public InsertionLocks(int count) => _slots = new Slot[count];

    public int Count => _slots.Length;

    /// <summary>Takes a free lock, preferring the one this thread used last (PostgreSQL's lockToTry).</summary>
    public int Acquire()
    {
        int n = _slots.Length;
        int i = (t_hint == 0 ? Environment.CurrentManagedThreadId : t_hint - 1) % n;
        var spin = new SpinWait();
        while (true)
        {
            if (Volatile.Read(ref _slots[i].Held) == 0 && Interlocked.CompareExchange(ref _slots[i].Held, 1, 0) == 0)
            {
                t_hint = i + 1; // 0 means "not chosen yet"
                return i;
            }
            i = i + 1 == n ? 0 : i + 1;
            spin.SpinOnce(sleep1Threshold: -1);
        }
    }

    /// <summary>Takes every lock, in order (an XLOG SWITCH or checkpoint record).</summary>
    public void AcquireAll()
    {
        for (int i = 0; i < _slots.Length; i++)
        {
            var spin = new SpinWait();
            while (Interlocked.CompareExchange(ref _slots[i].Held, 1, 0) != 0)
                spin.SpinOnce(sleep1Threshold: -1);
            if (i < _slots.Length - 1)
                Volatile.Write(ref _slots[i].InsertingAt, ulong.MaxValue);
        }
    }

    public void Release(int slot)
    {
        if (slot == Exclusive)
        {
            for (int i = _slots.Length - 1; i >= 0; i--)
                ReleaseOne(i);
            return;
        }
        ReleaseOne(slot);
    }

    private void ReleaseOne(int i)
    {
        Volatile.Write(ref _slots[i].InsertingAt, 0);
        Volatile.Write(ref _slots[i].Held, 0);
    }

    /// <summary>Publishes that the holder has copied everything it reserved below <paramref name="upTo"/>.</summary>
    public void UpdateInsertingAt(int slot, Lsn upTo)
        => Volatile.Write(ref _slots[slot == Exclusive ? _slots.Length - 1 : slot].InsertingAt, upTo.Value);

    /// <summary>Adds to the statistics kept in the held slot.</summary>
    public void AddStats(int slot, long bytes, int fullPageImages)
    {
        ref Slot s = ref _slots[slot == Exclusive ? _slots.Length - 1 : slot];
        s.Records++;
        s.Bytes += bytes;
        s.FullPageImages += fullPageImages;
    }

    public (long Records, long FullPageImages, long Bytes) Totals()
    {
        long records = 0, images = 0, bytes = 0;
        for (int i = 0; i < _slots.Length; i++)
        {
            records += Volatile.Read(ref _slots[i].Records);
            images += Volatile.Read(ref _slots[i].FullPageImages);
            bytes += Volatile.Read(ref _slots[i].Bytes);
        }
        return (records, images, bytes);
    }

    /// <summary>
    /// WaitXLogInsertionsToFinish: waits until every insertion below <paramref name="upTo"/> has been
    /// copied, and returns how far insertion is complete — at least <paramref name="upTo"/>, at most
    /// <paramref name="reservedUpTo"/> (the reserved end read before calling, which must be ≥ upTo).
    /// </summary>
    public Lsn WaitForInsertions(Lsn upTo, Lsn reservedUpTo)
    {
        ulong finished = reservedUpTo.Value;
        for (int i = 0; i < _slots.Length; i++)
        {
            ref Slot s = ref _slots[i];
            var spin = new SpinWait();
            while (true)
            {
                if (Volatile.Read(ref s.Held) == 0)
                    break; // free: no insertion in progress on this lock
                ulong at = Volatile.Read(ref s.InsertingAt);
                if (at != 0 && at >= upTo.Value)
                {
                    if (at < finished)
                        finished = at;
                    break;
                }
                spin.SpinOnce(sleep1Threshold: -1);
            }
        }
        return new Lsn(finished);
    }
}
