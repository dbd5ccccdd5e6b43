// WalWriter: a single-threaded WAL writer. Places assembled records into 8 kB pages (short/long
// headers, continuation flags and xlp_rem_len, records and record headers split across pages and
// segments), handles XLOG SWITCH, writes whole pages with positional I/O and makes them durable
// with fdatasync on Flush. Space is accounted in usable byte positions exactly as PostgreSQL's
// ReserveXLogInsertLocation does, so xl_prev and end pointers match PostgreSQL's.
// Invariants: _writtenUpTo <= InsertedUpTo; _flushedUpTo <= InsertedUpTo; all move forward only;
// _flushedUpTo only covers bytes that were written and then fdatasynced without error (or zero
// bytes of a segment that was created zero-filled and synced). Every page in the buffer below
// _initializedUpTo has a valid header. The first storage failure faults the writer for good.
using PgWal.Format;
using PgWal.Insert;
using PgWal.Storage;

namespace PgWal.Write;

/// <summary>Writes WAL records into segment files, single-threaded.</summary>
public sealed class WalWriter : IDisposable
{
    private readonly IWalStorage _storage;
    private readonly WalWriterOptions _options;
    private readonly WalGeometry _geometry;
    private readonly RecordAssembler _assembler;
    private readonly byte[] _buffer;

    private UsableBytePosition _insertPos;   // next record's usable byte position
    private Lsn _prevRecord;                 // xl_prev for the next record
    private Lsn _bufferStart;                // LSN of _buffer[0]; aligned to the buffer size, inside one segment
    private Lsn _initializedUpTo;            // pages below have headers in _buffer
    private Lsn _writtenUpTo;
    private Lsn _flushedUpTo;
    private IWalSegmentFile? _file;
    private SegmentNumber _fileSegment;
    private readonly HashSet<SegmentNumber> _createdHere = []; // created zero-filled by this writer: dead space after a switch needs no writing
    private Exception? _fault;               // first storage failure; set once, never cleared

    /// <summary>
    /// Starts a writer whose first record goes at the start of <paramref name="segment"/>
    /// (right after its long page header), with <paramref name="prev"/> as that record's xl_prev.
    /// </summary>
    public WalWriter(IWalStorage storage, WalWriterOptions options, SegmentNumber segment, Lsn prev = default)
    {
        ArgumentNullException.ThrowIfNull(storage);
        ArgumentNullException.ThrowIfNull(options);
        if (options.SystemIdentifier == 0)
            throw new ArgumentException("a system identifier is required", nameof(options));
        _storage = storage;
        _options = options;
        _geometry = options.Geometry;
        _assembler = new RecordAssembler(options.Compression);
        int size = Math.Clamp(options.BufferBytes, WalGeometry.PageSize, _geometry.SegmentSize);
        size = 1 << (int)Math.Log2(size); // a power of two, so buffer windows never straddle segments
        _buffer = new byte[size];
        Lsn start = _geometry.SegmentStart(segment);
        _insertPos = _geometry.ToUsableBytePosition(start);
        _prevRecord = prev;
        _bufferStart = start;
        _initializedUpTo = start;
        _writtenUpTo = start;
        _flushedUpTo = start;
    }

    /// <summary>The segment geometry.</summary>
    public WalGeometry Geometry => _geometry;

    /// <summary>Compression of full-page images in records inserted from now on.</summary>
    public WalCompression Compression
    {
        get => _assembler.Compression;
        set => _assembler.Compression = value;
    }

    /// <summary>End of the last inserted record (exclusive).</summary>
    public Lsn InsertedUpTo => _geometry.ToRecordEnd(_insertPos);

    /// <summary>Where the next record will start.</summary>
    public Lsn NextRecordLsn => _geometry.ToRecordStart(_insertPos);

    /// <summary>Start of the last inserted record (the next record's xl_prev).</summary>
    public Lsn LastRecordLsn => _prevRecord;

    /// <summary>WAL written to the files (not necessarily durable) up to here.</summary>
    public Lsn WrittenUpTo => _writtenUpTo;

    /// <summary>WAL durable up to here.</summary>
    public Lsn FlushedUpTo => _flushedUpTo;

    /// <summary>Assembles and inserts the builder's record; returns where it landed.</summary>
    /// <exception cref="WalFaultedException">An earlier write or sync failed.</exception>
    public InsertResult Insert(RecordBuilder builder, Lsn redoPointer = default, bool doPageWrites = false)
    {
        ThrowIfFaulted();
        var record = _assembler.Assemble(builder, redoPointer, doPageWrites);
        try
        {
            return Place(record, isSwitch: false);
        }
        catch (Exception e) when (IsStorageFailure(e))
        {
            throw Faulted(e);
        }
    }

