// WalInstance.Backup: PostgreSQL 15's non-exclusive base backup (do_pg_backup_start/stop).
// Start: full-page writes forced and new pages not BKP_REMOVABLE (under all insertion locks), a
// segment switch, a checkpoint whose redo point is the backup's start (distinct from every earlier
// backup's), and the backup_label text. Stop: XLOG_BACKUP_END naming the start (its end is the
// stop point), a switch, the backup history file in pg_wal (archived), and optionally a wait until
// the last segment the backup needs is archived. While any backup runs, the segments from its
// start on are never removed or recycled, so the WAL a copy needs is still there when it is fetched.
using System.Text;
using Microsoft.Extensions.Logging;
using PgWal.Backup;
using PgWal.Format;
using PgWal.Insert;
using PgWal.Storage;

namespace PgWal;

public sealed partial class WalInstance
{
    private readonly object _backupLock = new();
    private Lsn _lastBackupStart;                          // guarded by _backupLock
    private readonly List<Lsn> _runningBackupStarts = []; // guarded by _backupLock; read by the recycler through OldestBackupStart

    /// <summary>The start of the oldest backup still running, or <see cref="Lsn.Invalid"/>.</summary>
    internal Lsn OldestBackupStart
    {
        get
        {
            lock (_backupLock)
                return _runningBackupStarts.Count == 0 ? Lsn.Invalid : _runningBackupStarts.Min();
        }
    }

    /// <summary>
    /// pg_backup_start: begins a base backup. Copy the data directory after this returns, then call
    /// <see cref="StopBackup"/> and put the label's text into the copy as <c>backup_label</c>.
    /// Several backups may run at once.
    /// </summary>
    /// <param name="label">Any one-line text up to 1024 bytes, written into the label.</param>
    /// <param name="fast">Run the start checkpoint at full speed (PgWal's requested checkpoints always are).</param>
    /// <exception cref="ArgumentException">The label is too long or has a line break.</exception>
    public BackupLabel StartBackup(string label, bool fast = true)
    {
        ArgumentNullException.ThrowIfNull(label);
        if (Encoding.UTF8.GetByteCount(label) > BackupLabel.MaxLabelBytes)
            throw new ArgumentException($"backup label too long (max {BackupLabel.MaxLabelBytes} bytes)", nameof(label));
        if (label.Contains('\n') || label.Contains('\r'))
            throw new ArgumentException("backup label must be one line", nameof(label));
        var wal = Wal;
        wal.ChangeRunningBackups(+1);
        try
        {
            wal.SwitchSegment();
            while (true)
            {
                var checkpoint = Checkpoint();
                lock (_backupLock)
                {
                    // Each backup gets a distinct start, which is how BACKUP_END records are matched.
                    if (checkpoint.Redo <= _lastBackupStart)
                        continue;
                    _lastBackupStart = checkpoint.Redo;
                    _runningBackupStarts.Add(checkpoint.Redo);
                }
                var result = new BackupLabel(checkpoint.Redo, checkpoint.Location, ControlFile.CheckPointCopy.ThisTimeline, DateTimeOffset.UtcNow, label);
                _logger.LogInformation("base backup \"{Label}\" started at {Start} (checkpoint {Checkpoint})", label, result.StartLsn, result.CheckpointLsn);
                return result;
            }
        }
        catch
        {
            wal.ChangeRunningBackups(-1);
            throw;
        }
    }

    /// <summary>
    /// pg_backup_stop: ends the backup <paramref name="backup"/> started. Returns the stop point
    /// (the end of XLOG_BACKUP_END): a copy is consistent once recovery replays up to it.
    /// </summary>
    /// <param name="backup">What <see cref="StartBackup"/> returned.</param>
    /// <param name="waitForArchive">With archiving on, wait until the backup's last segment and its history file are archived.</param>
    /// <param name="cancellation">Stops the wait for archiving (the backup itself is stopped already).</param>
    /// <exception cref="InvalidOperationException">That backup is not running.</exception>
    public BackupStopResult StopBackup(BackupLabel backup, bool waitForArchive = true, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(backup);
        var wal = Wal;
        lock (_backupLock)
        {
            if (!_runningBackupStarts.Remove(backup.StartLsn))
                throw new InvalidOperationException("backup is not in progress (was StartBackup called, and StopBackup not yet?)");
        }
        wal.ChangeRunningBackups(-1);
        Lsn stop = wal.Insert(BuiltinRecords.BackupEnd(new RecordBuilder(), backup.StartLsn));
        wal.Flush(stop);
        wal.SwitchSegment();
        wal.Flush(wal.InsertedUpTo);
        var timeline = ControlFile.CheckPointCopy.ThisTimeline;
        var geometry = wal.Geometry;
        var (historyName, historyText) = backup.HistoryFile(geometry, stop, timeline, DateTimeOffset.UtcNow);
        _storage.WriteFileDurably("pg_wal/" + historyName, Encoding.UTF8.GetBytes(historyText));
        NotifyArchive(historyName);
        string lastSegment = SegmentFileName.Format(timeline, geometry.SegmentOf(stop - 1), geometry);
        _logger.LogInformation("base backup \"{Label}\" stopped at {Stop}; backup history file {History}", backup.Label, stop, historyName);
        if (waitForArchive && _archiver != null)
            WaitForArchived([lastSegment, historyName], cancellation);
        return new BackupStopResult(stop, timeline, historyName, lastSegment);
    }

