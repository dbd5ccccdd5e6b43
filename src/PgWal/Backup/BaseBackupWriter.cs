// BaseBackupWriter: a plain-format base backup of a running instance, as pg_basebackup -Fp -X fetch
// makes one. Between StartBackup and StopBackup every file of the data directory is copied while
// clients keep writing (a page torn by a concurrent write is repaired at recovery by the full-page
// image the backup forces after its start), except what PostgreSQL leaves out (postmaster.pid,
// backup_label, pg_wal's contents...); global/pg_control is copied last. Then the WAL from the
// start to the stop point (and the timeline history files) go into pg_wal with .done status files,
// backup_label is written, and backup_manifest lists every file with its CRC-32C. Every file and
// directory is synced before the manifest, the last file, is written.
using System.Text;
using Microsoft.Win32.SafeHandles;
using PgWal.Format;
using PgWal.Storage;

namespace PgWal.Backup;

/// <summary>How <see cref="WalInstance.BaseBackup"/> copies.</summary>
public sealed record BaseBackupOptions
{
    /// <summary>The backup's label. Default "pgwal base backup".</summary>
    public string Label { get; init; } = "pgwal base backup";

    /// <summary>Copy the WAL the backup needs into its pg_wal (pg_basebackup -X fetch). Default on.</summary>
    public bool IncludeWal { get; init; } = true;

    /// <summary>Wait until the backup's last segment is archived before returning. Default off.</summary>
    public bool WaitForArchive { get; init; }
}

/// <summary>Progress of a base backup.</summary>
/// <param name="Phase">"copying", "wal", "done".</param>
/// <param name="BytesDone">Bytes copied so far.</param>
/// <param name="BytesTotal">Estimated total (the sizes when the copy began).</param>
/// <param name="FilesDone">Files copied.</param>
/// <param name="CurrentFile">The file being copied, relative to the data directory.</param>
public readonly record struct BaseBackupProgress(string Phase, long BytesDone, long BytesTotal, int FilesDone, string? CurrentFile);

internal sealed class BaseBackupWriter
{
    private const int ChunkSize = 1 << 20;

    private readonly string _source;
    private readonly string _target;
    private readonly IProgress<BaseBackupProgress>? _progress;
    private readonly CancellationToken _cancellation;
    private readonly BackupManifest _manifest = new();
    private readonly byte[] _buffer = new byte[ChunkSize];
    private readonly List<string> _directories = [];
    private long _bytesDone, _bytesTotal;
    private int _filesDone;

    public BaseBackupWriter(string source, string target, IProgress<BaseBackupProgress>? progress, CancellationToken cancellation)
    {
        _source = Path.GetFullPath(source);
        _target = Path.GetFullPath(target);
        _progress = progress;
        _cancellation = cancellation;
        if (File.Exists(_target) || (Directory.Exists(_target) && Directory.EnumerateFileSystemEntries(_target).Any()))
            throw new IOException($"backup target \"{target}\" exists and is not an empty directory");
        if (_target.StartsWith(_source + Path.DirectorySeparatorChar, StringComparison.Ordinal) || _target == _source)
            throw new IOException($"backup target \"{target}\" is inside the data directory \"{source}\"");
    }

    /// <summary>
    /// Marks the target as a backup being written, durably, before anything else lands there: a
    /// copy interrupted (killed, disk full) keeps the mark and is refused by every open, instead
    /// of being recovered as if it were whole. Finish removes it just before the manifest.
    /// </summary>
    public void Begin()
    {
        MakeDirectory("");
        WriteSmallFile(BackupLabel.IncompleteMarker, Encoding.UTF8.GetBytes("a PgWal base backup is being written here, or its writing was interrupted: do not use this copy\n"), listed: false);
        FileSystemWalStorage.SyncDirectory(Path.GetDirectoryName(_target)!);
        FileSystemWalStorage.SyncDirectory(_target);
    }

    /// <summary>Copies every file but pg_control; the backup label goes first in the manifest.</summary>
    public void CopyDataFiles()
    {
        var files = new List<string>();
        foreach (var entry in BackupFileSet.Walk(_source))
        {
            if (entry.IsDirectory)
                MakeDirectory(entry.Path);
            else
                files.Add(entry.Path);
        }
        _bytesTotal = files.Sum(f => Length(Path.Combine(_source, f)));
        foreach (var file in files)
            CopyFile(file, file, listed: true);
    }

    /// <summary>global/pg_control, last of the data files (PostgreSQL sends it last).</summary>
    public void CopyControlFile() => CopyFile("global/pg_control", "global/pg_control", listed: true, deferListing: true);

