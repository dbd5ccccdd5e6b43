// IArchiveModule: PostgreSQL 15's archive modules (check_configured_cb, archive_file_cb,
// shutdown_cb) as a .NET interface. The archiver calls Archive for one file at a time, oldest
// first, and marks the file .done only when it returns; a failure (an exception) is retried.
namespace PgWal.Archive;

/// <summary>Where the archiver sends each completed WAL file.</summary>
public interface IArchiveModule
{
    /// <summary>
    /// Whether archiving is configured (check_configured_cb). When false the archiver warns
    /// "archive_mode enabled, yet archiving is not configured" and WAL accumulates in pg_wal.
    /// </summary>
    bool IsConfigured => true;

    /// <summary>
    /// Archives <paramref name="fileName"/>, whose bytes are at <paramref name="path"/>; returns only
    /// once the copy is durable. Must succeed when the archive already holds identical content (the
    /// archiver may offer a file again after a crash) and fail when it holds different content.
    /// </summary>
    /// <param name="fileName">The bare name: a segment, <c>.partial</c>, <c>.history</c> or <c>.backup</c> file.</param>
    /// <param name="path">The absolute path of the file in pg_wal.</param>
    /// <param name="cancellation">Set when the instance is closing and cannot wait.</param>
    /// <exception cref="Exception">Any failure; its message is logged and counted, and the file is retried.</exception>
    void Archive(string fileName, string path, CancellationToken cancellation);
}

/// <summary>
/// The built-in repository as an archive module (as contrib/basic_archive): every file is pushed
/// in-process (<see cref="WalRepository.Push"/>: compressed, checksummed, atomic, idempotent), with
/// no process started per segment.
/// </summary>
public sealed class RepositoryArchiveModule(WalRepository repository) : IArchiveModule
{
    /// <summary>The repository.</summary>
    public WalRepository Repository { get; } = repository;

    /// <inheritdoc/>
    public void Archive(string fileName, string path, CancellationToken cancellation)
    {
        if (ArchivedFileName.TryParse(fileName, out var name) is { } why)
            throw new ArchiveException(why);
        Repository.Push(path, name);
    }
}