    /// <summary>
    /// Takes a plain-format base backup into <paramref name="target"/> (created; must not exist or be
    /// empty) while clients keep writing, as <c>pg_basebackup -Fp -X fetch</c>: the data files,
    /// global/pg_control last, the WAL from the start to the stop point in pg_wal, backup_label and a
    /// backup_manifest that PostgreSQL's pg_verifybackup checks. Opening the copy replays its WAL up
    /// to the stop point before it opens (it refuses to open if that WAL is missing).
    /// </summary>
    /// <exception cref="IOException">The target is not empty, or a file could not be copied.</exception>
    public BackupStopResult BaseBackup(string target, BaseBackupOptions? options = null, IProgress<BaseBackupProgress>? progress = null, CancellationToken cancellation = default)
    {
        options ??= new BaseBackupOptions();
        if (_storage is not FileSystemDataDirectory)
            throw new NotSupportedException($"base backups copy a data directory on disk; \"{Location}\" is not one");
        var writer = new BaseBackupWriter(Location, target, progress, cancellation);
        var label = StartBackup(options.Label);
        BackupStopResult stop;
        try
        {
            writer.Begin();
            writer.WriteLabel(label.ToText(Wal.Geometry));   // first, as pg_basebackup's tar: a partial copy is never taken for a whole one
            writer.CopyDataFiles();
            writer.CopyControlFile();
        }
        catch
        {
            StopBackup(label, waitForArchive: false);
            throw;
        }
        // The WAL is copied after the stop, so it must still be there then: the recycler keeps
        // segments from the oldest running backup's start, and this one counts as running until
        // its WAL is copied (a second entry, which StopBackup's removal of the first leaves).
        HoldWalFrom(label.StartLsn);
        try
        {
            stop = StopBackup(label, options.WaitForArchive, cancellation);
            if (options.IncludeWal)
                writer.CopyWal(Wal.Geometry, stop.Timeline, label.StartLsn, stop.StopLsn);
            int files = writer.Finish(stop.Timeline, label.StartLsn, stop.StopLsn);
            _logger.LogInformation("base backup \"{Label}\" written to {Target}: {Files} files, WAL {Start} to {Stop}", label.Label, target, files, label.StartLsn, stop.StopLsn);
        }
        finally
        {
            ReleaseWalFrom(label.StartLsn);
        }
        return stop;
    }

    /// <summary>Keeps the WAL from <paramref name="start"/> on (as a running backup does) until <see cref="ReleaseWalFrom"/>.</summary>
    internal void HoldWalFrom(Lsn start)
    {
        lock (_backupLock)
            _runningBackupStarts.Add(start);
    }

    internal void ReleaseWalFrom(Lsn start)
    {
        lock (_backupLock)
            _runningBackupStarts.Remove(start);
    }

    /// <summary>
    /// pg_create_restore_point: writes an XLOG_RESTORE_POINT named <paramref name="name"/> and makes
    /// it durable; a recovery with <c>recovery_target_name</c> = that name stops right after it.
    /// Returns the record's end.
    /// </summary>
    /// <exception cref="ArgumentException">The name is empty or longer than 63 bytes.</exception>
    public Lsn CreateRestorePoint(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (name.Length == 0 || Encoding.UTF8.GetByteCount(name) > 63)
            throw new ArgumentException($"value too long for restore point (maximum 63 characters): \"{name}\"", nameof(name));
        Lsn end = Wal.Insert(BuiltinRecords.RestorePoint(new RecordBuilder(), Diagnostics.PgTimestamp.FromDateTimeOffset(DateTimeOffset.UtcNow), name));
        Wal.Flush(end);
        _logger.LogInformation("restore point \"{Name}\" created at {Lsn}", name, end);
        return end;
    }

    // Polls until every name is archived (.done) or gone, saying so after 5 s and at 60, 120, 240 s ...
    private void WaitForArchived(string[] names, CancellationToken cancellation)
    {
        var status = _storage.ArchiveStatus!;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var nextWarning = TimeSpan.FromSeconds(60);
        bool noticed = false;
        while (names.Any(n => status.Status(n) != ArchiveStatusKind.Done && _storage.Wal.Exists(n)))
        {
            if (!noticed && clock.Elapsed > TimeSpan.FromSeconds(5))
            {
                noticed = true;
                _logger.LogInformation("base backup done, waiting for required WAL segments to be archived");
            }
            if (clock.Elapsed > nextWarning)
            {
                _logger.LogWarning("still waiting for all required WAL segments to be archived ({Seconds} seconds elapsed)", (int)clock.Elapsed.TotalSeconds);
                nextWarning += nextWarning;
            }
            cancellation.WaitHandle.WaitOne(50);
            cancellation.ThrowIfCancellationRequested();
        }
        if (noticed)
            _logger.LogInformation("all required WAL segments have been archived");
    }
}

/// <summary>What <see cref="WalInstance.StopBackup"/> established.</summary>
/// <param name="StopLsn">The end of the XLOG_BACKUP_END record: where a copy becomes consistent.</param>
/// <param name="Timeline">The timeline it is on.</param>
/// <param name="HistoryFileName">The backup history file written into pg_wal.</param>
/// <param name="LastSegment">The last segment the backup needs.</param>
public sealed record BackupStopResult(Lsn StopLsn, TimelineId Timeline, string HistoryFileName, string LastSegment);