    /// <summary>The first storage failure, once the writer is faulted; otherwise null.</summary>
    public Exception? Fault => _fault;

    private void ThrowIfFaulted()
    {
        if (_fault != null)
            throw new WalFaultedException($"WAL writer is faulted: {_fault.Message}", _fault);
    }

    private static bool IsStorageFailure(Exception e) => e is (IOException or UnauthorizedAccessException) and not WalFaultedException;

    // Any failure of a step that touches storage faults the writer; nothing is ever retried.
    private WalFaultedException Faulted(Exception e)
    {
        _fault ??= e;
        return new WalFaultedException($"WAL writer is faulted: {e.Message}", e);
    }

    /// <summary>
    /// Ends the current segment with an XLOG SWITCH record; the next record starts in the next
    /// segment. Returns the switch record's position (End = its end, as pg_switch_wal reports), or
    /// Start = End = the current position when already at a segment start (nothing inserted).
    /// </summary>
    public InsertResult SwitchSegment()
    {
        ThrowIfFaulted();
        if (_insertPos.Value % _geometry.UsableBytesPerSegment == 0)
            return new InsertResult(InsertedUpTo, InsertedUpTo);
        var builder = new RecordBuilder().Begin(RmgrIds.Xlog, XlogInfo.Switch);
        var record = _assembler.Assemble(builder);
        try
        {
            return Place(record, isSwitch: true);
        }
        catch (Exception e) when (IsStorageFailure(e))
        {
            throw Faulted(e);
        }
    }

    private InsertResult Place(AssembledRecord record, bool isSwitch)
    {
        int length = record.Length;
        Lsn start = _geometry.ToRecordStart(_insertPos);
        record.Complete(_prevRecord);
        ulong size = ((ulong)length + 7) & ~7UL;
        UsableBytePosition end = _insertPos + size;
        if (isSwitch)
        {
            ulong segLeft = _geometry.UsableBytesPerSegment - end.Value % _geometry.UsableBytesPerSegment;
            if (segLeft != _geometry.UsableBytesPerSegment)
                end += segLeft;
        }
        CopyToPages(record.Bytes, start);
        _prevRecord = start;
        _insertPos = end;
        Lsn endLsn = _geometry.ToRecordEnd(end);
        if (isSwitch)
        {
            // Report the end of the switch record itself, like XLogInsertRecord does.
            Lsn recordEnd = start + RecordHeader.Size;
            if (start.Value / WalGeometry.PageSize != recordEnd.Value / WalGeometry.PageSize)
                recordEnd += (ulong)_geometry.PageHeaderSizeAt(WalGeometry.PageStart(recordEnd));
            ZeroDeadSpace(WalGeometry.PageStart(recordEnd - 1) + WalGeometry.PageSize, endLsn);
            return new InsertResult(start, recordEnd);
        }
        return new InsertResult(start, endLsn);
    }

    // Copies a record into pages starting at `start`, creating page headers as pages are entered.
    // Must match the reader's reassembly rules (PageWindow/WalReader) and PostgreSQL's CopyXLogRecordToWAL.
    private void CopyToPages(ReadOnlySpan<byte> record, Lsn start)
    {
        Lsn cursor = start;
        int written = 0;
        while (written < record.Length)
        {
            Lsn pageStart = WalGeometry.PageStart(cursor);
            if (WalGeometry.OffsetInPage(cursor) == 0)
            {
                InitPage(pageStart, (uint)(record.Length - written), continuation: written > 0);
                cursor += (ulong)_geometry.PageHeaderSizeAt(pageStart);
            }
            else if (pageStart >= _initializedUpTo)
            {
                InitPage(pageStart, 0, continuation: false);
            }
            int inPage = WalGeometry.PageSize - WalGeometry.OffsetInPage(cursor);
            int n = Math.Min(inPage, record.Length - written);
            record.Slice(written, n).CopyTo(_buffer.AsSpan((int)(cursor - _bufferStart), n));
            written += n;
            cursor += (ulong)n;
        }
    }

    private void InitPage(Lsn pageStart, uint remainingLength, bool continuation)
    {
        MoveBufferTo(pageStart);
        var page = _buffer.AsSpan((int)(pageStart - _bufferStart), WalGeometry.PageSize);
        page.Clear();
        bool isLong = _geometry.OffsetInSegment(pageStart) == 0;
        var info = PageInfo.BackupRemovable
                   | (isLong ? PageInfo.LongHeader : PageInfo.None)
                   | (continuation ? PageInfo.FirstIsContRecord : PageInfo.None);
        new PageHeader(PageHeader.MagicPg15, info, _options.Timeline, pageStart, continuation ? remainingLength : 0,
            _options.SystemIdentifier, (uint)_geometry.SegmentSize, WalGeometry.PageSize).Write(page);
        _initializedUpTo = pageStart + WalGeometry.PageSize;
    }

