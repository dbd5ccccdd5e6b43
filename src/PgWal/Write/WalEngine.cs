// WalEngine: the concurrent WAL engine — PostgreSQL's XLogInsert/XLogFlush design. Many threads
// insert at once: each assembles its record outside any lock, reserves space at the tip
// (InsertPosition), and copies into the buffer ring under one of N insertion locks
// (WalEngine.Insert.cs). Flushes go through group commit (GroupCommit → WalFileWriter, one writer at
// a time); a background WAL writer flushes asynchronous commits and prepares pages and segments.
// Positions: NextRecord/InsertedUpTo are reservations (may still be being copied); WrittenUpTo and
// FlushedUpTo describe the files. FlushedUpTo <= WrittenUpTo <= InsertedUpTo, all only grow.
// Failure is final: the first storage error faults the engine (WalFault) for every later call.
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using PgWal.Buffers;
using PgWal.Diagnostics;
using PgWal.Format;
using PgWal.Insert;
using PgWal.Storage;

namespace PgWal.Write;

/// <summary>
/// A WAL engine: concurrent record insertion into WAL buffers, group commit, a background WAL
/// writer. Thread-safe.
/// </summary>
public sealed partial class WalEngine : IDisposable
{
    private readonly WalOptions _options;
    private readonly WalGeometry _geometry;
    private readonly ILogger _logger;
    private readonly WalFault _fault = new();
    private readonly InsertionLocks _locks;
    private readonly InsertPosition _position;
    private readonly WalBufferRing _ring;
    private readonly SegmentProvider _segments;
    private readonly WalFileWriter _writer;
    private readonly GroupCommit _groupCommit;
    private readonly WalMetrics _metrics;
    private readonly BackgroundWalWriter? _background;
    private readonly Func<bool> _backgroundStopping;   // the walwriter is shutting down (cached: no allocation per step)
    private readonly ulong _writeBehindBytes;  // unwritten WAL that wakes the background writer
    private ulong _asyncFlushRequest;   // XLogCtl->asyncXactLSN: highest LSN an async commit wants durable
    private int _preallocating;         // 1 while a pool thread creates upcoming segments
    private readonly ulong _usableLimit; // usable byte position of EndOfAddressSpace: no reservation may end beyond it
    private volatile bool _disposed;
    private volatile WalCompression _compression;

    /// <summary>Starts an engine writing into <paramref name="storage"/> at <paramref name="start"/>.</summary>
    public WalEngine(IWalStorage storage, WalOptions options, WalStartPoint start)
    {
        ArgumentNullException.ThrowIfNull(storage);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(start);
        options.Validate();
        _options = options;
        _compression = options.Compression;
        _geometry = options.Geometry;
        if (start.End >= _geometry.EndOfAddressSpace)
            throw new ArgumentOutOfRangeException(nameof(start), start.End, $"WAL cannot start at {start.End}: the WAL address space ends at {_geometry.EndOfAddressSpace}");
        _usableLimit = _geometry.ToUsableBytePosition(_geometry.EndOfAddressSpace).Value;
        _logger = options.LoggerFactory?.CreateLogger("PgWal.WalEngine") ?? NullLogger.Instance;
        _locks = new InsertionLocks(options.InsertionLocks);
        _position = new InsertPosition(_geometry, _geometry.ToUsableBytePosition(start.End), start.LastRecord);
        _ring = new WalBufferRing(_geometry, options.Timeline, options.SystemIdentifier, options.WalBuffers);
        _ring.Start(WalGeometry.PageStart(start.End), start.PagePrefix);
        _writeBehindBytes = (ulong)_ring.Bytes / 4;
        _segments = new SegmentProvider(storage, _geometry, options.Timeline, new SegmentOpenOptions(options.SyncMethod, options.DirectIo), _fault);
        _metrics = new WalMetrics(() => Stats, storage.Location, options.MeterFactory, _logger, options.SlowSyncThreshold);
        _writer = new WalFileWriter(_geometry, _ring, _locks, _position, _segments, _fault, _metrics, options.SyncMethod, start.End);
        _ring.Evictor = _writer;
        _groupCommit = new GroupCommit(FlushRound, () => _writer.FlushedUpTo, _fault, options.CommitDelay, options.CommitSiblings);
        _backgroundStopping = () => _background is { StopRequested: true };
        if (options.WalWriterDelay > TimeSpan.Zero)
        {
            _background = new BackgroundWalWriter(BackgroundStep, options.WalWriterDelay, _logger);
            _writer.SegmentOpened = _ => _background.Wake();
        }
        _logger.LogDebug("WAL engine started at {Start} ({Buffers} kB of WAL buffers, {Locks} insertion locks)",
            start.End, _ring.Bytes / 1024, options.InsertionLocks);
    }

