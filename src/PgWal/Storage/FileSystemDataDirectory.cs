// FileSystemDataDirectory: a data directory on the real file system, laid out like PostgreSQL's:
// global/pg_control, pg_wal/ (+ archive_status/), base/<db>/<rel>[_fork]. New files and
// directories are made durable by syncing their parent directory.
namespace PgWal.Storage;

/// <summary>A data directory on disk.</summary>
public sealed class FileSystemDataDirectory : IDataDirectoryStorage
{
    /// <summary>Uses <paramref name="directory"/>; <paramref name="zeroFillWal"/> is wal_init_zero.</summary>
    public FileSystemDataDirectory(string directory, bool zeroFillWal = true) : this(directory, zeroFillWal, readOnly: false)
    {
    }

    /// <summary>
    /// Uses <paramref name="directory"/>; with <paramref name="readOnly"/> nothing is ever created
    /// or written (a read-only open: no pg_wal or relation file is created, relation files are
    /// opened for reading).
    /// </summary>
    public FileSystemDataDirectory(string directory, bool zeroFillWal, bool readOnly)
    {
        Location = directory;
        WalDirectory = Path.Combine(directory, "pg_wal");
        ZeroFillWal = zeroFillWal;
        ReadOnly = readOnly;
        Relations = new FileSystemRelationStorage(directory, readOnly);
        Control = new FileSystemControlFile(Path.Combine(directory, "global", "pg_control"));
    }

    /// <summary>Whether this storage refuses to create or write anything.</summary>
    public bool ReadOnly { get; }

    /// <inheritdoc/>
    public string Location { get; }

    /// <summary>The pg_wal path.</summary>
    public string WalDirectory { get; }

    /// <summary>Whether new segments are zero-filled.</summary>
    public bool ZeroFillWal { get; }

    /// <inheritdoc/>
    public IWalStorage Wal => _wal ??= new FileSystemWalStorage(WalDirectory, ZeroFillWal, createDirectory: !ReadOnly);
    private IWalStorage? _wal;

    /// <inheritdoc/>
    public IArchiveStatusStorage? ArchiveStatus => ReadOnly ? null : _archiveStatus ??= new FileSystemArchiveStatus(WalDirectory);
    private IArchiveStatusStorage? _archiveStatus;

    /// <inheritdoc/>
    public ISlotStorage? Slots => ReadOnly ? null : _slots ??= new FileSystemSlotStorage(Location);
    private ISlotStorage? _slots;

    /// <inheritdoc/>
    public IRelationStorage Relations { get; }

    /// <summary>
    /// Takes <c>postmaster.pid</c> exclusively (an flock), writing our pid: a second instance — in
    /// this process or another — gets a clear error instead of running recovery under a live one.
    /// Disposing the lock (the instance closing, by Dispose or Abandon) removes the file.
    /// </summary>
    public IDisposable? Lock()
    {
        if (!Directory.Exists(Location))
            return null;   // nothing to open: the control file's absence is reported next
        return DataDirectoryLock.Exclusive(Location);
    }

    /// <inheritdoc/>
    public IDisposable? LockShared() => Directory.Exists(Location) ? DataDirectoryLock.Shared(Location) : null;

    /// <inheritdoc/>
    public IControlFileStorage Control { get; }

    /// <inheritdoc/>
    public byte[]? ReadFile(string relativePath)
    {
        string path = Path.Combine(Location, relativePath);
        try
        {
            return File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
    }

    /// <inheritdoc/>
    public void RenameFileDurably(string from, string to)
    {
        if (ReadOnly)
            throw new InvalidOperationException($"data directory \"{Location}\" is open read-only");
        string target = Path.Combine(Location, to);
        File.Move(Path.Combine(Location, from), target, overwrite: true);
        FileSystemWalStorage.SyncDirectory(Path.GetDirectoryName(Path.GetFullPath(target))!);
    }

    /// <inheritdoc/>
    public void DeleteFileDurably(string relativePath)
    {
        string path = Path.Combine(Location, relativePath);
        if (!File.Exists(path))
            return;
        File.Delete(path);
        FileSystemWalStorage.SyncDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
    }

    /// <inheritdoc/>
    public void WriteFileDurably(string relativePath, ReadOnlySpan<byte> content)
    {
        if (ReadOnly)
            throw new InvalidOperationException($"data directory \"{Location}\" is open read-only");
        string path = Path.Combine(Location, relativePath);
        string directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        CreateDirectoryDurably(directory);
        string temp = path + ".tmp";
        using (var handle = File.OpenHandle(temp, FileMode.Create, FileAccess.ReadWrite, FileShare.None))
        {
            RandomAccess.Write(handle, content, 0);
            FileSystemWalStorage.SyncHandle(handle, dataOnly: false, temp);
        }
        File.Move(temp, path, overwrite: true);
        FileSystemWalStorage.SyncDirectory(directory);
    }

    /// <inheritdoc/>
    public void CreateLayout()
    {
        foreach (var sub in new[] { "", "global", "base", "pg_wal", Path.Combine("pg_wal", "archive_status") })
            CreateDirectoryDurably(Path.Combine(Location, sub));
    }

    internal static void CreateDirectoryDurably(string path)
    {
        if (Directory.Exists(path))
            return;
        string full = Path.GetFullPath(path);
        string? parent = Path.GetDirectoryName(full.TrimEnd(Path.DirectorySeparatorChar));
        if (parent != null)
            CreateDirectoryDurably(parent);
        Directory.CreateDirectory(full);
        if (parent != null)
            FileSystemWalStorage.SyncDirectory(parent);
    }

    private sealed class FileSystemControlFile(string path) : IControlFileStorage
    {
        public int Read(Span<byte> destination)
        {
            if (!File.Exists(path))
                return -1;
            using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            return FileSystemWalStorage.ReadFully(handle, destination, 0);
        }

        public void WriteDurably(ReadOnlySpan<byte> content)
        {
            bool existed = File.Exists(path);
            if (!existed)
                CreateDirectoryDurably(Path.GetDirectoryName(path)!);
            using (var handle = File.OpenHandle(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read))
            {
                RandomAccess.Write(handle, content, 0);
                FileSystemWalStorage.SyncHandle(handle, dataOnly: false, path);
            }
            if (!existed)
                FileSystemWalStorage.SyncDirectory(Path.GetDirectoryName(path)!);
        }
    }
}
