// IDataDirectoryStorage: everything a WalInstance keeps on disk, as one seam — the pg_wal
// directory, the relation files and global/pg_control. The real implementation is
// FileSystemDataDirectory; the crash tests substitute a simulated disk that drops unsynced writes
// and tears sectors, behind the same three interfaces.
namespace PgWal.Storage;

/// <summary>The storage of a data directory.</summary>
public interface IDataDirectoryStorage
{
    /// <summary>The data directory path, for messages.</summary>
    string Location { get; }

    /// <summary>pg_wal.</summary>
    IWalStorage Wal { get; }

    /// <summary>base/, global/ and pg_tblspc/ relation files.</summary>
    IRelationStorage Relations { get; }

    /// <summary>global/pg_control.</summary>
    IControlFileStorage Control { get; }

    /// <summary>
    /// pg_wal/archive_status, or null when this storage keeps none (in-memory test disks): then the
    /// instance cannot archive (<see cref="WalInstanceOptions.ArchiveMode"/> must be off).
    /// </summary>
    IArchiveStatusStorage? ArchiveStatus => null;

    /// <summary>pg_replslot, where persistent replication slots live; null when this storage keeps none.</summary>
    ISlotStorage? Slots => null;

    /// <summary>Creates the directory layout (global/, base/, pg_wal/, pg_wal/archive_status/) durably.</summary>
    void CreateLayout();

    /// <summary>
    /// Reads a small file of the data directory (such as an application's marker), or null when it
    /// does not exist. <paramref name="relativePath"/> uses '/' separators.
    /// </summary>
    byte[]? ReadFile(string relativePath) => throw new NotSupportedException($"{GetType().Name} cannot read files");

    /// <summary>Writes a small file durably: temporary file, fsync, rename, directory fsync.</summary>
    void WriteFileDurably(string relativePath, ReadOnlySpan<byte> content) => throw new NotSupportedException($"{GetType().Name} cannot write files");

    /// <summary>
    /// Renames a small file of the data directory durably (durable_rename: the directory is synced),
    /// replacing <paramref name="to"/>; used for backup_label → backup_label.old.
    /// </summary>
    void RenameFileDurably(string from, string to) => throw new NotSupportedException($"{GetType().Name} cannot rename files");

    /// <summary>Removes a small file of the data directory durably (the directory is synced); a missing file is not an error.</summary>
    void DeleteFileDurably(string relativePath) => throw new NotSupportedException($"{GetType().Name} cannot delete files");

    /// <summary>
    /// Takes the data directory for this process (the postmaster.pid interlock), held until the
    /// result is disposed; null when the storage cannot be shared anyway (in-memory test disks).
    /// </summary>
    /// <exception cref="IOException">Another process (or instance) has the directory open.</exception>
    IDisposable? Lock() => null;

    /// <summary>
    /// Takes the data directory for reading only: excludes <see cref="Lock"/> holders (writers) but
    /// not other readers; null when there is nothing to lock (in-memory test disks, or a read-only
    /// directory where no writer can run either).
    /// </summary>
    /// <exception cref="IOException">A writer has the directory open.</exception>
    IDisposable? LockShared() => null;
}

/// <summary>The control file: read whole, written in place with write + fsync.</summary>
public interface IControlFileStorage
{
    /// <summary>Reads up to <c>destination.Length</c> bytes; -1 when the file does not exist.</summary>
    int Read(Span<byte> destination);

    /// <summary>
    /// Overwrites the file from offset 0 and fsyncs it (creating it durably when missing). A crash
    /// may tear the write at 512-byte sectors; the control file's meaningful bytes fit in one sector,
    /// which is what makes this safe (PostgreSQL's PG_CONTROL_MAX_SAFE_SIZE).
    /// </summary>
    void WriteDurably(ReadOnlySpan<byte> content);
}
