// WalInstance.Archive: composing the archiver into an instance (archive_mode, archive_command or
// an archive module, archive_timeout) and exposing its pg_stat_archiver figures.
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using PgWal.Archive;
using PgWal.Storage;

namespace PgWal;

public sealed partial class WalInstance
{
    private Archiver? _archiver;     // null when archive_mode is off or the instance is read-only

    /// <summary>The archiver's figures (pg_stat_archiver), or null when archive_mode is off.</summary>
    public ArchiverStats? Archiving => _archiver?.Stats;

    /// <summary>
    /// Marks a file of pg_wal (a history or backup history file, say) for archiving, as
    /// XLogArchiveNotify: no-op when archive_mode is off.
    /// </summary>
    internal void NotifyArchive(string fileName) => _archiver?.Notify(fileName);

    private Archiver? CreateArchiver(IDataDirectoryStorage storage, WalInstanceOptions options, TimelineId timeline)
    {
        if (options.ArchiveMode == ArchiveMode.Off)
            return null;
        var status = storage.ArchiveStatus
            ?? throw new ArgumentException($"archive_mode is {options.ArchiveMode.ToString().ToLowerInvariant()}, but the storage of \"{storage.Location}\" keeps no pg_wal/archive_status", nameof(options));
        var module = options.ArchiveModule ?? new ShellArchiveModule(options.ArchiveCommand ?? "", storage.Location);
        var logger = options.Wal.LoggerFactory?.CreateLogger("PgWal.Archiver") ?? NullLogger.Instance;
        var archiver = new Archiver(status, storage.Wal, module, Wal, timeline, options, logger);
        Wal.SegmentFinished = archiver.SegmentFinished;
        _metrics.ObserveArchiver(() => archiver.Stats);
        return archiver;
    }

    // Shutdown with archiving (PostgreSQL's order): switch before the shutdown checkpoint, so every
    // segment up to the last data is complete, and archive it in the final pass afterwards.
    private void SwitchBeforeShutdown()
    {
        if (_archiver != null && _wal != null)
            _wal.SwitchSegment();
    }
}
