// WalReader: reads and validates WAL records from an IPageSource (xlogreader.c XLogReadRecord /
// XLogDecodeNextRecord / XLogFindNextRecord). Records that fit on one page are decoded in place in
// the read-ahead window; records that cross pages are reassembled into a buffer that grows only
// with data already validated (page header, xlp_rem_len), never from an untrusted xl_tot_len.
// Not thread-safe. Everything a read returns is valid until the next call.
using System.Runtime.CompilerServices;
using PgWal.Format;

namespace PgWal.Read;

/// <summary>Reads WAL records in order, validating pages, headers, prev-links and CRCs.</summary>
public sealed partial class WalReader : IDisposable
{
    // Largest xl_tot_len accepted: what PostgreSQL's reader can allocate (MaxAllocSize, 1 GB - 1),
    // less room for its decoding overhead.
    internal const uint MaxReadableRecordLength = 0x3FFF_FFFF - 4096;

    private readonly IPageSource _source;
    private readonly PageWindow _window;
    private readonly WalGeometry _geometry;
    private readonly DecodedRecord _record = new();
    private readonly bool _classify;
    private byte[] _assembly = new byte[4 * WalGeometry.PageSize];

    private Lsn _nextRecPtr;      // where the next read starts (a record start or a page boundary)
    private Lsn _decodeRecPtr;    // start of the last record decoded; Invalid right after BeginRead (random access)

