// PrefetchSpool: segments restored ahead of PostgreSQL's requests (`archive get --prefetch N`).
// While recovery replays one segment, a background `archive prefetch` restores the next N of the
// same timeline into the spool directory, each complete and checked before it is renamed into
// place; the next `get` then only moves its file out of the spool. One filler at a time (an
// exclusive lock file); files no longer wanted (older, or of another timeline) are removed by the
// filler. A file in the spool is only ever what the repository held under that name, and the
// repository never replaces a file, so a spooled segment is never stale in content.
using PgWal.Format;

namespace PgWal.Archive;

/// <summary>A directory of segments restored ahead.</summary>
public sealed class PrefetchSpool
{
    internal const string LockName = ".lock";

    /// <summary>A spool in <paramref name="directory"/> (created when missing).</summary>
    public PrefetchSpool(string directory)
    {
        Directory = System.IO.Path.GetFullPath(directory);
        System.IO.Directory.CreateDirectory(Directory);
    }

    /// <summary>The spool directory.</summary>
    public string Directory { get; }

    /// <summary>
    /// Moves the spooled <paramref name="name"/> to <paramref name="destination"/> (copying when
    /// they are on different file systems); false when it is not spooled.
    /// </summary>
    public bool TryTake(ArchivedFileName name, string destination)
    {
        string spooled = System.IO.Path.Combine(Directory, name.Name);
        if (!File.Exists(spooled))
            return false;
        try
        {
            File.Move(spooled, destination, overwrite: true);
        }
        catch (FileNotFoundException)
        {
            return false;   // a filler removed it meanwhile (no longer wanted): restore from the repository
        }
        catch (IOException) when (File.Exists(spooled))
        {
            // Another file system: copy, then rename into place.
            string temp = destination + ".pgwal-tmp";
            try
            {
                File.Copy(spooled, temp, overwrite: true);
            }
            catch (FileNotFoundException)
            {
                return false;
            }
            File.Move(temp, destination, overwrite: true);
            File.Delete(spooled);
        }
        return true;
    }

    /// <summary>
    /// The one-filler-at-a-time lock of a spool directory (an exclusive open of its lock file, let
    /// go when disposed, also when the process dies), or null when another filler holds it.
    /// </summary>
    internal static FileStream? TryLockFiller(string directory)
    {
        try
        {
            return new FileStream(System.IO.Path.Combine(directory, LockName), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>
    /// True when fewer than half of <paramref name="count"/> segments are spooled: time to start a
    /// filler (starting a process for every get would cost more than it saves).
    /// </summary>
    public bool NeedsFill(int count)
        => System.IO.Directory.EnumerateFiles(Directory).Count(f => SegmentFileName.IsSegmentFileName(System.IO.Path.GetFileName(f))) < Math.Max(1, (count + 1) / 2);

    /// <summary>
    /// Restores the <paramref name="count"/> segments after <paramref name="current"/> (same
    /// timeline) that are not spooled yet, stopping at the first the repository does not hold, and
    /// removes every other spooled file. Returns at once when another filler holds the spool.
    /// </summary>
    /// <returns>How many segments were restored.</returns>
    public int Fill(WalRepository repository, ArchivedFileName current, int count)
    {
        if (current.Kind != ArchivedFileKind.Segment || repository.SegmentSize is not { } size || count <= 0)
            return 0;
        if (TryLockFiller(Directory) is not { } guard)
            return 0;   // another filler is at work
        using (guard)
        {
            var geometry = new WalGeometry(size);
            SegmentFileName.TryParse(current.Name, geometry, out var timeline, out var segment);
            var wanted = new List<ArchivedFileName>();
            for (int i = 1; i <= count && segment.Value + (ulong)i <= geometry.LastSegment.Value; i++)
            {
                ArchivedFileName.TryParse(SegmentFileName.Format(timeline, new SegmentNumber(segment.Value + (ulong)i), geometry), out var next);
                wanted.Add(next);
            }
            var keep = new HashSet<string>(wanted.Select(w => w.Name)) { LockName };
            foreach (string file in System.IO.Directory.EnumerateFiles(Directory))
            {
                if (!keep.Contains(System.IO.Path.GetFileName(file)))
                    File.Delete(file);
            }
            int restored = 0;
            foreach (var next in wanted)
            {
                string target = System.IO.Path.Combine(Directory, next.Name);
                if (File.Exists(target))
                    continue;
                if (!repository.TryRestore(next, target))
                    break;   // the end of the archive, for now
                restored++;
            }
            return restored;
        }
    }
}
