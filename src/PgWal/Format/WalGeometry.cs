// WalGeometry: page/segment arithmetic for one WAL segment size (xlog_internal.h macros and
// xlog.c's XLogBytePosToRecPtr / XLogBytePosToEndRecPtr / XLogRecPtrToBytePos).
// Pure functions of the segment size; the page size is fixed at PostgreSQL's default 8192.
// Invariant used everywhere: page size and both page-header sizes are multiples of 8, so the
// free space on any page is a multiple of 8 and a record (MAXALIGNed) may start in its last 8 bytes.
using System.Numerics;

namespace PgWal.Format;

/// <summary>
/// Converts between LSNs, segment numbers, page and segment offsets, and usable byte positions
/// for one WAL segment size (a power of two from 1 MB to 1 GB).
/// </summary>
public readonly struct WalGeometry : IEquatable<WalGeometry>
{
    /// <summary>WAL page size (<c>XLOG_BLCKSZ</c>).</summary>
    public const int PageSize = 8192;

    /// <summary>Default segment size, 16 MB.</summary>
    public const int DefaultSegmentSize = 16 * 1024 * 1024;

    /// <summary>Smallest valid segment size, 1 MB.</summary>
    public const int MinSegmentSize = 1024 * 1024;

    /// <summary>Largest valid segment size, 1 GB.</summary>
    public const int MaxSegmentSize = 1024 * 1024 * 1024;

    /// <summary>Usable bytes on a page with a short header.</summary>
    public const int UsableBytesPerPage = PageSize - PageHeader.ShortSize;

    private readonly int _segmentSize;
    private readonly int _segmentShift;

    /// <summary>Creates the geometry for <paramref name="segmentSize"/> bytes per segment.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Not a power of two between 1 MB and 1 GB.</exception>
    public WalGeometry(int segmentSize)
    {
        if (!IsValidSegmentSize(segmentSize))
            throw new ArgumentOutOfRangeException(nameof(segmentSize), segmentSize,
                "WAL segment size must be a power of two between 1 MB and 1 GB");
        _segmentSize = segmentSize;
        _segmentShift = BitOperations.Log2((uint)segmentSize);
    }

    /// <summary>The 16 MB default geometry.</summary>
    public static WalGeometry Default => new(DefaultSegmentSize);

    /// <summary>True for a power of two from 1 MB to 1 GB (PostgreSQL's <c>IsValidWalSegSize</c>).</summary>
    public static bool IsValidSegmentSize(long size)
        => size >= MinSegmentSize && size <= MaxSegmentSize && (size & (size - 1)) == 0;

    /// <summary>Bytes per segment file.</summary>
    public int SegmentSize => _segmentSize == 0 ? DefaultSegmentSize : _segmentSize;

    private int Shift => _segmentSize == 0 ? 24 : _segmentShift;

    /// <summary>Pages per segment.</summary>
    public int PagesPerSegment => SegmentSize / PageSize;

    /// <summary>Segments per 4 GB "xlogid" (the middle 8 hex digits of a file name).</summary>
    public uint SegmentsPerXLogId => (uint)(0x1_0000_0000UL >> Shift);

    /// <summary>Usable (header-free) bytes in one segment.</summary>
    public ulong UsableBytesPerSegment
        => (ulong)PagesPerSegment * UsableBytesPerPage - (PageHeader.LongSize - PageHeader.ShortSize);

    /// <summary>The segment containing <paramref name="lsn"/> (<c>XLByteToSeg</c>).</summary>
    public SegmentNumber SegmentOf(Lsn lsn) => new(lsn.Value >> Shift);

    /// <summary>
    /// The segment containing the byte just before <paramref name="lsn"/> (<c>XLByteToPrevSeg</c>):
    /// the segment an exclusive end position belongs to.
    /// </summary>
    public SegmentNumber SegmentOfEnd(Lsn lsn) => new((lsn.Value - 1) >> Shift);

    /// <summary>
    /// The last segment whose end is still an LSN (2^64 is not): WAL must end at or before
    /// <see cref="EndOfAddressSpace"/>. Arithmetic past it throws instead of wrapping to 0/0.
    /// </summary>
    public SegmentNumber LastSegment => new((ulong.MaxValue >> Shift) - 1);

    /// <summary>The end of the last usable segment: no WAL position may reach beyond it.</summary>
    public Lsn EndOfAddressSpace => new((ulong.MaxValue >> Shift) << Shift);

    /// <summary>The first byte of <paramref name="segment"/>.</summary>
    /// <exception cref="OverflowException">The segment lies beyond the 64-bit WAL address space.</exception>
    public Lsn SegmentStart(SegmentNumber segment)
        => segment.Value <= ulong.MaxValue >> Shift
            ? new(segment.Value << Shift)
            : throw new OverflowException($"WAL segment {segment.Value:X} is beyond the end of the WAL address space");

    /// <summary>Offset of <paramref name="lsn"/> within its segment file.</summary>
    public int OffsetInSegment(Lsn lsn) => (int)(lsn.Value & (ulong)(SegmentSize - 1));

    /// <summary>Offset of <paramref name="lsn"/> within its 8 kB page.</summary>
    public static int OffsetInPage(Lsn lsn) => (int)(lsn.Value & (PageSize - 1));

    /// <summary>The start of the page containing <paramref name="lsn"/>.</summary>
    public static Lsn PageStart(Lsn lsn) => new(lsn.Value & ~(ulong)(PageSize - 1));

    /// <summary>The first page boundary at or after <paramref name="lsn"/>.</summary>
    public static Lsn PageCeiling(Lsn lsn) => new((lsn.Value + PageSize - 1) & ~(ulong)(PageSize - 1));

    /// <summary><c>MAXALIGN</c>: <paramref name="length"/> rounded up to 8 bytes, as records are laid out.</summary>
    public static ulong MaxAlign(ulong length) => (length + 7) & ~7UL;

    /// <summary>True when <paramref name="lsn"/> lies in <paramref name="segment"/> (<c>XLByteInSeg</c>).</summary>
    public bool Contains(SegmentNumber segment, Lsn lsn) => SegmentOf(lsn) == segment;

    /// <summary>Size of the page header at <paramref name="pageStart"/>: long on a segment's first page.</summary>
    public int PageHeaderSizeAt(Lsn pageStart)
        => OffsetInSegment(pageStart) == 0 ? PageHeader.LongSize : PageHeader.ShortSize;

    /// <summary>
    /// True when a record may start at <paramref name="lsn"/>: past the (short) page header
    /// (PostgreSQL's <c>XRecOffIsValid</c>).
    /// </summary>
    public static bool IsValidRecordOffset(Lsn lsn) => OffsetInPage(lsn) >= PageHeader.ShortSize;

    /// <summary>
    /// The LSN of the record that starts at usable position <paramref name="pos"/>
    /// (<c>XLogBytePosToRecPtr</c>): a position at a page boundary lands after that page's header.
    /// </summary>
    public Lsn ToRecordStart(UsableBytePosition pos) => ToLsn(pos, endPointer: false);

    /// <summary>
    /// The LSN of an end position (<c>XLogBytePosToEndRecPtr</c>): a position exactly at a page
    /// boundary maps to the page start itself, not past its header.
    /// </summary>
    public Lsn ToRecordEnd(UsableBytePosition pos) => ToLsn(pos, endPointer: true);

    private Lsn ToLsn(UsableBytePosition pos, bool endPointer)
    {
        ulong usablePerSegment = UsableBytesPerSegment;
        ulong segments = pos.Value / usablePerSegment;
        ulong rem = pos.Value % usablePerSegment;
        ulong offset;
        const ulong firstPageUsable = PageSize - PageHeader.LongSize;
        if (rem < firstPageUsable)
        {
            offset = endPointer && rem == 0 ? 0 : rem + PageHeader.LongSize;
        }
        else
        {
            rem -= firstPageUsable;
            ulong pages = rem / UsableBytesPerPage;
            ulong inPage = rem % UsableBytesPerPage;
            offset = PageSize + pages * PageSize + (endPointer && inPage == 0 ? 0 : inPage + PageHeader.ShortSize);
        }
        if (segments > ulong.MaxValue >> Shift)
            throw new OverflowException($"usable WAL position {pos.Value} is beyond the end of the WAL address space");
        return new Lsn(checked((segments << Shift) + offset));
    }

    /// <summary>The usable byte position of <paramref name="lsn"/> (<c>XLogRecPtrToBytePos</c>).</summary>
    public UsableBytePosition ToUsableBytePosition(Lsn lsn)
    {
        ulong segments = lsn.Value >> Shift;
        ulong inSegment = lsn.Value & (ulong)(SegmentSize - 1);
        ulong page = inSegment / PageSize;
        ulong inPage = inSegment % PageSize;
        ulong result = segments * UsableBytesPerSegment;
        if (page == 0)
        {
            result += inPage > 0 ? inPage - PageHeader.LongSize : 0;
        }
        else
        {
            result += (PageSize - PageHeader.LongSize) + (page - 1) * UsableBytesPerPage
                      + (inPage > 0 ? inPage - PageHeader.ShortSize : 0);
        }
        return new UsableBytePosition(result);
    }

    /// <inheritdoc/>
    public bool Equals(WalGeometry other) => SegmentSize == other.SegmentSize;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is WalGeometry g && Equals(g);

    /// <inheritdoc/>
    public override int GetHashCode() => SegmentSize;

    /// <summary>Equality by segment size.</summary>
    public static bool operator ==(WalGeometry a, WalGeometry b) => a.Equals(b);

    /// <summary>Inequality by segment size.</summary>
    public static bool operator !=(WalGeometry a, WalGeometry b) => !a.Equals(b);

    /// <summary>Segment size in PostgreSQL's text form, e.g. "16MB".</summary>
    public override string ToString() => SegmentSize >= 1024 * 1024 * 1024
        ? $"{SegmentSize / (1024 * 1024 * 1024)}GB"
        : $"{SegmentSize / (1024 * 1024)}MB";
}
