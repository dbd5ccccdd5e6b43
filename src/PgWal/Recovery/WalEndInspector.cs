// WalEndInspector: decides what the point where crash recovery stopped reading is. Reading stops at
// the first thing that is not a valid record; an ordinary crash leaves zeros, a recycled page or a
// write torn at the tail there. Damage is told apart by what lies beyond and by proof that the WAL
// there had been durable:
//  - a later segment of this timeline with pages valid for their own address: the writer syncs a
//    segment when its last page is written and only then writes the next, so everything before
//    was durable (a missing, short, zeroed or garbage middle segment; a bad record in a completed one);
//  - a segment shorter than a segment: they are always created full size, never by a crash;
//  - data pages on disk with LSNs beyond the stop: the WAL rule flushed the WAL there first.
// Valid records after the stop in the same, last segment without such proof may be the unsynced part
// of a write torn by the crash: recovery ends there as PostgreSQL's does, but keeps a copy.
// Reads only; never changes a file.
using PgWal.Format;
using PgWal.Read;
using PgWal.Storage;

namespace PgWal.Recovery;

internal sealed class WalEndInspector(IWalStorage wal, IRelationStorage relations, WalGeometry geometry, TimelineId timeline, ulong systemIdentifier)
{
    /// <summary>What the inspection found; Damage is null for a clean end (or a torn tail with nothing after it).</summary>
    public sealed record Finding(WalDamageReport? Damage, IReadOnlyList<(string Name, SegmentContent Content)> LaterSegments);

    /// <param name="stop">Where and why reading stopped.</param>
    /// <param name="lastPageRead">The furthest page the failed read reached (a record crossing pages may be torn at its end, in a later segment than its start).</param>
    /// <param name="validUpTo">End of the last valid record.</param>
    /// <param name="scanDataPages">Look for data pages written beyond the stop even when nothing else calls for it.</param>
    public Finding Inspect(WalReadError stop, Lsn lastPageRead, Lsn validUpTo, bool scanDataPages)
    {
        Lsn reached = Lsn.Max(stop.Lsn, lastPageRead);
        var stopSegment = geometry.SegmentOf(reached);
        var later = LaterSegments(stopSegment);
        var validLater = later.Where(s => s.Content == SegmentContent.Valid).Select(s => s.Name).ToList();
        var kind = KindOf(stop);
        bool shortSegment = stop.Kind == CorruptionKind.ShortRead;

        var beyond = ReadBeyond(stop, reached, stopSegment, later);
        string? proof = null;
        if (validLater.Count > 0)
            proof = $"valid WAL continues in {validLater.Count} later segment(s) from {validLater[0]}; a segment is synced before the next one is written, so the WAL up to there was durable";
        else if (shortSegment)
            proof = $"segment {stop.SegmentFile} is shorter than {geometry.SegmentSize} bytes; segments are created full size, so it was truncated";

        bool ambiguous = proof == null && beyond.Records > 0;
        if (proof == null && !ambiguous && !scanDataPages)
            return new Finding(null, later);

        var (pagesAhead, aheadUpTo) = scanDataPages || ambiguous ? DataPagesBeyond(validUpTo) : (0L, Lsn.Invalid);
        if (proof == null && pagesAhead > 0 && aheadUpTo > stop.RecordLsn)
            proof = $"{pagesAhead} data page(s) on disk carry LSNs up to {aheadUpTo}, beyond the damage; a page is written only after the WAL up to its LSN is durable";
        if (proof == null && !ambiguous)
            return new Finding(null, later);

        var report = new WalDamageReport
        {
            Kind = kind, Check = stop.Kind, Message = stop.Message, Lsn = stop.Lsn, SegmentFile = stop.SegmentFile, FileOffset = stop.FileOffset,
            ValidUpTo = validUpTo, Certain = proof != null,
            Evidence = proof ?? "valid WAL follows in the same segment, the last one written, and nothing proves it was durable: a write torn by the crash looks the same",
            Beyond = beyond with { Segments = validLater, MissingSegments = Missing(stopSegment, later, validLater) },
            DataPagesAhead = pagesAhead, DataPagesAheadUpTo = aheadUpTo,
        };
        return new Finding(report, later);
    }

    private static WalDamageKind KindOf(WalReadError stop) => stop.Kind switch
    {
        CorruptionKind.SegmentMissing => WalDamageKind.MissingSegment,
        CorruptionKind.ShortRead => WalDamageKind.ShortSegment,
        _ when stop.EndOfWal == EndOfWalReason.ZeroedSpace => WalDamageKind.ZeroedWal,
        CorruptionKind.BadPageMagic or CorruptionKind.UnexpectedPageAddress or CorruptionKind.InvalidPageInfo
            or CorruptionKind.SystemIdentifierMismatch or CorruptionKind.SegmentSizeMismatch or CorruptionKind.BlockSizeMismatch
            or CorruptionKind.TimelineOutOfSequence => WalDamageKind.BadPage,
        _ => WalDamageKind.BadRecord,
    };

    // Segment files of this timeline after `stopSegment`, in order, with what each holds.
    private List<(string Name, SegmentContent Content)> LaterSegments(SegmentNumber stopSegment)
    {
        var found = new List<(SegmentNumber Segment, string Name)>();
        foreach (var name in wal.ListFiles())
        {
            if (SegmentFileName.TryParse(name, geometry, out var tli, out var segment) && tli == timeline && segment.Value > stopSegment.Value)
                found.Add((segment, name));
        }
        found.Sort((a, b) => a.Segment.Value.CompareTo(b.Segment.Value));
        return found.Select(f => (f.Name, SegmentProbe.ClassifySegment((offset, page) => wal.Read(f.Name, offset, page), f.Segment, geometry, systemIdentifier))).ToList();
    }

