// PageWindow: the reader's view of WAL pages. Reads ahead from the IPageSource in large chunks
// (never across a segment boundary), and validates each page header the first time it is used
// (xlogreader.c ReadPageInternal + XLogReaderValidatePageHeader), with PostgreSQL's messages.
// Like PostgreSQL, entering a new segment anywhere but its first page validates that first page
// too, so the long header's identity checks always run. Single-threaded; owned by one WalReader.
using PgWal.Format;

namespace PgWal.Read;

internal sealed class PageWindow
{
    private readonly IPageSource _source;
    private WalReaderOptions _options;     // replaced only by SetOptions (a new stop point)
    private readonly WalGeometry _geometry;
    private readonly byte[] _buffer;
    private readonly byte[] _firstPage = new byte[WalGeometry.PageSize];
    private readonly bool[] _validated;

    private Lsn _start;           // first byte in _buffer; a page boundary
    private int _length;          // valid bytes in _buffer
    private SegmentNumber _validatedSegment = new(ulong.MaxValue);
    private Lsn _latestPagePtr;
    private TimelineId _latestPageTli;
    // The page the last successful Ensure made available (records mostly follow each other on one
    // page, and this skips the lookups for them); cleared whenever the buffer changes.
    private Lsn _hotPage = Lsn.Invalid;
    private int _hotOffset, _hotAvailable;

    public PageWindow(IPageSource source, WalReaderOptions options)
    {
        _source = source;
        _options = options;
        _geometry = options.Geometry;
        int size = Math.Clamp(options.ReadAheadBytes, WalGeometry.PageSize, _geometry.SegmentSize);
        size -= size % WalGeometry.PageSize;
        _buffer = GC.AllocateUninitializedArray<byte>(size);
        _validated = new bool[size / WalGeometry.PageSize];
        Version = options.RequiredVersion;
    }

    /// <summary>The version locked in by the first valid page (or the required one).</summary>
    public WalVersion Version { get; private set; }

    public byte[] Buffer => _buffer;

    public WalGeometry Geometry => _geometry;

    /// <summary>New options with the same geometry (WalReader.SetStopAt); cached pages are dropped.</summary>
    public void SetOptions(WalReaderOptions options)
    {
        _options = options;
        Invalidate();
    }

    /// <summary>Forget cached pages (PostgreSQL's XLogReaderInvalReadState).</summary>
    public void Invalidate()
    {
        _hotPage = Lsn.Invalid;
        _length = 0;
        _validatedSegment = new SegmentNumber(ulong.MaxValue);
    }

    public string SegmentName(Lsn lsn) => _source.DescribeSegment(_options.Timeline, _geometry.SegmentOf(lsn));

    /// <summary>
    /// Makes the page at <paramref name="pagePtr"/> available, its header validated, for a caller that
    /// needs its first <paramref name="needed"/> bytes. Like pg_waldump's page reads, the whole page is
    /// required (only the part before StopAt when StopAt cuts it): a shorter file is a short read even
    /// when the bytes needed are there, and needing bytes at or past StopAt ends the read at the stop
    /// point. <paramref name="offset"/> is the page's offset in <see cref="Buffer"/>;
    /// <paramref name="available"/> how many of its bytes may be used.
    /// </summary>
    public WalReadError? Ensure(Lsn pagePtr, int needed, Lsn recordLsn, out int offset, out int available)
    {
        if (pagePtr == _hotPage && Math.Max(needed, PageHeader.ShortSize + 1) <= _hotAvailable)
        {
            offset = _hotOffset;
            available = _hotAvailable;
            return null;
        }
        offset = 0;
        available = 0;
        int pageBytes = PageBytes(pagePtr);
        // PostgreSQL's reader gives up unless it got more than a short header's worth of the page.
        if (Math.Max(needed, PageHeader.ShortSize + 1) > pageBytes)
            return Error(CorruptionKind.StopPointReached, pagePtr, recordLsn, "");
        var segment = _geometry.SegmentOf(pagePtr);
        if (segment != _validatedSegment && _geometry.OffsetInSegment(pagePtr) != 0)
        {
            var error = ValidateFirstPageOf(segment, recordLsn);
            if (error != null)
                return error;
        }

        if (!TryLocate(pagePtr, out offset, out available) || available < pageBytes)
        {
            var error = Load(pagePtr, recordLsn);
            if (error != null)
                return error;
            TryLocate(pagePtr, out offset, out available);
        }
        if (available < pageBytes)
            return ShortRead(pagePtr, available, pageBytes, recordLsn);
        available = pageBytes;
        int pageIndex = offset / WalGeometry.PageSize;
        if (!_validated[pageIndex])
        {
            bool isLong = (PageHeader.ReadInfo(_buffer.AsSpan(offset)) & PageInfo.LongHeader) != 0;
            if (isLong && pageBytes < PageHeader.LongSize)
                return Error(CorruptionKind.StopPointReached, pagePtr, recordLsn, "");
            var error = Validate(pagePtr, _buffer.AsSpan(offset, isLong ? PageHeader.LongSize : PageHeader.ShortSize), recordLsn);
            if (error != null)
            {
                Invalidate();
                return error;
            }
            _validated[pageIndex] = true;
            _validatedSegment = segment;
        }
        (_hotPage, _hotOffset, _hotAvailable) = (pagePtr, offset, available);
        return null;
    }

