// WalEngine.Redo: the engine's side of checkpoints and full-page writes (xlog.c Insert->RedoRecPtr,
// fullPageWrites, CreateCheckPoint's redo computation, CreateOverwriteContrecordRecord).
// The redo pointer changes only while all insertion locks are held, so an inserter that holds one
// lock sees a stable value and can re-check its image decisions (WalEngine.Insert.cs).
using PgWal.Format;
using PgWal.Insert;

namespace PgWal.Write;

public sealed partial class WalEngine
{
    private ulong _redoPointer;          // Insert->RedoRecPtr; written under all insertion locks
    private volatile bool _fullPageWrites = true;

    /// <summary>
    /// The redo point of the latest checkpoint (begun): a page whose LSN is at or before it gets a
    /// full-page image with its next change.
    /// </summary>
    public Lsn RedoPointer => new(Volatile.Read(ref _redoPointer));

    /// <summary>PostgreSQL's <c>full_page_writes</c>; may change at any time.</summary>
    public bool FullPageWrites
    {
        get => _fullPageWrites;
        set => _fullPageWrites = value;
    }

    // Insert->runningBackups: while any base backup runs, full-page images are written whatever
    // full_page_writes says (forcePageWrites) and new pages lose XLP_BKP_REMOVABLE. Changed under
    // all insertion locks, so an inserter holding one sees a stable value.
    private volatile int _runningBackups;

    // doPageWrites: full_page_writes, or forced by a running backup.
    private bool DoPageWrites => _fullPageWrites || _runningBackups > 0;

    /// <summary>Base backups running (pg_backup_start without its pg_backup_stop yet).</summary>
    public int RunningBackups => _runningBackups;

    /// <summary>A base backup starts (or, with -1, ends): forces full-page writes while any runs.</summary>
    internal void ChangeRunningBackups(int delta)
    {
        _locks.AcquireAll();
        try
        {
            int now = _runningBackups + delta;
            if (now < 0)
                throw new InvalidOperationException("no base backup is running");
            _runningBackups = now;
            _ring.SetBackupRunning(now > 0, _geometry.ToRecordEnd(_position.Current));   // at a page boundary: that page is still empty
        }
        finally
        {
            _locks.Release(InsertionLocks.Exclusive);
        }
    }

    /// <summary>
    /// Starts a checkpoint: under all insertion locks, the redo point becomes the position where the
    /// next record will start (past a page header when the tip is at a page boundary) and becomes
    /// the engine's redo pointer. Every record after it is replayed if this checkpoint completes.
    /// </summary>
    public Lsn BeginRedoPoint()
    {
        _fault.ThrowIfSet();
        _locks.AcquireAll();
        try
        {
            Lsn redo = _geometry.ToRecordStart(_position.Current);
            Volatile.Write(ref _redoPointer, redo.Value);
            return redo;
        }
        finally
        {
            _locks.Release(InsertionLocks.Exclusive);
        }
    }

    // Set once before any insert (the checkpoint recovery started from).
    internal void InitializeRedoPointer(Lsn redo) => Volatile.Write(ref _redoPointer, redo.Value);

    /// <summary>
    /// CreateOverwriteContrecordRecord: the engine must have started at the page where a torn
    /// record's continuation was missing; flags that page XLP_FIRST_IS_OVERWRITE_CONTRECORD, inserts
    /// XLOG_OVERWRITE_CONTRECORD naming the aborted record, and flushes it. Readers then skip the
    /// aborted record's first part.
    /// </summary>
    public unsafe Lsn InsertOverwriteContrecord(Lsn abortedRecord, long timestampTz)
    {
        Lsn expected = _geometry.ToRecordStart(_position.Current);
        Lsn page = WalGeometry.PageStart(expected);
        if (expected != page + (ulong)_geometry.PageHeaderSizeAt(page))
            throw new InvalidOperationException($"an overwrite-contrecord record must start a page, not {expected}");
        int slot = _locks.Acquire();
        try
        {
            byte* header = _ring.Get(expected, _locks, slot) - _geometry.PageHeaderSizeAt(page);
            PageHeader.AddInfoFlag(new Span<byte>(header, PageHeader.ShortSize), PageInfo.FirstIsOverwriteContRecord);
        }
        finally
        {
            _locks.Release(slot);
        }
        Span<byte> payload = stackalloc byte[SmallXlogPayloads.OverwriteContRecordSize];
        SmallXlogPayloads.WriteOverwriteContRecord(payload, abortedRecord, timestampTz);
        var builder = new RecordBuilder().Begin(RmgrIds.Xlog, XlogInfo.OverwriteContRecord).RegisterData(payload);
        Lsn end = Insert(builder, out Lsn start);
        if (start != expected)
            throw new InvalidOperationException($"overwrite-contrecord record went to {start}, not {expected}");
        Flush(end);
        return end;
    }

    /// <summary>
    /// Recycles an old segment file under a future name in [<paramref name="from"/>,
    /// <paramref name="upTo"/>] (its stale pages carry old addresses, so readers stop at them).
    /// False when no name was free; the caller then removes it.
    /// </summary>
    internal bool RecycleSegment(string oldName, SegmentNumber from, SegmentNumber upTo) => _segments.InstallRecycled(oldName, from, upTo);

    /// <summary>Removes an old segment file.</summary>
    internal void RemoveSegment(string oldName) => _segments.Remove(oldName);

    /// <summary>Segments created (zero-filled) so far.</summary>
    internal long SegmentsCreated => _segments.Created;

    private volatile bool _insertsClosed;   // set under all insertion locks by InsertLast

    /// <summary>
    /// Inserts a record under all insertion locks and closes insertion for good: every later Insert
    /// throws. The shutdown checkpoint uses it, so nothing can follow the record that tells the
    /// next open "shut down cleanly, nothing to replay" (PostgreSQL has no backends left by then).
    /// </summary>
    internal unsafe Lsn InsertLast(RecordBuilder builder, out Lsn start)
    {
        _fault.ThrowIfSet();
        var record = Assembler().Assemble(builder, RedoPointer, DoPageWrites, out _);
        ulong size = WalGeometry.MaxAlign((ulong)record.Length);
        _locks.AcquireAll();
        try
        {
            ThrowIfClosed();
            _position.Reserve(size, out var startPos, out var prev);
            start = _geometry.ToRecordStart(startPos);
            record.Complete(prev);
            Copy(InsertionLocks.Exclusive, record.Bytes, start);
            _locks.AddStats(InsertionLocks.Exclusive, (long)size, record.ImageCount);
            _insertsClosed = true;
            return _geometry.ToRecordEnd(startPos + size);
        }
        catch (Exception e) when (WalFault.IsStorageFailure(e))
        {
            throw _fault.Set(e);
        }
        finally
        {
            _locks.Release(InsertionLocks.Exclusive);
        }
    }

    // Under an insertion lock.
    private void ThrowIfClosed()
    {
        if (_disposed)
            throw new ObjectDisposedException(nameof(WalEngine));
        if (_insertsClosed)
            throw new InvalidOperationException("WAL insertion is closed: the shutdown checkpoint has been written");
    }
}