    /// <summary>
    /// Called when a segment is complete and durable (its last page written and synced), under
    /// the write lock: the archiver's notification. Set before any WAL is written; must not throw.
    /// </summary>
    internal Action<SegmentNumber>? SegmentFinished
    {
        set => _writer.SegmentFinished = value;
    }

    /// <summary>The engine's settings.</summary>
    public WalOptions Options => _options;

    /// <summary>
    /// Compression of full-page images in records inserted from now on (PostgreSQL's
    /// <c>wal_compression</c>, which may change at any time). Starts as <see cref="WalOptions.Compression"/>.
    /// </summary>
    /// <exception cref="InvalidOperationException">The codec's system library is not available.</exception>
    public WalCompression Compression
    {
        get => _compression;
        set
        {
            if (value != WalCompression.None && value != WalCompression.Pglz)
                _ = new RecordAssembler(value); // fails now, not in the middle of an insert, when the library is missing
            _compression = value;
        }
    }

    /// <summary>The segment geometry.</summary>
    public WalGeometry Geometry => _geometry;

    /// <summary>End of everything reserved for insertion so far (PostgreSQL's insert LSN).</summary>
    public Lsn InsertedUpTo => _position.ReservedUpTo;

    /// <summary>Where the next record will start.</summary>
    public Lsn NextRecordLsn => _geometry.ToRecordStart(_position.Current);

    /// <summary>Start of the last record reserved (the next record's xl_prev).</summary>
    public Lsn LastRecordLsn => _position.Previous;

    /// <summary>WAL written to the segment files (not necessarily durable) up to here.</summary>
    public Lsn WrittenUpTo => _writer.WrittenUpTo;

    /// <summary>WAL durable up to here.</summary>
    public Lsn FlushedUpTo => _writer.FlushedUpTo;

    /// <summary>Signalled each time <see cref="FlushedUpTo"/> advances (walsenders wait on it).</summary>
    public FlushNotifier Flushed => _writer.Flushed;

    /// <summary>The first storage failure once the engine is faulted; otherwise null.</summary>
    public Exception? Fault => _fault.First;

    /// <summary>Faults the engine on purpose (a PANIC): every later Insert and Flush throws <paramref name="reason"/>.</summary>
    internal void Panic(Exception reason) => _fault.Set(reason);

    /// <summary>The statistics now (pg_stat_wal).</summary>
    public WalStats Stats
    {
        get
        {
            var (records, images, bytes) = _locks.Totals();
            var (writes, syncs, writeTime, syncTime) = _writer.Counters;
            return new WalStats(records, images, bytes, _ring.BuffersFull, writes, syncs, writeTime, syncTime, _segments.Created);
        }
    }

    /// <summary>
    /// Makes the WAL durable up to <paramref name="upTo"/>, blocking. Concurrent callers are served
    /// by one sync where possible (group commit).
    /// </summary>
    /// <exception cref="WalFaultedException">A write or sync failed, now or earlier.</exception>
    /// <exception cref="InvalidOperationException"><paramref name="upTo"/> is beyond the inserted WAL.</exception>
    public void Flush(Lsn upTo)
    {
        ThrowIfDisposed();
        _groupCommit.Flush(CheckFlushRequest(upTo));
    }

