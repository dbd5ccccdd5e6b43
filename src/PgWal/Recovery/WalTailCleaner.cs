// WalTailCleaner: makes the end of recovery final. Everything after the last valid record is
// stale — a torn tail, pages of unacknowledged records that reached the disk out of order, or
// whole segments written ahead. If any of it kept a valid page address, a later crash that tears
// new WAL could splice stale records after new ones (xl_prev would even match when record
// boundaries coincide). So before new WAL is written: zero the rest of the end segment (only
// chunks that are not already zero), sync it, and remove later segments of this timeline that
// hold no WAL (zeros, recycled pages). Anything else after the end has been set aside by
// WalQuarantine first; the cleaner never removes a file it was not told is disposable. The
// engine then writes the end page whole (valid prefix + new records + zeros).
using PgWal.Format;
using PgWal.Storage;

namespace PgWal.Recovery;

internal static class WalTailCleaner
{
    private const int Chunk = 256 * 1024;

    /// <summary>Returns the bytes zeroed and segment files removed.</summary>
    public static (long ZeroedBytes, int RemovedSegments) Clean(IWalStorage wal, WalGeometry geometry, TimelineId timeline, Lsn endOfLog, IReadOnlySet<string> disposable)
    {
        var endSegment = geometry.SegmentOf(endOfLog);
        string name = SegmentFileName.Format(timeline, endSegment, geometry);
        long zeroed = 0;
        if (wal.Exists(name))
        {
            var buffer = new byte[Chunk];
            var zeros = new byte[Chunk];
            using var file = wal.Open(name);
            long offset = geometry.OffsetInSegment(endOfLog);
            while (offset < geometry.SegmentSize)
            {
                int length = (int)Math.Min(Chunk - offset % Chunk, geometry.SegmentSize - offset);
                int read = wal.Read(name, offset, buffer.AsSpan(0, length));
                if (read > 0 && buffer.AsSpan(0, read).ContainsAnyExcept((byte)0))
                {
                    file.Write(offset, zeros.AsSpan(0, read));
                    zeroed += read;
                }
                if (read < length)
                    break;
                offset += length;
            }
            if (zeroed > 0)
                file.Sync();
        }
        int removed = 0;
        foreach (var file in wal.ListFiles())
        {
            if (SegmentFileName.TryParse(file, geometry, out var tli, out var segment) && tli == timeline && segment.Value > endSegment.Value
                && disposable.Contains(file))
            {
                wal.Delete(file);
                removed++;
            }
        }
        return (zeroed, removed);
    }

    /// <summary>The bytes of <paramref name="endOfLog"/>'s page before it, as on disk.</summary>
    public static byte[] ReadPagePrefix(IWalStorage wal, WalGeometry geometry, TimelineId timeline, Lsn endOfLog)
    {
        int length = WalGeometry.OffsetInPage(endOfLog);
        var prefix = new byte[length];
        if (length == 0)
            return prefix;
        string name = SegmentFileName.Format(timeline, geometry.SegmentOf(endOfLog), geometry);
        long offset = geometry.OffsetInSegment(WalGeometry.PageStart(endOfLog));
        if (wal.Read(name, offset, prefix) != length)
            throw new RecoveryException($"could not read the last WAL page of \"{name}\" at offset {offset}");
        return prefix;
    }
}
