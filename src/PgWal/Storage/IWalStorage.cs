// IWalStorage / IWalSegmentFile: the writer's view of the file system. The real implementation is
// FileSystemWalStorage; tests substitute layers that log or fail writes and syncs, and later ones
// drop unsynced writes to simulate power loss. Every durability promise goes through Sync().
namespace PgWal.Storage;

/// <summary>Where WAL segment files live (a pg_wal directory).</summary>
public interface IWalStorage
{
    /// <summary>The directory path, for messages.</summary>
    string Location { get; }

    /// <summary>True when the segment file exists.</summary>
    bool Exists(string fileName);

    /// <summary>
    /// Creates a segment of <paramref name="size"/> zero bytes durably: written in full to a temporary
    /// name, synced, renamed into place and the directory synced, so a crash leaves either no file or
    /// a complete one.
    /// </summary>
    IWalSegmentFile Create(string fileName, int size);

    /// <summary>Opens an existing segment for writing.</summary>
    IWalSegmentFile Open(string fileName, SegmentOpenOptions options = default);

    /// <summary>Names of the files in the directory (not subdirectories), in no particular order.</summary>
    IReadOnlyList<string> ListFiles() => throw new NotSupportedException($"{GetType().Name} cannot list files");

    /// <summary>
    /// Reads up to <c>destination.Length</c> bytes of <paramref name="fileName"/> at
    /// <paramref name="offset"/>; returns the count (less at the end of the file).
    /// </summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    int Read(string fileName, long offset, Span<byte> destination) => throw new NotSupportedException($"{GetType().Name} cannot read");

    /// <summary>
    /// Renames a file durably (PostgreSQL's durable_rename: the directory is synced), failing when
    /// <paramref name="to"/> exists. Used to recycle old segments under future names.
    /// </summary>
    void Rename(string from, string to) => throw new NotSupportedException($"{GetType().Name} cannot rename");

    /// <summary>Removes a file durably; a missing file is not an error.</summary>
    void Delete(string fileName) => throw new NotSupportedException($"{GetType().Name} cannot delete");

    /// <summary>
    /// Sets <paramref name="fileName"/> aside in the subdirectory <paramref name="folder"/> of the
    /// WAL directory (created when missing), byte for byte under the same name: moved, or copied when
    /// <paramref name="keepOriginal"/>. Durable when it returns (file and directories synced).
    /// Recovery uses it for WAL it will not replay; nothing it sets aside is ever deleted by PgWal.
    /// </summary>
    void SetAside(string fileName, string folder, bool keepOriginal) => throw new NotSupportedException($"{GetType().Name} cannot set files aside");

    /// <summary>
    /// Makes the directory's entries durable (fsync of the directory): used before trusting a
    /// segment this process did not create or rename itself. Storages whose metadata operations
    /// are durable at once need not override it.
    /// </summary>
    /// <exception cref="SyncFailedException">The fsync failed.</exception>
    void SyncDirectory()
    {
    }
}

/// <summary>An open segment file.</summary>
public interface IWalSegmentFile : IDisposable
{
    /// <summary>The file name.</summary>
    string Name { get; }

    /// <summary>Writes <paramref name="data"/> at <paramref name="offset"/> (all of it, or throws).</summary>
    void Write(long offset, ReadOnlySpan<byte> data);

    /// <summary>
    /// Makes everything written so far durable (fdatasync, fsync, or nothing for O_DSYNC files, as
    /// opened). A failure (preferably a <see cref="SyncFailedException"/>) must never be retried.
    /// </summary>
    void Sync();
}