    /// <summary>
    /// Creates a reader over <paramref name="source"/>, which it owns (disposing the reader disposes
    /// the source); call <see cref="BeginRead"/> or <see cref="FindNextRecord"/> first.
    /// </summary>
    public WalReader(IPageSource source, WalReaderOptions options)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(options);
        _source = source;
        Options = options;
        _geometry = options.Geometry;
        _window = new PageWindow(source, options);
        _classify = options.ClassifyEndOfWal;
    }

    /// <summary>The options in force.</summary>
    public WalReaderOptions Options { get; private set; }

    /// <summary>
    /// Moves the stop point (a standby reads up to what its walreceiver flushed, which grows).
    /// Cached pages are dropped; continue with <see cref="BeginRead"/> at the next record.
    /// </summary>
    internal void SetStopAt(Lsn stopAt)
    {
        Options = Options with { StopAt = stopAt };
        _window.SetOptions(Options);
    }

    /// <summary>The segment geometry.</summary>
    public WalGeometry Geometry => _geometry;

    /// <summary>Start of the last record returned (PostgreSQL's <c>ReadRecPtr</c>); Invalid right after <see cref="BeginRead"/>.</summary>
    public Lsn ReadRecPtr { get; private set; }

    /// <summary>Where the next record is expected (PostgreSQL's <c>EndRecPtr</c>).</summary>
    public Lsn EndRecPtr { get; private set; }

    /// <summary>The PostgreSQL version of the pages read so far.</summary>
    public WalVersion Version => _window.Version;

    /// <summary>
    /// When the last failed read was assembling a record that crosses pages: that record's start
    /// (PostgreSQL's <c>abortedRecPtr</c>), else Invalid.
    /// </summary>
    public Lsn AbortedRecordLsn { get; private set; }

    /// <summary>With <see cref="AbortedRecordLsn"/>: the page where its continuation was missing.</summary>
    public Lsn MissingContinuationLsn { get; private set; }

    /// <summary>
    /// Set when a record was abandoned because the next page carried XLP_FIRST_IS_OVERWRITE_CONTRECORD
    /// (PostgreSQL's <c>overwrittenRecPtr</c>).
    /// </summary>
    public Lsn OverwrittenRecordLsn { get; private set; }

    /// <summary>
    /// Positions the reader at a record start (PostgreSQL's <c>XLogBeginRead</c>). Cached pages are
    /// dropped, so bytes that changed in the source since they were read are read again.
    /// </summary>
    public void BeginRead(Lsn recordStart)
    {
        if (!recordStart.IsValid)
            throw new ArgumentException("cannot begin reading at an invalid LSN", nameof(recordStart));
        _window.Invalidate();
        _nextRecPtr = recordStart;
        EndRecPtr = recordStart;
        ReadRecPtr = Lsn.Invalid;
        _decodeRecPtr = Lsn.Invalid;
    }

    /// <summary>
    /// Finds the first valid record at or after <paramref name="from"/>, which need not be a record
    /// start, and positions the reader there (PostgreSQL's <c>XLogFindNextRecord</c>).
    /// </summary>
    /// <returns>The record's LSN, or Invalid (with <paramref name="error"/>) when none was found.</returns>
    public Lsn FindNextRecord(Lsn from, out WalReadError? error)
    {
        error = null;
        Lsn tmp = from;
        while (true)
        {
            Lsn pagePtr = WalGeometry.PageStart(tmp);
            int recOff = WalGeometry.OffsetInPage(tmp);
            error = _window.Ensure(pagePtr, recOff, from, out int offset, out _);
            if (error != null)
            {
                _window.Invalidate();
                return Lsn.Invalid;
            }
            var page = _window.Buffer.AsSpan(offset);
            var info = PageHeader.ReadInfo(page);
            int headerSize = (info & PageInfo.LongHeader) != 0 ? PageHeader.LongSize : PageHeader.ShortSize;
            if ((info & PageInfo.FirstIsContRecord) != 0)
            {
                uint rem = PageHeader.ReadRemainingLength(page);
                ulong aligned = WalGeometry.MaxAlign(rem);
                if (aligned >= (ulong)(WalGeometry.PageSize - headerSize))
                {
                    tmp = pagePtr + WalGeometry.PageSize;
                    continue;
                }
                tmp = pagePtr + (ulong)headerSize + aligned;
                break;
            }
            tmp = pagePtr + (ulong)headerSize;
            break;
        }

        BeginRead(tmp);
        while (true)
        {
            var outcome = ReadRecord();
            if (!outcome.IsRecord)
            {
                error = outcome.Error;
                _window.Invalidate();
                return Lsn.Invalid;
            }
            if (from <= ReadRecPtr)
            {
                Lsn found = ReadRecPtr;
                BeginRead(found);
                return found;
            }
        }
    }

    /// <summary>Reads the next record.</summary>
    public ReadOutcome ReadRecord()
    {
        AbortedRecordLsn = Lsn.Invalid;
        MissingContinuationLsn = Lsn.Invalid;
        var error = ReadNext();
        if (error == null)
        {
            ReadRecPtr = _record.Lsn;
            EndRecPtr = _record.NextLsn;
            return new ReadOutcome(_record);
        }
        if (_classify)
            EndOfWalClassifier.Classify(error, _window, _geometry);
        else if (error.Kind is CorruptionKind.StopPointReached)
            error.EndOfWal = EndOfWalReason.StopPoint;
        else if (error.Kind is CorruptionKind.SegmentMissing or CorruptionKind.ShortRead)
            error.EndOfWal = EndOfWalReason.EndOfSource;
        _window.Invalidate();
        return new ReadOutcome(error);
    }

    private WalReadError? ReadNext()
    {
        Lsn recPtr = _nextRecPtr;
        bool randomAccess = !_decodeRecPtr.IsValid;
        Lsn messageLsn = ReadRecPtr;

    restart:
        Lsn pagePtr = WalGeometry.PageStart(recPtr);
        int recOff = WalGeometry.OffsetInPage(recPtr);
        var error = _window.Ensure(pagePtr, Math.Min(recOff + RecordHeader.Size, WalGeometry.PageSize), recPtr, out int pageOffset, out int available);
        if (error != null)
            return error;
        byte[] buf = _window.Buffer;
        var info = PageHeader.ReadInfo(buf.AsSpan(pageOffset));
        int headerSize = (info & PageInfo.LongHeader) != 0 ? PageHeader.LongSize : PageHeader.ShortSize;
        if (recOff == 0)
        {
            recPtr += (ulong)headerSize;
            recOff = headerSize;
            error = _window.Ensure(pagePtr, Math.Min(recOff + RecordHeader.Size, WalGeometry.PageSize), recPtr, out pageOffset, out available);
            if (error != null)
                return error;
            buf = _window.Buffer;
        }
        else if (recOff < headerSize || (recPtr.Value & 7) != 0)
        {
            // Inside the page header, or not MAXALIGNed (records never start there).
            return InvalidOffset(recPtr, headerSize, recOff);
        }
        if ((info & PageInfo.FirstIsContRecord) != 0 && recOff == headerSize)
            return Fail(CorruptionKind.ContRecordRequested, recPtr, default);

        int recordOffset = pageOffset + recOff;
        uint totalLength = RecordHeader.ReadTotalLength(buf.AsSpan(recordOffset));
        bool gotHeader;
        if (recOff <= WalGeometry.PageSize - RecordHeader.Size)
        {
            error = ValidateHeader(buf.AsSpan(recordOffset), recPtr, randomAccess);
            if (error != null)
                return error;
            gotHeader = true;
        }
        else
        {
            if (totalLength < RecordHeader.Size)
                return InvalidLength(recPtr, totalLength);
            gotHeader = false;
        }

        Lsn nextRecPtr;
        if (totalLength > (uint)(WalGeometry.PageSize - recOff))
        {
            // The record continues on following pages (kept out of this method: its locals would
            // be set up on every call).
            error = AssembleAcrossPages(ref recPtr, pagePtr, recOff, totalLength, gotHeader, randomAccess, available, out nextRecPtr, out bool restart);
            if (restart)
                goto restart;
            if (error != null)
                return error;
        }
        else
        {
            if (available < recOff + (int)totalLength)
            {
                error = _window.Ensure(pagePtr, recOff + (int)totalLength, recPtr, out pageOffset, out _);
                if (error != null)
                    return error;
                recordOffset = pageOffset + recOff;
            }
            var span = _window.Buffer.AsSpan(recordOffset, (int)totalLength);
            if (RecordHeader.ComputeCrc(span) != RecordHeader.ReadCrc(span))
                return BadChecksum(recPtr);
            nextRecPtr = recPtr + WalGeometry.MaxAlign(totalLength);
            _record.Reset(recPtr, _window.Buffer, recordOffset);
        }
        _decodeRecPtr = recPtr;

        if (_record.RmgrId == RmgrIds.Xlog && (_record.Info & RecordHeader.RmgrInfoMask) == XlogInfo.Switch)
        {
            // The rest of the segment belongs to the switch record.
            ulong seg = (ulong)_geometry.SegmentSize;
            nextRecPtr = new Lsn((nextRecPtr.Value + seg - 1) & ~(seg - 1));
        }
        _record.NextLsn = nextRecPtr;
        _record.Version = _window.Version;
        var (kind, message) = RecordBodyDecoder.Decode(_record.Bytes, _record, messageLsn);
        if (kind != CorruptionKind.None)
            return _window.Error(kind, recPtr, recPtr, message!);
        _nextRecPtr = nextRecPtr;
        return null;
    }

    // The header checks of xlogreader.c ValidXLogRecordHeader, on the record's first 24 bytes.
    private WalReadError? ValidateHeader(ReadOnlySpan<byte> header, Lsn recPtr, bool randomAccess)
    {
        uint totalLength = RecordHeader.ReadTotalLength(header);
        if (totalLength < RecordHeader.Size)
            return InvalidLength(recPtr, totalLength);
        byte rmgrId = RecordHeader.ReadRmgrId(header);
        if (!RmgrIds.IsValid(rmgrId))
            return Fail(CorruptionKind.InvalidResourceManager, recPtr, new Lsn(rmgrId));
        Lsn prev = RecordHeader.ReadPrev(header);
        bool prevOk = randomAccess ? prev < recPtr : prev == _decodeRecPtr;
        if (!prevOk)
            return Fail(CorruptionKind.BadPrevLink, recPtr, prev);
        return null;
    }

    // Messages are built out of line: interpolation inside the per-record methods gave them large
    // stack frames, zeroed on every call. `value` is the rmgr id or the prev-link.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private WalReadError Fail(CorruptionKind kind, Lsn recPtr, Lsn value) => _window.Error(kind, recPtr, recPtr, kind switch
    {
        CorruptionKind.ContRecordRequested => $"contrecord is requested by {recPtr}",
        CorruptionKind.InvalidResourceManager => $"invalid resource manager ID {value.Value} at {recPtr}",
        _ => $"record with incorrect prev-link {value} at {recPtr}",
    });

    [MethodImpl(MethodImplOptions.NoInlining)]
    private WalReadError InvalidOffset(Lsn recPtr, int headerSize, int recOff)
        => _window.Error(CorruptionKind.InvalidRecordOffset, recPtr, recPtr,
            _window.Version >= WalVersion.Pg16
                ? $"invalid record offset at {recPtr}: expected at least {headerSize}, got {recOff}"   // 16's wording
                : $"invalid record offset at {recPtr}");

    [MethodImpl(MethodImplOptions.NoInlining)]
    private WalReadError InvalidLength(Lsn recPtr, uint got)
        => _window.Error(CorruptionKind.InvalidRecordLength, recPtr, recPtr,
            _window.Version >= WalVersion.Pg16
                ? $"invalid record length at {recPtr}: expected at least {RecordHeader.Size}, got {got}"   // 16's wording
                : $"invalid record length at {recPtr}: wanted {RecordHeader.Size}, got {got}");

    [MethodImpl(MethodImplOptions.NoInlining)]
    private WalReadError BadChecksum(Lsn recPtr)
        => _window.Error(CorruptionKind.BadChecksum, recPtr, recPtr,
            $"incorrect resource manager data checksum in record at {recPtr}");

    private WalReadError Aborted(WalReadError error, Lsn recPtr, Lsn missingPage)
    {
        AbortedRecordLsn = recPtr;
        MissingContinuationLsn = missingPage;
        return error;
    }

    // Grows the reassembly buffer geometrically, but only to hold bytes already read and validated.
    private void EnsureAssemblyCapacity(int needed)
    {
        if (needed <= _assembly.Length)
            return;
        int size = (int)Math.Min(Math.Max((long)_assembly.Length * 2, needed), Array.MaxLength);
        var bigger = GC.AllocateUninitializedArray<byte>(size);
        _assembly.CopyTo(bigger, 0);
        _assembly = bigger;
    }

    /// <summary>Disposes the page source the reader was created with.</summary>
    public void Dispose() => _source.Dispose();
}
