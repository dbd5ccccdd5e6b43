// WalEndLocator: finds where the valid WAL in a pg_wal directory ends, so a writer can continue it
// (until the control file of a later issue records a checkpoint to start from). Starts at the
// newest segment that begins with a valid long page header, finds its first record like
// pg_waldump does, and reads to the end of valid WAL; falls back to older segments when a newer
// one holds no record start. Preallocated (zero) or foreign segments are skipped.
using PgWal.Format;
using PgWal.Storage;

namespace PgWal.Read;

/// <summary>The end of existing WAL.</summary>
/// <param name="LastRecord">Start of the last valid record.</param>
/// <param name="End">Its end (exclusive): where the next record goes.</param>
/// <param name="PagePrefix">The bytes of End's page before End.</param>
/// <param name="SystemIdentifier">The WAL's system identifier.</param>
/// <param name="Timeline">Its timeline.</param>
/// <param name="SegmentSize">Its segment size.</param>
/// <param name="Records">Records read from the segment where the search started to the end.</param>
public sealed record WalEnd(Lsn LastRecord, Lsn End, byte[] PagePrefix, ulong SystemIdentifier, TimelineId Timeline, int SegmentSize, long Records);

/// <summary>Finds the end of the valid WAL in a directory.</summary>
public static class WalEndLocator
{
    /// <summary>The end of the WAL in <paramref name="walDirectory"/>, or null when it holds no valid record.</summary>
    public static WalEnd? Find(string walDirectory)
    {
        var candidates = new List<(string Path, PageHeader Header)>();
        foreach (var path in Directory.EnumerateFiles(walDirectory))
        {
            if (!SegmentFileName.IsSegmentFileName(Path.GetFileName(path)))
                continue;
            var header = ReadLongHeader(path);
            if (header is { } h)
                candidates.Add((path, h));
        }
        foreach (var (path, header) in candidates.OrderByDescending(c => Path.GetFileName(c.Path), StringComparer.Ordinal))
        {
            var geometry = new WalGeometry((int)header.SegmentSize);
            var options = new WalReaderOptions
            {
                SegmentSize = geometry.SegmentSize, Timeline = header.Timeline, SystemIdentifier = header.SystemIdentifier,
            };
            using var reader = new WalReader(new SegmentDirectorySource(walDirectory, geometry.SegmentSize), options);
            Lsn first = reader.FindNextRecord(header.PageAddress, out _);
            if (first == default)
                continue;
            reader.BeginRead(first);
            long records = 0;
            Lsn last = default, end = default;
            while (reader.ReadRecord() is { IsRecord: true })
            {
                last = reader.ReadRecPtr;
                end = reader.EndRecPtr;
                records++;
            }
            if (records == 0)
                continue;
            return new WalEnd(last, end, ReadPagePrefix(walDirectory, header.Timeline, geometry, end),
                header.SystemIdentifier, header.Timeline, geometry.SegmentSize, records);
        }
        return null;
    }

    private static PageHeader? ReadLongHeader(string path)
    {
        Span<byte> page = stackalloc byte[PageHeader.LongSize];
        using var handle = File.OpenHandle(path);
        if (RandomAccess.Read(handle, page, 0) < PageHeader.LongSize)
            return null;
        var header = PageHeader.Read(page);
        bool valid = PageHeader.VersionOf(header.Magic) != WalVersion.Unknown && header.IsLong
                     && WalGeometry.IsValidSegmentSize(header.SegmentSize) && header.BlockSize == WalGeometry.PageSize
                     && header.SystemIdentifier != 0;
        return valid ? header : null;
    }

    private static byte[] ReadPagePrefix(string walDirectory, TimelineId timeline, WalGeometry geometry, Lsn end)
    {
        int length = WalGeometry.OffsetInPage(end);
        var prefix = new byte[length];
        if (length == 0)
            return prefix;
        string file = Path.Combine(walDirectory, SegmentFileName.Format(timeline, geometry.SegmentOf(end), geometry));
        using var handle = File.OpenHandle(file);
        long offset = geometry.OffsetInSegment(WalGeometry.PageStart(end));
        if (RandomAccess.Read(handle, prefix, offset) != length)
            throw new IOException($"could not read the last WAL page of \"{file}\" at offset {offset}");
        return prefix;
    }
}
