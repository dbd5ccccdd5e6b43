// WalRepository.Inventory: what a repository holds (`pgwal archive list`), whether it is whole
// (`verify`: every file's checksums, and each timeline's segments without holes), and removing
// what is no longer needed (`cleanup`, pg_archivecleanup 15's rule: segment and .partial files whose
// log/segment part sorts before the oldest file kept, whatever their timeline; history and backup
// history files are never removed).
using PgWal.Format;

namespace PgWal.Archive;

/// <summary>One archived file.</summary>
/// <param name="Name">Its name.</param>
/// <param name="StoredBytes">Its size in the repository.</param>
/// <param name="Path">Where it is.</param>
public readonly record struct ArchivedFile(ArchivedFileName Name, long StoredBytes, string Path);

/// <summary>The archived files of one timeline, and the segments missing between its first and last.</summary>
/// <param name="Timeline">The timeline.</param>
/// <param name="Files">Its files, by name.</param>
/// <param name="Ranges">Runs of consecutive segments, as (first, last) names.</param>
/// <param name="Missing">Segment names missing between the first and the last segment.</param>
public sealed record TimelineInventory(TimelineId Timeline, IReadOnlyList<ArchivedFile> Files,
    IReadOnlyList<(string First, string Last)> Ranges, IReadOnlyList<string> Missing);

/// <summary>A file whose bytes are not what was archived.</summary>
/// <param name="Name">The file.</param>
/// <param name="Problem">What is wrong, naming the path.</param>
public readonly record struct DamagedFile(string Name, string Problem);

public sealed partial class WalRepository
{
    // At most this many missing names are listed per timeline (the count is always exact).
    private const int MaxMissingListed = 1000;

    /// <summary>Everything the repository holds, per timeline (ascending).</summary>
    public IReadOnlyList<TimelineInventory> List()
    {
        var byTimeline = new SortedDictionary<uint, List<ArchivedFile>>();
        if (SegmentSize == null)
        {
            // Another process (or object) may have pushed the first segment since this one was opened.
            var (_, sysid, size) = ReadConfig(System.IO.Path.Combine(Path, ConfigFileName));
            (SystemIdentifier, SegmentSize) = (sysid, size);
        }
        string wal = System.IO.Path.Combine(Path, "wal");
        if (!Directory.Exists(wal))
            return [];
        foreach (string file in Directory.EnumerateFiles(wal, "*" + FileSuffix, SearchOption.AllDirectories))
        {
            string name = System.IO.Path.GetFileName(file)[..^FileSuffix.Length];
            if (ArchivedFileName.TryParse(name, out var parsed) is not null || file != PathOf(parsed))
                continue;   // not ours (a temporary file has a leading dot and another shape)
            if (!byTimeline.TryGetValue(parsed.Timeline.Value, out var list))
                byTimeline[parsed.Timeline.Value] = list = [];
            list.Add(new ArchivedFile(parsed, new FileInfo(file).Length, file));
        }
        var result = new List<TimelineInventory>();
        foreach (var (tli, files) in byTimeline)
        {
            files.Sort((a, b) => string.CompareOrdinal(a.Name.Name, b.Name.Name));
            var (ranges, missing) = Continuity(new TimelineId(tli), files);
            result.Add(new TimelineInventory(new TimelineId(tli), files, ranges, missing));
        }
        return result;
    }

    /// <summary>
    /// Reads every archived file back (both checksums) and checks each timeline for holes.
    /// </summary>
    /// <param name="progress">Called after each file with (files checked, files in all).</param>
    public (IReadOnlyList<DamagedFile> Damaged, IReadOnlyList<TimelineInventory> Timelines) Verify(Action<int, int>? progress = null)
    {
        var timelines = List();
        var damaged = new List<DamagedFile>();
        int total = timelines.Sum(t => t.Files.Count), done = 0;
        foreach (var file in timelines.SelectMany(t => t.Files))
        {
            try
            {
                VerifyFile(file.Path);
            }
            catch (ArchiveException e)
            {
                damaged.Add(new DamagedFile(file.Name.Name, e.Message));
            }
            catch (IOException e)
            {
                damaged.Add(new DamagedFile(file.Name.Name, $"could not read \"{file.Path}\": {e.Message}"));
            }
            progress?.Invoke(++done, total);
        }
        return (damaged, timelines);
    }

