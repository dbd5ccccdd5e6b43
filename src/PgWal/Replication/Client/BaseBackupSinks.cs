// BaseBackupSinks: where BASE_BACKUP's archives go. Plain format extracts each tar as it arrives
// (base.tar into the target directory, a tablespace's into its own directory); tar format writes
// the archives as they are (base.tar, <oid>.tar). Both write the manifest to backup_manifest.tmp;
// BaseBackupReceiver renames it once everything else is durable, as pg_basebackup does.
using System.Buffers;
using Microsoft.Win32.SafeHandles;

namespace PgWal.Replication.Client;

/// <summary>Shared by both formats: the manifest, progress, and the list of files for the final fsync.</summary>
internal abstract class BackupSinkBase(string directory, UnixFileMode fileMode, Action<long>? progress) : IBaseBackupSink
{
    private SafeFileHandle? _manifest;
    private long _manifestWritten;

    public string Directory { get; } = directory;
    public UnixFileMode FileMode { get; } = fileMode;
    public List<string> Files { get; } = [];
    public string ManifestTemp => Path.Combine(Directory, "backup_manifest.tmp");
    public bool HasManifest { get; private set; }
    public int ArchivesDone { get; protected set; }

    public abstract void BeginArchive(string name, string tablespacePath);
    public abstract void ArchiveData(ReadOnlySequence<byte> data);
    public abstract void EndArchive();

    public void BeginManifest()
    {
        _manifest = File.OpenHandle(ManifestTemp, System.IO.FileMode.Create, FileAccess.Write);
        SetMode(ManifestTemp);
        HasManifest = true;
    }

    public void ManifestData(ReadOnlySequence<byte> data)
    {
        foreach (var piece in data)
        {
            RandomAccess.Write(_manifest!, piece.Span, _manifestWritten);
            _manifestWritten += piece.Length;
        }
    }

    public void Progress(long bytesDone) => progress?.Invoke(bytesDone);

    public void CloseManifest()
    {
        _manifest?.Dispose();
        _manifest = null;
    }

    protected void SetMode(string path)
    {
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(path, FileMode);
    }
}

/// <summary>-Fp: archives extracted into the directories they belong to.</summary>
internal sealed class PlainBackupSink(string directory, UnixFileMode fileMode, UnixFileMode directoryMode, Action<long>? progress)
    : BackupSinkBase(directory, fileMode, progress)
{
    private TarExtractor? _current;

    public override void BeginArchive(string name, string tablespacePath)
    {
        string target = tablespacePath.Length == 0 ? Directory : tablespacePath;
        if (tablespacePath.Length > 0 && System.IO.Directory.Exists(target) && System.IO.Directory.EnumerateFileSystemEntries(target).Any())
            throw new IOException($"directory \"{target}\" exists but is not empty");
        _current = new TarExtractor(target, FileMode, directoryMode);
    }

    public override void ArchiveData(ReadOnlySequence<byte> data) => _current!.Write(data);

    public override void EndArchive()
    {
        if (_current == null)
            return;
        _current.Finish();
        ArchivesDone++;
        Files.AddRange(_current.Files);
        _current.Dispose();
        _current = null;
    }
}

/// <summary>-Ft: archives written as received.</summary>
internal sealed class TarBackupSink(string directory, UnixFileMode fileMode, Action<long>? progress)
    : BackupSinkBase(directory, fileMode, progress)
{
    private SafeFileHandle? _current;
    private long _written;

    public override void BeginArchive(string name, string tablespacePath)
    {
        string path = Path.Combine(Directory, name);
        _current = File.OpenHandle(path, System.IO.FileMode.CreateNew, FileAccess.Write);
        SetMode(path);
        Files.Add(path);
        _written = 0;
    }

    public override void ArchiveData(ReadOnlySequence<byte> data)
    {
        foreach (var piece in data)
        {
            RandomAccess.Write(_current!, piece.Span, _written);
            _written += piece.Length;
        }
    }

    public override void EndArchive()
    {
        if (_current == null)
            return;
        _current.Dispose();
        _current = null;
        ArchivesDone++;
    }
}