    // Bytes of the page at pagePtr that may be read: all of it, or what lies before StopAt.
    private int PageBytes(Lsn pagePtr)
    {
        if (!_options.StopAt.IsValid || pagePtr + WalGeometry.PageSize <= _options.StopAt)
            return WalGeometry.PageSize;
        return pagePtr >= _options.StopAt ? 0 : (int)(_options.StopAt - pagePtr);
    }

    // PostgreSQL's WALRead keeps reading after a short read; the error reports the read that returned
    // nothing: at the offset reached, 0 of the bytes still wanted.
    private WalReadError ShortRead(Lsn pagePtr, int got, int wanted, Lsn recordLsn)
        => Error(CorruptionKind.ShortRead, pagePtr, recordLsn,
            $"could not read from file {SegmentName(pagePtr)}, offset {_geometry.OffsetInSegment(pagePtr) + got}: read 0 of {wanted - got}");

    private bool TryLocate(Lsn pagePtr, out int offset, out int available)
    {
        offset = 0;
        available = 0;
        if (_length == 0 || pagePtr < _start || pagePtr.Value >= _start.Value + (ulong)_length)
            return false;
        offset = (int)(pagePtr - _start);
        available = Math.Min(WalGeometry.PageSize, _length - offset);
        return true;
    }

    private WalReadError? Load(Lsn pagePtr, Lsn recordLsn)
    {
        int want = (int)Math.Min((ulong)_buffer.Length,
            (ulong)(_geometry.SegmentSize - _geometry.OffsetInSegment(pagePtr)));
        if (_options.StopAt.IsValid)
        {
            if (pagePtr >= _options.StopAt)
                want = 0;
            else
                want = (int)Math.Min((ulong)want, _options.StopAt - pagePtr);
        }
        _hotPage = Lsn.Invalid;
        _start = pagePtr;
        _length = 0;
        Array.Clear(_validated);
        if (want == 0)
            return null;
        var result = _source.Read(_options.Timeline, pagePtr, _buffer.AsSpan(0, want));
        switch (result.Status)
        {
            case PageReadStatus.SegmentMissing:
                return Error(CorruptionKind.SegmentMissing, pagePtr, recordLsn,
                    result.Message ?? $"could not find file \"{SegmentName(pagePtr)}\": No such file or directory");
            case PageReadStatus.Error:
                return Error(CorruptionKind.SourceError, pagePtr, recordLsn,
                    result.Message ?? $"could not read from file {SegmentName(pagePtr)}");
        }
        _length = result.BytesRead;
        return null;
    }

    private WalReadError? ValidateFirstPageOf(SegmentNumber segment, Lsn recordLsn)
    {
        var segStart = _geometry.SegmentStart(segment);
        if (TryLocate(segStart, out int offset, out int available) && available >= PageHeader.LongSize)
        {
            // Already in the window: validate there (Ensure marks it).
            return Ensure(segStart, PageHeader.LongSize, recordLsn, out _, out _);
        }
        var result = _source.Read(_options.Timeline, segStart, _firstPage);
        if (result.Status == PageReadStatus.SegmentMissing)
            return Error(CorruptionKind.SegmentMissing, segStart, recordLsn,
                result.Message ?? $"could not find file \"{SegmentName(segStart)}\": No such file or directory");
        if (result.Status == PageReadStatus.Error)
            return Error(CorruptionKind.SourceError, segStart, recordLsn, result.Message ?? "read error");
        if (result.BytesRead < WalGeometry.PageSize)
            return ShortRead(segStart, result.BytesRead, WalGeometry.PageSize, recordLsn);
        var error = Validate(segStart, _firstPage, recordLsn);
        if (error == null)
            _validatedSegment = segment;
        return error;
    }