    /// <summary>
    /// Retention by backups: the backup history file of the <paramref name="keep"/>-th newest base
    /// backup the repository knows of (by start location, on any timeline), whose name given to
    /// <see cref="Cleanup"/> keeps exactly the WAL those backups need; null when it knows of fewer.
    /// </summary>
    public string? OldestKeptBackup(int keep)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(keep, 1);
        var backups = List().SelectMany(t => t.Files).Where(f => f.Name.Kind == ArchivedFileKind.BackupHistory)
            .Select(f => f.Name.Name)
            .OrderByDescending(n => n[8..24] + n[25..33], StringComparer.Ordinal)   // start segment, then offset
            .ToList();
        return backups.Count >= keep ? backups[keep - 1] : null;
    }

    /// <summary>
    /// Removes (or, with <paramref name="dryRun"/>, lists) the segment and .partial files that sort
    /// before <paramref name="oldestKept"/> by their log and segment digits, on every timeline, as
    /// pg_archivecleanup does. <paramref name="oldestKept"/> may be a segment, .partial or backup
    /// history file name.
    /// </summary>
    /// <returns>The paths removed (or that would be).</returns>
    /// <exception cref="ArchiveException"><paramref name="oldestKept"/> is not such a name.</exception>
    public IReadOnlyList<string> Cleanup(string oldestKept, bool dryRun)
    {
        if (ArchivedFileName.TryParse(oldestKept, out var cut) is not null || cut.Kind == ArchivedFileKind.History)
            throw new ArchiveException($"invalid file name argument \"{oldestKept}\": expected a WAL segment, .partial or backup history file name");
        string cutoff = cut.Name[8..24];
        var removed = new List<string>();
        foreach (var file in List().SelectMany(t => t.Files))
        {
            if (!file.Name.IsWal || string.CompareOrdinal(file.Name.Name[8..24], cutoff) >= 0)
                continue;
            if (!dryRun)
                File.Delete(file.Path);
            removed.Add(file.Path);
        }
        if (!dryRun && removed.Count > 0)
        {
            foreach (string directory in removed.Select(p => System.IO.Path.GetDirectoryName(p)!).Distinct())
                Storage.FileSystemWalStorage.SyncDirectory(directory);
        }
        return removed;
    }

    // Runs of consecutive segments and the names missing between them (segment size from the
    // settings; without it nothing was archived that has a segment number).
    private (List<(string, string)> Ranges, List<string> Missing) Continuity(TimelineId timeline, List<ArchivedFile> files)
    {
        var ranges = new List<(string, string)>();
        var missing = new List<string>();
        if (SegmentSize is not { } size)
            return (ranges, missing);
        var geometry = new WalGeometry(size);
        SegmentNumber? runStart = null, previous = null;
        foreach (var file in files.Where(f => f.Name.Kind == ArchivedFileKind.Segment))
        {
            SegmentFileName.TryParse(file.Name.Name, geometry, out _, out var segment);
            if (previous is { } p && segment.Value != p.Value + 1)
            {
                ranges.Add((SegmentFileName.Format(timeline, runStart!.Value, geometry), SegmentFileName.Format(timeline, p, geometry)));
                for (ulong s = p.Value + 1; s < segment.Value && missing.Count < MaxMissingListed; s++)
                    missing.Add(SegmentFileName.Format(timeline, new SegmentNumber(s), geometry));
                runStart = segment;
            }
            runStart ??= segment;
            previous = segment;
        }
        if (previous is { } last)
            ranges.Add((SegmentFileName.Format(timeline, runStart!.Value, geometry), SegmentFileName.Format(timeline, last, geometry)));
        return (ranges, missing);
    }
}