    // XLogFlush's "xlog flush request %X/%X is not satisfied": a request beyond everything inserted
    // cannot be met. Clamping it would hide the one way such an LSN arises — a page stamped by WAL
    // that no longer exists — and the page would then get no full-page image and be skipped by redo.
    private Lsn CheckFlushRequest(Lsn upTo)
    {
        Lsn inserted = InsertedUpTo;
        if (upTo > inserted)
            throw new InvalidOperationException($"WAL flush request {upTo} is not satisfied --- WAL inserted only up to {inserted}");
        return upTo;
    }

    /// <summary>
    /// Makes sure the WAL becomes durable up to <paramref name="upTo"/> without waiting for it when
    /// a flush is already in progress (the caller leads one otherwise); see <see cref="GroupCommit.Kick"/>.
    /// </summary>
    /// <exception cref="WalFaultedException">A write or sync failed, now or earlier.</exception>
    internal void Kick(Lsn upTo)
    {
        ThrowIfDisposed();
        _groupCommit.Kick(CheckFlushRequest(upTo));
    }

    /// <summary>Whether a group-commit flush is in progress now.</summary>
    internal bool FlushInProgress => _groupCommit.LeaderActive;

    /// <summary>Calls <paramref name="callback"/> once the engine faults (at once if it has).</summary>
    internal void OnFault(Action<Exception> callback) => _fault.OnFault(callback);

    /// <summary>Makes everything inserted so far durable, blocking.</summary>
    public void Flush() => Flush(InsertedUpTo);

    /// <summary>
    /// Completes when the WAL is durable up to <paramref name="upTo"/>; synchronously when it
    /// already is. The caller's thread may perform the flush itself.
    /// </summary>
    /// <exception cref="WalFaultedException">A write or sync failed, now or earlier.</exception>
    /// <exception cref="InvalidOperationException"><paramref name="upTo"/> is beyond the inserted WAL.</exception>
    public ValueTask FlushAsync(Lsn upTo, CancellationToken cancellationToken = default)
    {
        if (_disposed)
            return ValueTask.FromException(new ObjectDisposedException(nameof(WalEngine)));
        if (upTo > InsertedUpTo)
            return ValueTask.FromException(new InvalidOperationException($"WAL flush request {upTo} is not satisfied --- WAL inserted only up to {InsertedUpTo}"));
        return _groupCommit.FlushAsync(upTo, cancellationToken);
    }

    /// <summary>
    /// Asks for <paramref name="upTo"/> to become durable soon, without waiting (an asynchronous
    /// commit, PostgreSQL's XLogSetAsyncXactLSN): the background writer flushes it within three
    /// times <see cref="WalOptions.WalWriterDelay"/>.
    /// </summary>
    public void RequestFlush(Lsn upTo)
    {
        ulong current = Volatile.Read(ref _asyncFlushRequest);
        while (upTo.Value > current)
        {
            ulong seen = Interlocked.CompareExchange(ref _asyncFlushRequest, upTo.Value, current);
            if (seen == current)
                break;
            current = seen;
        }
        if (_background != null && upTo.Value >= FlushedUpTo.Value + (ulong)_options.WalWriterFlushAfter)
            _background.Wake();
    }

    // One group-commit round: wait for every insertion reserved so far, then write and sync it all.
    private Lsn FlushRound()
    {
        Lsn reserved = _position.ReservedUpTo;
        Lsn finished = _locks.WaitForInsertions(reserved, reserved);
        _writer.Write(finished, flush: true);
        return _writer.FlushedUpTo;
    }

