// IArchiveStatusStorage: pg_wal/archive_status, where an empty "<name>.ready" asks for a WAL file
// to be archived and "<name>.done" records that it was (or is treated as) archived. The archiver,
// the segment recycler and recovery are its only users; FileSystemArchiveStatus is the real one.
namespace PgWal.Storage;

/// <summary>What pg_wal/archive_status says of one WAL file.</summary>
public enum ArchiveStatusKind
{
    /// <summary>No status file: never notified (or notified and the .ready lost in a crash).</summary>
    None,

    /// <summary><c>.ready</c>: waiting to be archived.</summary>
    Ready,

    /// <summary><c>.done</c>: archived, or treated as archived.</summary>
    Done,
}

/// <summary>The archive status files of a pg_wal directory.</summary>
public interface IArchiveStatusStorage
{
    /// <summary>The directory path, for messages.</summary>
    string Location { get; }

    /// <summary>The status of <paramref name="fileName"/> (a name in pg_wal).</summary>
    ArchiveStatusKind Status(string fileName);

    /// <summary>
    /// Creates <c>&lt;fileName&gt;.ready</c> (XLogArchiveNotify). Not synced, as in PostgreSQL: a
    /// .ready lost in a crash is made again at the next checkpoint that finds neither status file.
    /// </summary>
    void MarkReady(string fileName);

    /// <summary>
    /// Marks <paramref name="fileName"/> archived durably: renames its .ready to .done, or creates
    /// the .done when there is no .ready (XLogArchiveForceDone), and syncs the directory.
    /// </summary>
    void MarkDone(string fileName);

    /// <summary>Removes both status files of <paramref name="fileName"/> (XLogArchiveCleanup); missing ones are fine.</summary>
    void Remove(string fileName);

    /// <summary>The names (without ".ready") of every .ready file, in no particular order.</summary>
    IReadOnlyList<string> ListReady();
}