    private List<string> Missing(SegmentNumber stopSegment, List<(string Name, SegmentContent Content)> later, List<string> validLater)
    {
        if (validLater.Count == 0)
            return [];
        SegmentFileName.TryParse(validLater[^1], geometry, out _, out var last);
        var present = later.Select(l => l.Name).ToHashSet();
        var missing = new List<string>();
        for (ulong s = stopSegment.Value; s < last.Value; s++)
        {
            string name = SegmentFileName.Format(timeline, new SegmentNumber(s), geometry);
            if (!present.Contains(name) && !wal.Exists(name))
                missing.Add(name);
        }
        return missing;
    }

    // Reads every valid record after the stop: in the rest of the stop segment, then in each later
    // segment holding valid WAL, resynchronising page by page after each failure.
    private WalBeyond ReadBeyond(WalReadError stop, Lsn reached, SegmentNumber stopSegment, List<(string Name, SegmentContent Content)> later)
    {
        var regions = new List<(Lsn From, Lsn UpTo)>();
        if (stop.Kind is not (CorruptionKind.SegmentMissing or CorruptionKind.ShortRead))
            regions.Add((WalGeometry.PageStart(reached) + WalGeometry.PageSize, geometry.SegmentStart(stopSegment.Next)));
        foreach (var (name, content) in later)
        {
            if (content == SegmentContent.Valid && SegmentFileName.TryParse(name, geometry, out _, out var segment))
                regions.Add((geometry.SegmentStart(segment), geometry.SegmentStart(segment.Next)));
        }
        long records = 0, commits = 0;
        Lsn first = Lsn.Invalid, upTo = Lsn.Invalid, covered = Lsn.Invalid;
        var options = new WalReaderOptions
        {
            SegmentSize = geometry.SegmentSize, Timeline = timeline, SystemIdentifier = systemIdentifier, ClassifyEndOfWal = false, ReadAheadBytes = 64 * 1024,
        };
        using var reader = new WalReader(new WalStoragePageSource(wal, geometry), options);
        var page = new byte[WalGeometry.PageSize];
        foreach (var (from, end) in regions)
        {
            Lsn pos = Lsn.Max(from, covered);
            int examined = 0;
            while (pos < end)
            {
                // Only a page valid for its own address can start a resync: zeros, recycled and
                // garbage pages are skipped by their header (every page near the stop, then a sample).
                if (!IsValidPage(pos, page))
                {
                    pos = WalGeometry.PageStart(pos) + (ulong)(++examined < DenseScanPages ? 1 : SegmentProbe.Stride) * WalGeometry.PageSize;
                    continue;
                }
                Lsn found = reader.FindNextRecord(pos, out _);
                if (!found.IsValid || found >= end)
                {
                    pos = WalGeometry.PageStart(pos) + WalGeometry.PageSize;
                    continue;
                }
                ReadOutcome outcome;
                while ((outcome = reader.ReadRecord()).IsRecord)
                {
                    var record = outcome.Record!;
                    records++;
                    if (record.RmgrId == RmgrIds.Transaction && (record.Info & XactInfo.OpMask) is XactInfo.Commit or XactInfo.CommitPrepared)
                        commits++;
                    if (!first.IsValid)
                        first = record.Lsn;
                    upTo = record.NextLsn;
                }
                covered = Lsn.Max(covered, reader.EndRecPtr);
                var failedAt = outcome.Error!.Lsn;
                pos = Lsn.Max(WalGeometry.PageStart(Lsn.Max(failedAt, pos)) + WalGeometry.PageSize, covered);
            }
        }
        return new WalBeyond { From = first, UpTo = upTo, Records = records, Commits = commits };
    }

    // Pages after a stop examined one by one before sampling (a torn write spans at most a few MB).
    private const int DenseScanPages = 4096;

    private bool IsValidPage(Lsn pos, byte[] page)
    {
        Lsn start = WalGeometry.PageStart(pos);
        string name = SegmentFileName.Format(timeline, geometry.SegmentOf(start), geometry);
        try
        {
            return wal.Read(name, geometry.OffsetInSegment(start), page) == page.Length
                && SegmentProbe.ClassifyPage(page, start, geometry, systemIdentifier) == PageContent.Valid;
        }
        catch (FileNotFoundException)
        {
            return false;
        }
    }

    // Data pages whose LSN is beyond `validUpTo`: how many, and the highest LSN.
    private (long Count, Lsn Max) DataPagesBeyond(Lsn validUpTo)
    {
        long count = 0;
        Lsn max = Lsn.Invalid;
        var page = new byte[StandardPage.Size];
        foreach (var (rel, fork) in relations.List())
        {
            using var file = relations.Open(rel, fork);
            uint blocks = file.BlockCount;
            for (uint b = 0; b < blocks; b++)
            {
                if (!file.Read(new BlockNumber(b), page))
                    break;
                Lsn lsn = DataPageHeader.ReadLsn(page);
                if (lsn > validUpTo)
                {
                    count++;
                    max = Lsn.Max(max, lsn);
                }
            }
        }
        return (count, max);
    }
}