    // XLogBackgroundFlush plus the walwriter's housekeeping.
    private void BackgroundStep()
    {
        if (_fault.IsSet)
            return;
        Lsn reserved = _position.ReservedUpTo;
        Lsn target = WalGeometry.PageStart(reserved);   // completed pages
        Lsn requested = new(Volatile.Read(ref _asyncFlushRequest));
        if (requested > target)
            target = Lsn.Min(requested, reserved);
        if (target > _writer.FlushedUpTo)
        {
            _locks.WaitForInsertions(target, reserved);
            _writer.Write(target, flush: true);
            _groupCommit.CompleteCovered();
        }
        ulong ahead = Math.Min((ulong)_ring.Bytes, _geometry.EndOfAddressSpace - Lsn.Min(reserved, _geometry.EndOfAddressSpace));
        _ring.Advance(reserved + ahead, opportunistic: true, _backgroundStopping);
        if (_background is { StopRequested: true })
            return;
        PreallocateAfter(_geometry.SegmentOf(reserved));
    }

    // Creates the next segments on a pool thread, so neither inserts nor the flush cadence wait on it.
    private void PreallocateAfter(SegmentNumber current)
    {
        if (_options.PreallocateSegments == 0 || Interlocked.CompareExchange(ref _preallocating, 1, 0) != 0)
            return;
        ThreadPool.UnsafeQueueUserWorkItem(_ =>
        {
            try
            {
                // From where insertion is now, not where it was when this was queued: segments
                // passed since may be archived and removed already (Preallocate refuses those too).
                var now = _geometry.SegmentOf(_position.ReservedUpTo);
                var segment = now.Value > current.Value ? now : current;
                for (int i = 0; i < _options.PreallocateSegments && !_disposed && segment.Value < _geometry.LastSegment.Value; i++)
                {
                    segment = segment.Next;
                    if (_segments.Preallocate(segment))
                        _logger.LogDebug("preallocated WAL segment {Segment}", _segments.FileName(segment));
                }
            }
            catch (WalFaultedException e)
            {
                // A sync failed, or a segment appeared whose name may not survive a power loss.
                _logger.LogCritical(e.InnerException, "PANIC: could not preallocate a WAL segment durably; the WAL engine is faulted: {Message}", e.InnerException?.Message);
            }
            catch (Exception e) when (WalFault.IsStorageFailure(e))
            {
                // Nothing was left behind (e.g. no space to zero-fill): the write path creates the
                // segment itself when it gets there, and faults if that fails.
                _logger.LogWarning(e, "could not preallocate a WAL segment");
            }
            finally
            {
                Volatile.Write(ref _preallocating, 0);
            }
        }, null);
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_disposed, this);

    /// <summary>Stops the background writer, flushes everything inserted (unless faulted) and closes the files.</summary>
    public void Dispose() => Close(flush: true);

    // Without flush: stop as a crash would, leaving unflushed WAL unwritten (WalInstance.Abandon).
    private int _ringReaders;   // TryReadFromBuffers calls in progress; Close waits for them before freeing the ring

    /// <summary>
    /// Copies flushed WAL at <paramref name="from"/> out of the WAL buffers when it is still there
    /// (a walsender that keeps up never touches the files); false when it is not, or the engine is closed.
    /// </summary>
    public bool TryReadFromBuffers(Lsn from, Span<byte> destination)
    {
        if (from + (ulong)destination.Length > FlushedUpTo)
            return false;
        Interlocked.Increment(ref _ringReaders);
        try
        {
            return !_disposed && _ring.TryRead(from, destination);
        }
        finally
        {
            Interlocked.Decrement(ref _ringReaders);
        }
    }

    internal void Close(bool flush)
    {
        if (_disposed)
            return;
        _background?.Dispose();
        try
        {
            if (flush && !_fault.IsSet)
                _groupCommit.Flush(InsertedUpTo);
        }
        finally
        {
            // Wait out in-flight inserts and flushes before the ring memory goes away; later ones
            // see _disposed (inserts) or a closed group commit (flushes).
            _locks.AcquireAll();
            _disposed = true;
            _locks.Release(InsertionLocks.Exclusive);
            _groupCommit.Close();
            while (Volatile.Read(ref _preallocating) != 0 || Volatile.Read(ref _ringReaders) != 0)
                Thread.Sleep(1);
            _writer.Dispose();
            _metrics.Dispose();
            _ring.Dispose();
        }
    }
}