    // Makes `pageStart` addressable in the buffer, writing out the buffer first when it is full.
    private void MoveBufferTo(Lsn pageStart)
    {
        Lsn bufferEnd = _bufferStart + (ulong)_buffer.Length;
        if (pageStart < bufferEnd)
            return;
        WriteOut(bufferEnd);
        if (_geometry.SegmentOf(pageStart) != _geometry.SegmentOf(_bufferStart))
            FinishSegment();
        _bufferStart = new Lsn(pageStart.Value - pageStart.Value % (ulong)_buffer.Length);
        Array.Clear(_buffer);
    }

    // Writes the pages holding [_writtenUpTo, upTo) (whole pages, including the partial last one).
    private void WriteOut(Lsn upTo)
    {
        Lsn limit = Lsn.Min(upTo, Lsn.Min(_initializedUpTo, _bufferStart + (ulong)_buffer.Length));
        if (limit <= _writtenUpTo)
            return;
        if (limit <= _bufferStart)
        {
            // Only the dead space after a switch lies below the buffer: zeros that are already on
            // disk (fresh file) or were zeroed by ZeroDeadSpace and synced with the segment.
            _writtenUpTo = limit;
            return;
        }
        Lsn from = Lsn.Max(WalGeometry.PageStart(_writtenUpTo), _bufferStart);
        Lsn to = new((limit.Value + WalGeometry.PageSize - 1) & ~(ulong)(WalGeometry.PageSize - 1));
        var file = FileFor(_geometry.SegmentOf(from));
        file.Write(_geometry.OffsetInSegment(from), _buffer.AsSpan((int)(from - _bufferStart), (int)(to - from)));
        _writtenUpTo = limit;
    }

    private void FinishSegment()
    {
        // PostgreSQL fsyncs a segment when it finishes writing it (XLogWrite's finishing_seg).
        if (_file != null)
        {
            _file.Sync();
            _file.Dispose();
            _file = null;
        }
    }

    private IWalSegmentFile FileFor(SegmentNumber segment)
    {
        if (_file != null && _fileSegment == segment)
            return _file;
        FinishSegment();
        string name = SegmentFileName.Format(_options.Timeline, segment, _geometry);
        if (_storage.Exists(name))
        {
            _file = _storage.Open(name);
        }
        else
        {
            _file = _storage.Create(name, _geometry.SegmentSize);
            _createdHere.Add(segment);
        }
        _fileSegment = segment;
        return _file;
    }

    // After a switch, [from, to) belongs to no record. PostgreSQL writes it as zero pages; a file
    // this writer created zero-filled already holds them, a reused one still holds old bytes.
    private void ZeroDeadSpace(Lsn from, Lsn to)
    {
        byte[]? zeros = null;
        while (from < to)
        {
            var segment = _geometry.SegmentOf(from);
            Lsn segmentEnd = _geometry.SegmentStart(segment.Next);
            Lsn stop = Lsn.Min(to, segmentEnd);
            if (!_createdHere.Contains(segment) && _storage.Exists(SegmentFileName.Format(_options.Timeline, segment, _geometry)))
            {
                zeros ??= new byte[Math.Min(1024 * 1024, _geometry.SegmentSize)];
                var file = FileFor(segment);
                for (Lsn p = from; p < stop; p += (ulong)zeros.Length)
                    file.Write(_geometry.OffsetInSegment(p), zeros.AsSpan(0, (int)Math.Min((ulong)zeros.Length, stop - p)));
            }
            from = stop;
        }
    }

    /// <summary>Writes and fdatasyncs the WAL up to <paramref name="upTo"/> (at most what was inserted).</summary>
    /// <exception cref="WalFaultedException">The write or sync failed now or earlier; nothing more is ever acknowledged.</exception>
    public void Flush(Lsn upTo)
    {
        ThrowIfFaulted();
        upTo = Lsn.Min(upTo, InsertedUpTo);
        if (upTo <= _flushedUpTo)
            return;
        try
        {
            // Pages before the buffer window were written when it moved on; finished segments were synced then.
            WriteOut(upTo);
            _file?.Sync();
        }
        catch (Exception e) when (IsStorageFailure(e))
        {
            throw Faulted(e);
        }
        _flushedUpTo = Lsn.Max(_flushedUpTo, upTo);
    }

    /// <summary>Writes and fdatasyncs everything inserted.</summary>
    public void Flush() => Flush(InsertedUpTo);

    /// <summary>Flushes (unless faulted) and closes the current segment file.</summary>
    public void Dispose()
    {
        try
        {
            if (_fault == null)
                Flush();
        }
        finally
        {
            _file?.Dispose();
            _file = null;
        }
    }
}
