// InsertPosition: the reservation tip (PostgreSQL's CurrBytePos/PrevBytePos under insertpos_lck).
// Reserving is the only serialised step of an insert: a few additions under a spin lock, no LSN
// arithmetic (positions are usable byte positions; callers convert outside). xl_prev stays exact
// because the start of each reservation becomes the next one's prev in the same critical section.
using System.Runtime.InteropServices;
using PgWal.Format;

namespace PgWal.Insert;

internal sealed class InsertPosition
{
    /// <summary>PrevBytePos value meaning "no previous record" (xl_prev = 0/0).</summary>
    private const ulong NoPrevious = ulong.MaxValue;

    [StructLayout(LayoutKind.Explicit, Size = 192)]
    private struct State
    {
        [FieldOffset(64)] public int Lock;
        [FieldOffset(72)] public ulong Current;   // next record's usable byte position
        [FieldOffset(80)] public ulong Previous;  // last record's start, or NoPrevious
    }

    private readonly WalGeometry _geometry;
    private State _state;

    public InsertPosition(WalGeometry geometry, UsableBytePosition next, Lsn previous)
    {
        _geometry = geometry;
        _state.Current = next.Value;
        _state.Previous = previous == default ? NoPrevious : geometry.ToUsableBytePosition(previous).Value;
    }

    /// <summary>The reserved end (exclusive) as an end LSN; a lock-free read of a monotonic value.</summary>
    public Lsn ReservedUpTo => _geometry.ToRecordEnd(new UsableBytePosition(Volatile.Read(ref _state.Current)));

    /// <summary>The reserved tip as a usable byte position.</summary>
    public UsableBytePosition Current => new(Volatile.Read(ref _state.Current));

    /// <summary>The start of the last reserved record (xl_prev of the next), or 0/0.</summary>
    public Lsn Previous
    {
        get
        {
            Enter();
            ulong prev = _state.Previous;
            Exit();
            return ToLsn(prev);
        }
    }

    /// <summary>ReserveXLogInsertLocation: <paramref name="size"/> must be MAXALIGNed.</summary>
    public void Reserve(ulong size, out UsableBytePosition start, out Lsn prev)
    {
        Enter();
        ulong s = _state.Current;
        _state.Current = s + size;
        ulong p = _state.Previous;
        _state.Previous = s;
        Exit();
        start = new UsableBytePosition(s);
        prev = ToLsn(p);
    }

    /// <summary>
    /// ReserveXLogSwitch: reserves a switch record of <paramref name="size"/> bytes plus the rest of
    /// its segment. Returns false (nothing reserved) when the tip is already at a segment start.
    /// </summary>
    public bool ReserveSwitch(ulong size, out UsableBytePosition start, out UsableBytePosition end, out Lsn prev)
    {
        ulong perSegment = _geometry.UsableBytesPerSegment;
        Enter();
        ulong s = _state.Current;
        if (s % perSegment == 0)
        {
            Exit();
            start = end = new UsableBytePosition(s);
            prev = default;
            return false;
        }
        ulong e = s + size;
        if (e % perSegment != 0)
            e += perSegment - e % perSegment;
        _state.Current = e;
        ulong p = _state.Previous;
        _state.Previous = s;
        Exit();
        start = new UsableBytePosition(s);
        end = new UsableBytePosition(e);
        prev = ToLsn(p);
        return true;
    }

    private Lsn ToLsn(ulong pos) => pos == NoPrevious ? default : _geometry.ToRecordStart(new UsableBytePosition(pos));

    private void Enter()
    {
        if (Interlocked.CompareExchange(ref _state.Lock, 1, 0) == 0)
            return;
        var spin = new SpinWait();
        do
        {
            spin.SpinOnce(sleep1Threshold: -1);
        }
        while (Volatile.Read(ref _state.Lock) != 0 || Interlocked.CompareExchange(ref _state.Lock, 1, 0) != 0);
    }

    private void Exit() => Volatile.Write(ref _state.Lock, 0);
}
