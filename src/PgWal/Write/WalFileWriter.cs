// WalFileWriter: XLogWrite. Writes WAL from the buffer ring to segment files and syncs it, one
// caller at a time (PostgreSQL's WALWriteLock). Each call writes the completed range as a few large
// positional writes: one per run of pages that is contiguous both in the ring and in one segment.
// A segment is synced when its last page is written (PostgreSQL's finishing_seg), so every segment
// before the current file is durable and the flush pointer can move to its end.
// Invariants (under _lock): _flushedUpTo <= _writtenUpTo <= how far insertion had completed when
// the caller asked; _flushedUpTo only covers bytes written and then synced without error. Both only
// grow and are published with Volatile.Write, so anyone may read them lock-free. After the first
// storage failure nothing is written or synced again (WalFault).
using System.Diagnostics;
using PgWal.Buffers;
using PgWal.Diagnostics;
using PgWal.Format;
using PgWal.Insert;
using PgWal.Storage;

namespace PgWal.Write;

internal sealed class WalFileWriter : IWalBufferEvictor, IDisposable
{
    private readonly WalGeometry _geometry;
    private readonly WalBufferRing _ring;
    private readonly InsertionLocks _locks;
    private readonly InsertPosition _position;
    private readonly SegmentProvider _segments;
    private readonly WalFault _fault;
    private readonly WalMetrics _metrics;
    private readonly bool _writesAreDurable;   // O_DSYNC: a completed write is synced
    private readonly object _lock = new();

    private ulong _writtenUpTo;
    private ulong _flushedUpTo;
    private IWalSegmentFile? _file;            // guarded by _lock; null only when nothing written is unsynced
    private SegmentNumber _fileSegment;
    private bool _closed;                      // guarded by _lock: the ring may be freed, nothing is written

    // pg_stat_wal write/sync counters; written under _lock, read racily.
    private long _writes, _syncs, _writeTicks, _syncTicks;

    public WalFileWriter(WalGeometry geometry, WalBufferRing ring, InsertionLocks locks, InsertPosition position,
        SegmentProvider segments, WalFault fault, WalMetrics metrics, WalSyncMethod syncMethod, Lsn start)
    {
        _geometry = geometry;
        _ring = ring;
        _locks = locks;
        _position = position;
        _segments = segments;
        _fault = fault;
        _metrics = metrics;
        _writesAreDurable = syncMethod == WalSyncMethod.OpenDatasync;
        _writtenUpTo = _flushedUpTo = start.Value;
    }

    /// <summary>Signalled (under the write lock) each time the flush position advances.</summary>
    public FlushNotifier Flushed { get; } = new();

    /// <summary>Raised (under the write lock) when a new segment file is opened for writing.</summary>
    public Action<SegmentNumber>? SegmentOpened { get; set; }

    /// <summary>
    /// Raised (under the write lock) when a segment's last page has been written and synced: the
    /// segment is complete and durable (XLogArchiveNotifySeg's place). Must not throw.
    /// </summary>
    public Action<SegmentNumber>? SegmentFinished { get; set; }

    public Lsn WrittenUpTo => new(Volatile.Read(ref _writtenUpTo));

    public Lsn FlushedUpTo => new(Volatile.Read(ref _flushedUpTo));

    public (long Writes, long Syncs, TimeSpan WriteTime, TimeSpan SyncTime) Counters
        => (Volatile.Read(ref _writes), Volatile.Read(ref _syncs),
            Stopwatch.GetElapsedTime(0, Volatile.Read(ref _writeTicks)), Stopwatch.GetElapsedTime(0, Volatile.Read(ref _syncTicks)));

    /// <inheritdoc/>
    public void WriteForEviction(Lsn upTo)
    {
        Lsn reserved = _position.ReservedUpTo;
        upTo = Lsn.Min(upTo, reserved);
        _locks.WaitForInsertions(upTo, reserved);
        Write(upTo, flush: false);
    }

    /// <summary>
    /// Writes the WAL up to <paramref name="upTo"/> (every insertion below it must be complete) and,
    /// when <paramref name="flush"/> is set, makes it durable.
    /// </summary>
    /// <exception cref="WalFaultedException">The engine is (now) faulted.</exception>
    public void Write(Lsn upTo, bool flush)
    {
        lock (_lock)
        {
            _fault.ThrowIfSet();
            ObjectDisposedException.ThrowIf(_closed, this);
            try
            {
                if (upTo.Value > _writtenUpTo)
                    WriteLocked(upTo);
                if (flush && _flushedUpTo < _writtenUpTo)
                {
                    if (!_writesAreDurable)
                        SyncLocked();
                    Volatile.Write(ref _flushedUpTo, _writtenUpTo);
                    Flushed.Signal();
                }
            }
            catch (Exception e) when (WalFault.IsStorageFailure(e))
            {
                throw _fault.Set(e);
            }
        }
    }

    private void WriteLocked(Lsn upTo)
    {
        ulong pos = _writtenUpTo;
        ulong pageCeiling = WalGeometry.PageCeiling(upTo).Value;
        while (pos < upTo.Value)
        {
            Lsn from = WalGeometry.PageStart(new Lsn(pos));
            var segment = _geometry.SegmentOf(from);
            ulong segmentEnd = _geometry.SegmentStart(segment.Next).Value;
            int slot = _ring.SlotOf(from);
            ulong ringRunBytes = (ulong)(_ring.Pages - slot) * WalGeometry.PageSize;
            ulong ringRunEnd = ringRunBytes > ulong.MaxValue - from.Value ? ulong.MaxValue : from.Value + ringRunBytes;   // no wrap near 2^64
            ulong to = Math.Min(pageCeiling, Math.Min(segmentEnd, ringRunEnd));
            var file = FileFor(segment);
            long started = Stopwatch.GetTimestamp();
            file.Write(_geometry.OffsetInSegment(from), _ring.Slots(slot, (int)((to - from.Value) / WalGeometry.PageSize)));
            _writeTicks += Stopwatch.GetTimestamp() - started;
            _writes++;
            pos = Math.Min(upTo.Value, to);
            Volatile.Write(ref _writtenUpTo, pos);
            // finishing_seg: a completed segment is made durable and closed.
            bool finishing = pos == segmentEnd;
            if (finishing && !_writesAreDurable)
                SyncLocked();
            if (finishing || _writesAreDurable)
            {
                Volatile.Write(ref _flushedUpTo, pos);
                Flushed.Signal();
            }
            if (finishing)
            {
                _file!.Dispose();
                _file = null;
                SegmentFinished?.Invoke(segment);
            }
        }
    }

    // The flushed position moves only after this returns, so it must never succeed without syncing.
    private void SyncLocked()
    {
        if (_file == null)
            throw new InvalidOperationException($"WAL written up to {WrittenUpTo} is not durable, yet no segment file is open to sync");
        long started = Stopwatch.GetTimestamp();
        _file.Sync();
        long ticks = Stopwatch.GetTimestamp() - started;
        _syncTicks += ticks;
        _syncs++;
        _metrics.RecordSync(_file.Name, Stopwatch.GetElapsedTime(0, ticks));
    }

    private IWalSegmentFile FileFor(SegmentNumber segment)
    {
        if (_file != null && _fileSegment == segment)
            return _file;
        // Only reached at a segment boundary (the previous file was finished and closed) or at start.
        _file?.Dispose();
        _file = null;
        _file = _segments.Open(segment);
        _fileSegment = segment;
        SegmentOpened?.Invoke(segment);
        return _file;
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _closed = true;
            _file?.Dispose();
            _file = null;
        }
    }
}
