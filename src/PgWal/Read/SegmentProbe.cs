// SegmentProbe: what a WAL page or segment file holds, judged from page headers alone — zeros (a
// preallocated segment), pages of an earlier use (a recycled segment: addresses below its own),
// pages valid for their own address (WAL of this generation), or something else (damage, a foreign
// file). Recovery asks it what lies beyond the point where reading stopped; it never decides
// whether a record is valid (the reader does).
using PgWal.Format;

namespace PgWal.Read;

/// <summary>What a WAL page holds, judged from its header.</summary>
public enum PageContent
{
    /// <summary>All zeros.</summary>
    Zero,
    /// <summary>A valid header naming this very page (and, on a segment's first page, this system and segment size).</summary>
    Valid,
    /// <summary>A valid header of an earlier use of the file (its address is below this page's): a recycled segment.</summary>
    Older,
    /// <summary>Anything else: a damaged page, a page from the future, another system's, or not WAL at all.</summary>
    Foreign,
}

/// <summary>What a whole segment file holds, from a sample of its pages.</summary>
public enum SegmentContent
{
    /// <summary>Only zeros: preallocated, never written.</summary>
    Zero,
    /// <summary>Pages of an earlier use only (and perhaps zeros): recycled.</summary>
    Recycled,
    /// <summary>At least one page valid for its own address: WAL of this generation.</summary>
    Valid,
    /// <summary>No valid page, and something that is neither zeros nor a recycled page.</summary>
    Foreign,
    /// <summary>Shorter than a segment (segments are always created full size).</summary>
    Short,
}

/// <summary>Classifies WAL pages and segment files.</summary>
public static class SegmentProbe
{
    /// <summary>Pages sampled per segment: the first, then every Stride-th page and the last.</summary>
    public const int Stride = 16;

    /// <summary>Classifies <paramref name="page"/> (8 kB) read from <paramref name="address"/>.</summary>
    public static PageContent ClassifyPage(ReadOnlySpan<byte> page, Lsn address, WalGeometry geometry, ulong systemIdentifier)
    {
        if (!page.ContainsAnyExcept((byte)0))
            return PageContent.Zero;
        var header = PageHeader.Read(page);
        if (PageHeader.VersionOf(header.Magic) == WalVersion.Unknown || (header.Info & ~PageInfo.All) != 0)
            return PageContent.Foreign;
        if (header.PageAddress < address && header.PageAddress.Value % WalGeometry.PageSize == 0)
            return PageContent.Older;
        if (header.PageAddress != address)
            return PageContent.Foreign;
        bool first = geometry.OffsetInSegment(address) == 0;
        if (first != ((header.Info & PageInfo.LongHeader) != 0))
            return PageContent.Foreign;
        if (first && ((systemIdentifier != 0 && header.SystemIdentifier != systemIdentifier)
                      || header.SegmentSize != geometry.SegmentSize || header.BlockSize != WalGeometry.PageSize))
            return PageContent.Foreign;
        return PageContent.Valid;
    }

    /// <summary>
    /// Classifies a segment file from its first page, every <see cref="Stride"/>th page and its
    /// last page, read through <paramref name="read"/> (offset, destination) → bytes read.
    /// </summary>
    public static SegmentContent ClassifySegment(Func<long, byte[], int> read, SegmentNumber segment, WalGeometry geometry, ulong systemIdentifier)
    {
        var page = new byte[WalGeometry.PageSize];
        bool older = false, foreign = false;
        Lsn start = geometry.SegmentStart(segment);
        int pages = geometry.PagesPerSegment;
        for (int i = 0; i <= (pages - 1) / Stride + 1; i++)
        {
            int p = Math.Min(i * Stride, pages - 1);   // ..., and the last page last
            int got = read((long)p * WalGeometry.PageSize, page);
            if (got < WalGeometry.PageSize)
                return SegmentContent.Short;
            switch (ClassifyPage(page, start + (ulong)p * WalGeometry.PageSize, geometry, systemIdentifier))
            {
                case PageContent.Valid:
                    return SegmentContent.Valid;
                case PageContent.Older:
                    older = true;
                    break;
                case PageContent.Foreign:
                    foreign = true;
                    break;
            }
        }
        return foreign ? SegmentContent.Foreign : older ? SegmentContent.Recycled : SegmentContent.Zero;
    }
}
