// WalQuarantine: sets aside, byte for byte, the WAL that recovery will not replay, under
// pg_wal/quarantine/<time>-<end LSN>/ (pgwal waldump -p reads it there). The segment recovery ended
// in is copied when damage or valid records lie after the end (its tail is then cleaned in place);
// later segments that hold anything but zeros or recycled pages are moved. PgWal never deletes
// anything it set aside: what to do with it is the user's decision. Zero and recycled later
// segments hold no WAL and are left to the tail cleaner.
using PgWal.Format;
using PgWal.Read;
using PgWal.Storage;

namespace PgWal.Recovery;

internal static class WalQuarantine
{
    /// <summary>The folder under pg_wal that holds everything set aside.</summary>
    public const string Root = "quarantine";

    /// <summary>Segment files after the end segment that hold no WAL (the tail cleaner may remove them).</summary>
    public static HashSet<string> Disposable(IWalStorage wal, WalGeometry geometry, TimelineId timeline, SegmentNumber endSegment, ulong systemIdentifier, out List<string> keep)
    {
        var disposable = new HashSet<string>(StringComparer.Ordinal);
        keep = [];
        foreach (var name in wal.ListFiles())
        {
            if (!SegmentFileName.TryParse(name, geometry, out var tli, out var segment) || tli != timeline || segment.Value <= endSegment.Value)
                continue;
            var content = SegmentProbe.ClassifySegment((offset, page) => wal.Read(name, offset, page), segment, geometry, systemIdentifier);
            if (content is SegmentContent.Zero or SegmentContent.Recycled)
                disposable.Add(name);
            else
                keep.Add(name);
        }
        keep.Sort(StringComparer.Ordinal);
        return disposable;
    }

    /// <summary>
    /// Copies the end segment (when <paramref name="copyEndSegment"/>) and moves <paramref name="later"/>
    /// into a new quarantine folder. Returns the folder (relative to pg_wal) and the files, or null when nothing was set aside.
    /// </summary>
    public static (string Folder, List<string> Files)? SetAside(IWalStorage wal, WalGeometry geometry, TimelineId timeline, Lsn endOfLog, bool copyEndSegment, IReadOnlyList<string> later)
    {
        string endName = SegmentFileName.Format(timeline, geometry.SegmentOf(endOfLog), geometry);
        bool copy = copyEndSegment && wal.Exists(endName);
        if (!copy && later.Count == 0)
            return null;
        string folder = $"{Root}/{DateTime.UtcNow:yyyyMMdd'T'HHmmss'Z'}-{endOfLog.Value:X16}";
        var files = new List<string>();
        if (copy)
        {
            wal.SetAside(endName, folder, keepOriginal: true);
            files.Add(endName);
        }
        foreach (var name in later)
        {
            wal.SetAside(name, folder, keepOriginal: false);
            files.Add(name);
        }
        return (folder, files);
    }
}