    /// <summary>The WAL from <paramref name="start"/> up to <paramref name="stop"/> and every history file, each with a .done.</summary>
    public void CopyWal(WalGeometry geometry, TimelineId timeline, Lsn start, Lsn stop)
    {
        var names = new List<string>();
        for (ulong s = geometry.SegmentOf(start).Value; s <= geometry.SegmentOf(stop - 1).Value; s++)
            names.Add(SegmentFileName.Format(timeline, new SegmentNumber(s), geometry));
        foreach (var path in Directory.EnumerateFiles(Path.Combine(_source, "pg_wal"), "*.history"))
            names.Add(Path.GetFileName(path));
        _bytesTotal += names.Count * (long)geometry.SegmentSize;
        foreach (var name in names)
        {
            if (!CopyFile("pg_wal/" + name, "pg_wal/" + name, listed: false, phase: "wal"))
                throw new IOException($"WAL file \"{name}\" the backup needs is missing from \"{Path.Combine(_source, "pg_wal")}\"");
            WriteSmallFile($"pg_wal/archive_status/{name}.done", [], listed: false);
        }
    }

    public void WriteLabel(string text) => WriteSmallFile(BackupLabel.FileName, Encoding.UTF8.GetBytes(text), listed: true, first: true);

    /// <summary>Syncs every directory, then writes backup_manifest with the WAL range.</summary>
    public int Finish(TimelineId timeline, Lsn start, Lsn stop)
    {
        if (_deferred is { } control)
            _manifestEntries.Add(control);
        foreach (var entry in _manifestEntries)
            _manifest.AddFile(entry.Path, entry.Size, entry.Modified, entry.Crc);
        _manifest.AddWalRange(timeline, start, stop);
        foreach (var dir in _directories.Append(_target))
            FileSystemWalStorage.SyncDirectory(dir);
        File.Delete(Path.Combine(_target, BackupLabel.IncompleteMarker));
        FileSystemWalStorage.SyncDirectory(_target);
        WriteSmallFile("backup_manifest", _manifest.ToBytes(), listed: false);
        FileSystemWalStorage.SyncDirectory(_target);
        _progress?.Report(new BaseBackupProgress("done", _bytesDone, _bytesTotal, _filesDone, null));
        return _manifestEntries.Count;
    }

    private readonly List<(string Path, long Size, DateTimeOffset Modified, uint Crc)> _manifestEntries = [];
    private (string Path, long Size, DateTimeOffset Modified, uint Crc)? _deferred;

    private void MakeDirectory(string relative)
    {
        string path = relative.Length == 0 ? _target : Path.Combine(_target, relative);
        if (!Directory.Exists(path))
        {
            Directory.CreateDirectory(path);
            _directories.Add(path);
        }
        else if (relative.Length == 0)
        {
            _directories.Add(path);
        }
    }

    private static long Length(string path)
    {
        try
        {
            return new FileInfo(path).Length;
        }
        catch (FileNotFoundException)
        {
            return 0;
        }
    }

    // Copies one file in 1 MB chunks, computing its CRC-32C; false when it vanished before it was opened.
    private bool CopyFile(string from, string to, bool listed, bool deferListing = false, string phase = "copying")
    {
        _cancellation.ThrowIfCancellationRequested();
        string source = Path.Combine(_source, from), target = Path.Combine(_target, to);
        SafeFileHandle input;
        DateTimeOffset modified;
        try
        {
            modified = new DateTimeOffset(File.GetLastWriteTimeUtc(source), TimeSpan.Zero);
            input = File.OpenHandle(source, FileMode.Open, FileAccess.Read);
        }
        catch (FileNotFoundException)
        {
            return false;   // a file dropped while the backup ran: replay of the WAL drops it too
        }
        using (input)
        using (var output = File.OpenHandle(target, FileMode.CreateNew, FileAccess.Write))
        {
            uint crc = Crc32C.InitialValue;
            long offset = 0;
            int n;
            while ((n = RandomAccess.Read(input, _buffer, offset)) > 0)
            {
                crc = Crc32C.Append(crc, _buffer.AsSpan(0, n));
                RandomAccess.Write(output, _buffer.AsSpan(0, n), offset);
                offset += n;
                _bytesDone += n;
                _progress?.Report(new BaseBackupProgress(phase, _bytesDone, Math.Max(_bytesTotal, _bytesDone), _filesDone, from));
            }
            FileSystemWalStorage.SyncHandle(output, dataOnly: false, target);
            _filesDone++;
            if (listed)
            {
                var entry = (from, offset, modified, Crc32C.Finish(crc));
                if (deferListing)
                    _deferred = entry;
                else
                    _manifestEntries.Add(entry);
            }
        }
        return true;
    }

    private void WriteSmallFile(string relative, byte[] content, bool listed, bool first = false)
    {
        string target = Path.Combine(_target, relative);
        using (var output = File.OpenHandle(target, FileMode.CreateNew, FileAccess.Write))
        {
            RandomAccess.Write(output, content, 0);
            FileSystemWalStorage.SyncHandle(output, dataOnly: false, target);
        }
        if (listed)
        {
            var entry = (relative, (long)content.Length, DateTimeOffset.UtcNow, Crc32C.Compute(content));
            if (first)
                _manifestEntries.Insert(0, entry);
            else
                _manifestEntries.Add(entry);
        }
    }
}
