// FileSystemRelationStorage: relation fork files under a data directory (base/<db>/<rel>...),
// positional 8 kB reads and writes on a SafeFileHandle, fsync on Sync. New files are created
// durably (parent directory synced) so a checkpoint's fsync of the file is enough for its pages.
// Read-only (a read-only open of a data directory): files are opened for reading only, a missing
// one is an error rather than created, and writes and syncs are refused.
using Microsoft.Win32.SafeHandles;
using PgWal.Format;

namespace PgWal.Storage;

/// <summary>Relation files of a data directory on disk.</summary>
public sealed class FileSystemRelationStorage(string dataDirectory, bool readOnly = false) : IRelationStorage
{
    private const int PageSize = BlockReferenceFormat.DataPageSize;

    /// <inheritdoc/>
    public bool Exists(RelFileLocator rel, ForkNumber fork) => File.Exists(FullPath(rel, fork));

    /// <inheritdoc/>
    public IRelationFile Open(RelFileLocator rel, ForkNumber fork)
    {
        string relative = RelationPath.Of(rel, fork);
        string full = FullPath(rel, fork);
        if (readOnly)
        {
            try
            {
                return new RelationFile(relative, File.OpenHandle(full, FileMode.Open, FileAccess.Read, FileShare.ReadWrite), readOnly: true);
            }
            catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
            {
                throw new FileNotFoundException($"could not open file \"{relative}\": No such file or directory", relative, e);
            }
        }
        bool existed = File.Exists(full);
        if (!existed)
            FileSystemDataDirectory.CreateDirectoryDurably(Path.GetDirectoryName(full)!);
        var handle = File.OpenHandle(full, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.ReadWrite);
        if (!existed)
            FileSystemWalStorage.SyncDirectory(Path.GetDirectoryName(full)!);
        return new RelationFile(relative, handle, readOnly: false);
    }

    /// <inheritdoc/>
    public IReadOnlyList<(RelFileLocator Rel, ForkNumber Fork)> List()
    {
        var result = new List<(RelFileLocator, ForkNumber)>();
        string baseDir = Path.Combine(dataDirectory, "base");
        if (!Directory.Exists(baseDir))
            return result;
        foreach (var dbDir in Directory.EnumerateDirectories(baseDir))
        {
            if (!uint.TryParse(Path.GetFileName(dbDir), out uint db))
                continue;
            foreach (var file in Directory.EnumerateFiles(dbDir))
            {
                string name = Path.GetFileName(file);
                var fork = ForkNumber.Main;
                int underscore = name.IndexOf('_');
                if (underscore > 0)
                {
                    fork = name[(underscore + 1)..] switch
                    {
                        "fsm" => ForkNumber.FreeSpaceMap,
                        "vm" => ForkNumber.VisibilityMap,
                        "init" => ForkNumber.Init,
                        _ => (ForkNumber)255,
                    };
                    name = name[..underscore];
                }
                if ((byte)fork != 255 && uint.TryParse(name, out uint relNumber))
                    result.Add((new RelFileLocator(RelationPath.DefaultTablespace, db, relNumber), fork));
            }
        }
        return result;
    }

    private string FullPath(RelFileLocator rel, ForkNumber fork)
        => Path.Combine(dataDirectory, RelationPath.Of(rel, fork).Replace('/', Path.DirectorySeparatorChar));

    private sealed class RelationFile(string path, SafeFileHandle handle, bool readOnly) : IRelationFile
    {
        public string Path { get; } = path;

        public uint BlockCount => (uint)(RandomAccess.GetLength(handle) / PageSize);

        public bool Read(BlockNumber block, Span<byte> page)
        {
            long offset = (long)block.Value * PageSize;
            if (offset + PageSize > RandomAccess.GetLength(handle))
                return false;
            int n = FileSystemWalStorage.ReadFully(handle, page[..PageSize], offset);
            if (n != PageSize)
                throw new IOException($"could not read block {block.Value} in file \"{Path}\": read only {n} of {PageSize} bytes");
            return true;
        }

        public void Write(BlockNumber block, ReadOnlySpan<byte> page)
        {
            if (readOnly)
                throw new InvalidOperationException($"\"{Path}\" is open read-only");
            RandomAccess.Write(handle, page[..PageSize], (long)block.Value * PageSize);
        }

        public void Sync()
        {
            if (!readOnly)
                FileSystemWalStorage.SyncHandle(handle, dataOnly: false, Path);
        }

        public void Dispose() => handle.Dispose();
    }
}
