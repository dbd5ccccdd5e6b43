// WalDirectoryScan: pg_receivewal 15's FindStreamingStart (reference §4.2) over a directory of
// received WAL: names of 24 upper-case hex digits, optionally followed by .gz, .partial or
// .gz.partial (whatever the current run's compression). A completed uncompressed file must have
// the segment size and a completed .gz file must say so in its gzip trailer, else it is skipped
// with a warning. The highest segment wins (ties: the higher timeline, then a completed file over
// a partial one); a completed segment resumes at the next segment, a partial one at its start.
using System.Buffers.Binary;
using PgWal.Format;

namespace PgWal.Replication.Client;

/// <summary>Where to resume streaming into a pg_receivewal directory.</summary>
public static class WalDirectoryScan
{
    /// <summary>The resume point, or null when the directory holds no WAL.</summary>
    public static (TimelineId Timeline, Lsn Start)? FindResumePoint(string directory, WalGeometry geometry, Action<string>? warning)
    {
        SegmentNumber best = default;
        TimelineId bestTimeline = default;
        bool found = false, bestPartial = false;
        foreach (var path in Directory.EnumerateFiles(directory))
        {
            string name = Path.GetFileName(path);
            if (name.Length < SegmentFileName.Length || !SegmentFileName.IsSegmentFileName(name.AsSpan(0, SegmentFileName.Length)))
                continue;
            string suffix = name[SegmentFileName.Length..];
            bool partial = suffix is ".partial" or ".gz.partial";
            bool compressed = suffix is ".gz" or ".gz.partial";
            if (suffix.Length > 0 && !partial && !compressed)
                continue;
            if (!SegmentFileName.TryParseLeading(name, geometry, out var timeline, out var segment))
                continue;
            if (!partial && !CompleteSizeMatches(path, name, compressed, geometry, warning))
                continue;
            bool better = !found || segment > best || (segment == best && (timeline > bestTimeline || (timeline == bestTimeline && bestPartial && !partial)));
            if (better)
            {
                found = true;
                best = segment;
                bestTimeline = timeline;
                bestPartial = partial;
            }
        }
        if (!found)
            return null;
        return (bestTimeline, bestPartial ? geometry.SegmentStart(best) : geometry.SegmentStart(best.Next));
    }

    private static bool CompleteSizeMatches(string path, string name, bool compressed, WalGeometry geometry, Action<string>? warning)
    {
        long size = new FileInfo(path).Length;
        if (!compressed)
        {
            if (size == geometry.SegmentSize)
                return true;
            warning?.Invoke($"segment file \"{name}\" has incorrect size {size}, skipping");
            return false;
        }
        // gzip's trailer ends with ISIZE, the uncompressed size modulo 2^32, little-endian.
        Span<byte> trailer = stackalloc byte[4];
        using (var handle = File.OpenHandle(path))
        {
            if (size < 18 || RandomAccess.Read(handle, trailer, size - 4) != 4)
            {
                warning?.Invoke($"could not read compressed file \"{name}\": file too short, skipping");
                return false;
            }
        }
        uint uncompressed = BinaryPrimitives.ReadUInt32LittleEndian(trailer);
        if (uncompressed == (uint)geometry.SegmentSize)
            return true;
        warning?.Invoke($"compressed segment file \"{name}\" has incorrect uncompressed size {uncompressed}, skipping");
        return false;
    }
}
