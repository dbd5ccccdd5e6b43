// EndOfWalClassifier: decides whether a failed read is the end of the WAL or corruption.
// Rule: damage followed by valid WAL is corruption; damage with nothing valid after it is the end
// (zeroed space, a recycled page, or a torn last record). "Valid WAL after" means a later page of
// the same segment (up to ProbePages ahead) with a correct magic and page address whose first
// record checks out, or, after a bad checksum, a next record that links back with a valid CRC.
// Limitation: unsynced pages written out of order by the OS before a crash can make a torn tail
// look like corruption; either way the reader stops at the damage.
using PgWal.Format;

namespace PgWal.Read;

internal static class EndOfWalClassifier
{
    private const int ProbePages = 4;

    public static void Classify(WalReadError error, PageWindow window, WalGeometry geometry)
    {
        switch (error.Kind)
        {
            case CorruptionKind.StopPointReached:
                error.EndOfWal = EndOfWalReason.StopPoint;
                return;
            case CorruptionKind.SegmentMissing:
            case CorruptionKind.ShortRead:
                error.EndOfWal = EndOfWalReason.EndOfSource;
                return;
            case CorruptionKind.InvalidRecordLength:
            case CorruptionKind.RecordTooLong:
            case CorruptionKind.InvalidResourceManager:
            case CorruptionKind.BadPrevLink:
            case CorruptionKind.BadChecksum:
            case CorruptionKind.MissingContinuation:
            case CorruptionKind.BadContinuationLength:
            case CorruptionKind.BadPageMagic:
            case CorruptionKind.UnexpectedPageAddress:
                break;
            default:
                error.EndOfWal = EndOfWalReason.None;
                return;
        }

        Span<byte> page = stackalloc byte[WalGeometry.PageSize];
        Lsn pagePtr = WalGeometry.PageStart(error.Lsn);
        int got = window.ReadRaw(pagePtr, page);
        page = page[..got];

        if (ValidWalFollows(error, window, geometry, pagePtr, page))
        {
            error.EndOfWal = EndOfWalReason.None;
            return;
        }
        error.EndOfWal = error.Kind switch
        {
            CorruptionKind.BadPageMagic => page.Length >= PageHeader.ShortSize && !page[..PageHeader.ShortSize].ContainsAnyExcept((byte)0)
                ? EndOfWalReason.ZeroedSpace : EndOfWalReason.None,
            CorruptionKind.UnexpectedPageAddress => page.Length >= PageHeader.ShortSize && PageHeader.Read(page).PageAddress < pagePtr
                ? EndOfWalReason.RecycledPage : EndOfWalReason.None,
            CorruptionKind.InvalidRecordLength when IsZeroFrom(page, WalGeometry.OffsetInPage(error.Lsn)) => EndOfWalReason.ZeroedSpace,
            _ => EndOfWalReason.TornRecord,
        };
    }

    private static bool IsZeroFrom(ReadOnlySpan<byte> page, int offset)
        => offset <= page.Length && !page[offset..].ContainsAnyExcept((byte)0);

    private static bool ValidWalFollows(WalReadError error, PageWindow window, WalGeometry geometry, Lsn pagePtr, ReadOnlySpan<byte> page)
    {
        if (error.Kind == CorruptionKind.BadChecksum && page.Length > 0 && NextRecordLinksBack(error.RecordLsn, window, geometry))
            return true;

        Span<byte> probe = stackalloc byte[WalGeometry.PageSize];
        Lsn segmentEnd = geometry.SegmentStart(geometry.SegmentOf(pagePtr).Next);
        for (int k = 1; k <= ProbePages; k++)
        {
            Lsn candidate = pagePtr + (ulong)(k * WalGeometry.PageSize);
            if (candidate >= segmentEnd)
                break;
            int got = window.ReadRaw(candidate, probe);
            if (got < WalGeometry.PageSize)
                break;
            if (PageStartsValidWal(candidate, probe))
                return true;
        }
        return false;
    }

    // After a bad CRC at a record whose header looked valid: does a record with a valid CRC follow
    // right after it, pointing back at it?
    private static bool NextRecordLinksBack(Lsn recordLsn, PageWindow window, WalGeometry geometry)
    {
        Span<byte> page = stackalloc byte[WalGeometry.PageSize];
        Lsn pagePtr = WalGeometry.PageStart(recordLsn);
        if (window.ReadRaw(pagePtr, page) < WalGeometry.PageSize)
            return false;
        int off = WalGeometry.OffsetInPage(recordLsn);
        if (off > WalGeometry.PageSize - RecordHeader.Size)
            return false;
        uint total = RecordHeader.ReadTotalLength(page[off..]);
        if (total < RecordHeader.Size || (ulong)off + total + RecordHeader.Size > WalGeometry.PageSize)
            return false; // only probe within the same page; page-crossing cases are covered by the page probe
        int next = off + (int)WalGeometry.MaxAlign(total);
        return RecordAt(page, next, recordLsn, out _);
    }

    private static bool PageStartsValidWal(Lsn pagePtr, ReadOnlySpan<byte> page)
    {
        var header = PageHeader.Read(page);
        if (PageHeader.VersionOf(header.Magic) == WalVersion.Unknown || header.PageAddress != pagePtr
            || (header.Info & ~PageInfo.All) != 0)
            return false;
        int offset = header.Size;
        if ((header.Info & PageInfo.FirstIsContRecord) != 0)
        {
            ulong skip = WalGeometry.MaxAlign(header.RemainingLength);
            if (header.RemainingLength == 0)
                return false;
            if (skip >= (ulong)(WalGeometry.PageSize - offset))
                return true; // the whole page continues a record under a valid header
            offset += (int)skip;
        }
        return RecordAt(page, offset, Lsn.Invalid, out bool inconclusive) || inconclusive;
    }

    // A record at `offset` of `page` with a valid length and rmgr, whose prev-link is `expectedPrev`
    // (when valid) and whose CRC is valid when it lies entirely on the page.
    private static bool RecordAt(ReadOnlySpan<byte> page, int offset, Lsn expectedPrev, out bool inconclusive)
    {
        inconclusive = false;
        if (offset > WalGeometry.PageSize - RecordHeader.Size)
            return false;
        var header = RecordHeader.Read(page[offset..]);
        if (header.TotalLength < RecordHeader.Size || !RmgrIds.IsValid(header.RmgrId))
            return false;
        if (expectedPrev.IsValid && header.Prev != expectedPrev)
            return false;
        if ((ulong)offset + header.TotalLength > WalGeometry.PageSize)
        {
            inconclusive = !expectedPrev.IsValid;
            return false;
        }
        var span = page.Slice(offset, (int)header.TotalLength);
        return RecordHeader.ComputeCrc(span) == header.Crc;
    }
}
