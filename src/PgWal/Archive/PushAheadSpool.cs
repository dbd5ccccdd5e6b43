// PushAheadSpool: asynchronous archiving for `archive push --async` (pgBackRest's archive-async).
// PostgreSQL's archiver offers one file at a time and waits; meanwhile the segments after it are
// already complete (their .ready files say so). A background `archive push-ahead` pushes those,
// several at once, and leaves a marker per file in the spool: "<name>.ok" holding the length and
// CRC-32C of the bytes it pushed. When PostgreSQL then offers that file, push only checks that the
// file in pg_wal still has that length and checksum and that the repository holds the name, and
// succeeds without pushing again. A marker is never trusted alone: any mismatch (or no marker)
// is an ordinary, synchronous push. One filler at a time (an exclusive lock file).
using System.Globalization;
using PgWal.Format;

namespace PgWal.Archive;

/// <summary>Markers of files pushed ahead of PostgreSQL's archiver.</summary>
public sealed class PushAheadSpool
{
    private const string MarkerSuffix = ".ok";

    /// <summary>A spool in <paramref name="directory"/> (created when missing).</summary>
    public PushAheadSpool(string directory)
    {
        Directory = Path.GetFullPath(directory);
        System.IO.Directory.CreateDirectory(Directory);
    }

    /// <summary>The spool directory.</summary>
    public string Directory { get; }

    private string MarkerOf(string name) => Path.Combine(Directory, name + MarkerSuffix);

    /// <summary>
    /// True when <paramref name="name"/> was pushed ahead from exactly the bytes now at
    /// <paramref name="sourcePath"/> and the repository holds it.
    /// </summary>
    public bool TryTakePushed(WalRepository repository, string sourcePath, ArchivedFileName name)
    {
        string marker = MarkerOf(name.Name);
        string? text;
        try
        {
            text = File.ReadAllText(marker);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return false;
        }
        // The marker stays until its .ready is gone (the filler removes it then): PostgreSQL may
        // offer a file again (after a crash before it renamed .ready to .done), and a marker
        // removed here would make every following push start a filler that finds nothing to do.
        var parts = text.Trim().Split(' ');
        if (parts.Length != 2 || !long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out long length)
            || !uint.TryParse(parts[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out uint crc))
            return false;
        var (nowLength, nowCrc) = Checksum(sourcePath);
        return nowLength == length && nowCrc == crc && repository.Contains(name);
    }

    /// <summary>Whether a file waiting in <paramref name="walDirectory"/>'s archive_status, other than <paramref name="current"/>, is not pushed ahead yet.</summary>
    public bool NeedsFill(string walDirectory, string current)
        => Waiting(walDirectory).Any(n => n != current && !File.Exists(MarkerOf(n)));

    /// <summary>
    /// Pushes up to <paramref name="max"/> files waiting (.ready) in <paramref name="walDirectory"/>,
    /// in archiving order, <paramref name="parallel"/> at a time, leaving a marker for each; removes
    /// markers of files no longer waiting. Returns at once when another filler holds the spool.
    /// </summary>
    /// <returns>How many files were pushed.</returns>
    public int Fill(WalRepository repository, string walDirectory, string current, int max, int parallel)
    {
        if (PrefetchSpool.TryLockFiller(Directory) is not { } guard)
            return 0;   // another filler is at work
        using (guard)
        {
            var waiting = Waiting(walDirectory);
            var waitingSet = new HashSet<string>(waiting, StringComparer.Ordinal);
            foreach (var marker in System.IO.Directory.EnumerateFiles(Directory, "*" + MarkerSuffix))
            {
                if (!waitingSet.Contains(Path.GetFileName(marker)[..^MarkerSuffix.Length]))
                    File.Delete(marker);   // archived since (or never will be): stale
            }
            var todo = waiting.Where(n => n != current && !File.Exists(MarkerOf(n))).Take(max).ToList();
            int pushed = 0;
            Parallel.ForEach(todo, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, parallel) }, name =>
            {
                if (ArchivedFileName.TryParse(name, out var parsed) != null)
                    return;
                string source = Path.Combine(walDirectory, name);
                try
                {
                    repository.Push(source, parsed);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    return;   // PostgreSQL's own offer of this file pushes it again, and reports the error
                }
                var (length, crc) = Checksum(source);
                string marker = MarkerOf(name), temp = marker + ".tmp";
                File.WriteAllText(temp, $"{length.ToString(CultureInfo.InvariantCulture)} {crc:x8}\n");
                File.Move(temp, marker, overwrite: true);
                Interlocked.Increment(ref pushed);
            });
            return pushed;
        }
    }

    // The names with a .ready, in PostgreSQL's archiving order (history files first, then by name).
    private static List<string> Waiting(string walDirectory)
    {
        string status = Path.Combine(walDirectory, "archive_status");
        if (!System.IO.Directory.Exists(status))
            return [];
        var names = System.IO.Directory.EnumerateFiles(status, "*.ready").Select(p => Path.GetFileName(p)[..^".ready".Length])
            .Where(n => ArchivedFileName.TryParse(n, out _) == null).ToList();
        names.Sort(ArchivedFileName.ArchiveOrder);
        return names;
    }

    private static (long Length, uint Crc) Checksum(string path)
    {
        using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read);
        var buffer = new byte[1 << 20];
        uint crc = Crc32C.InitialValue;
        long offset = 0;
        int n;
        while ((n = RandomAccess.Read(handle, buffer, offset)) > 0)
        {
            crc = Crc32C.Append(crc, buffer.AsSpan(0, n));
            offset += n;
        }
        return (offset, Crc32C.Finish(crc));
    }
}