    /// <summary>XLogReaderValidatePageHeader: header of the page at <paramref name="pagePtr"/>.</summary>
    internal WalReadError? Validate(Lsn pagePtr, ReadOnlySpan<byte> header, Lsn recordLsn)
    {
        int offset = _geometry.OffsetInSegment(pagePtr);
        ushort magic = PageHeader.ReadMagic(header);
        var version = PageHeader.VersionOf(magic);
        if (version == WalVersion.Unknown || (Version != WalVersion.Unknown && version != Version))
        {
            // Worded as the version read so far would (the page's own magic says nothing).
            var bad = Error(CorruptionKind.BadPageMagic, pagePtr, recordLsn,
                $"invalid magic number {magic:X4} in {Where(Version, pagePtr, offset)}");
            bad.PageMagic = magic;
            return bad;
        }
        var info = PageHeader.ReadInfo(header);
        if ((info & ~PageInfo.All) != 0)
            return Error(CorruptionKind.InvalidPageInfo, pagePtr, recordLsn,
                $"invalid info bits {(ushort)info:X4} in {Where(version, pagePtr, offset)}");
        var hdr = PageHeader.Read(header);
        if (hdr.IsLong)
        {
            if (_options.SystemIdentifier != 0 && hdr.SystemIdentifier != _options.SystemIdentifier)
                return Error(CorruptionKind.SystemIdentifierMismatch, pagePtr, recordLsn,
                    $"WAL file is from different database system: WAL file database system identifier is {hdr.SystemIdentifier}, pg_control database system identifier is {_options.SystemIdentifier}");
            if (hdr.SegmentSize != (uint)_geometry.SegmentSize)
                return Error(CorruptionKind.SegmentSizeMismatch, pagePtr, recordLsn,
                    "WAL file is from different database system: incorrect segment size in page header");
            if (hdr.BlockSize != WalGeometry.PageSize)
                return Error(CorruptionKind.BlockSizeMismatch, pagePtr, recordLsn,
                    "WAL file is from different database system: incorrect XLOG_BLCKSZ in page header");
        }
        else if (offset == 0)
        {
            return Error(CorruptionKind.InvalidPageInfo, pagePtr, recordLsn,
                $"invalid info bits {(ushort)info:X4} in {Where(version, pagePtr, offset)}");
        }
        if (hdr.PageAddress != pagePtr)
            return Error(CorruptionKind.UnexpectedPageAddress, pagePtr, recordLsn,
                $"unexpected pageaddr {hdr.PageAddress} in {Where(version, pagePtr, offset)}");
        if (pagePtr > _latestPagePtr && hdr.Timeline < _latestPageTli)
            return Error(CorruptionKind.TimelineOutOfSequence, pagePtr, recordLsn,
                $"out-of-sequence timeline ID {hdr.Timeline} (after {_latestPageTli}) in {Where(version, pagePtr, offset)}");
        _latestPagePtr = pagePtr;
        _latestPageTli = hdr.Timeline;
        Version = version;
        return null;
    }

    // "log segment S, offset N" up to 15; 16 named the page's LSN too ("WAL segment S, LSN L,
    // offset N"). A version not yet known (no valid page read) keeps 15's wording.
    private string Where(WalVersion version, Lsn pagePtr, int offset) => version >= WalVersion.Pg16
        ? $"WAL segment {SegmentName(pagePtr)}, LSN {pagePtr}, offset {offset}"
        : $"log segment {SegmentName(pagePtr)}, offset {offset}";

    internal WalReadError Error(CorruptionKind kind, Lsn at, Lsn recordLsn, string message)
        => new(kind, at, recordLsn, message, SegmentName(at), _geometry.OffsetInSegment(at));

    /// <summary>Reads raw bytes straight from the source, bypassing the window (for probing past a failure).</summary>
    internal int ReadRaw(Lsn start, Span<byte> destination)
    {
        var r = _source.Read(_options.Timeline, start, destination);
        return r.Status == PageReadStatus.Ok ? r.BytesRead : 0;
    }
}
