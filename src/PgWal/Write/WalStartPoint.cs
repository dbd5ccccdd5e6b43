// WalStartPoint: where a WalEngine starts inserting — at the start of a fresh segment, or right
// after the last valid record of existing WAL (PostgreSQL's EndOfLog at the end of recovery), with
// the valid beginning of that record's last page so the page is rewritten intact.
using PgWal.Format;

namespace PgWal.Write;

/// <summary>Where an engine's first record goes and what precedes it.</summary>
public sealed record WalStartPoint
{
    private WalStartPoint(Lsn end, Lsn lastRecord, byte[] pagePrefix)
    {
        End = end;
        LastRecord = lastRecord;
        PagePrefix = pagePrefix;
    }

    /// <summary>End of the existing WAL (exclusive): the next record starts here (after a page header if at a page boundary).</summary>
    public Lsn End { get; }

    /// <summary>Start of the last existing record: the next record's xl_prev (0/0 for none).</summary>
    public Lsn LastRecord { get; }

    /// <summary>The bytes of End's page before End (empty when End is at a page boundary).</summary>
    public byte[] PagePrefix { get; }

    /// <summary>Fresh WAL starting at <paramref name="segment"/>; <paramref name="previous"/> is the first record's xl_prev.</summary>
    public static WalStartPoint AtSegment(SegmentNumber segment, WalGeometry geometry, Lsn previous = default)
        => new(geometry.SegmentStart(segment), previous, []);

    /// <summary>
    /// Continues existing WAL whose last record starts at <paramref name="lastRecord"/> and ends at
    /// <paramref name="end"/>; <paramref name="page"/> holds at least the bytes of End's page before End.
    /// </summary>
    public static WalStartPoint After(Lsn lastRecord, Lsn end, ReadOnlySpan<byte> page)
    {
        int prefix = WalGeometry.OffsetInPage(end);
        if (page.Length < prefix)
            throw new ArgumentException($"the page of {end} must hold its first {prefix} bytes, not {page.Length}", nameof(page));
        if (end.Value % 8 != 0)
            throw new ArgumentException($"WAL end {end} is not 8-byte aligned", nameof(end));
        return new WalStartPoint(end, lastRecord, page[..prefix].ToArray());
    }
}
