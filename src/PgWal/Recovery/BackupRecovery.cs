// BackupRecovery: starting recovery of a base backup (InitWalRecovery with a backup_label). The
// label names the checkpoint to start from; pg_control is set to archive recovery with
// backupStartPoint = the label's redo point and backupEndRequired (METHOD streamed), then
// backup_label is durably renamed to backup_label.old — in that order, so a crash in between
// starts from the label again and a crash after restarts from pg_control ("restarting backup
// recovery"). Replay watches for XLOG_BACKUP_END naming that start; until it is replayed the copy
// is not consistent, and recovery that runs out of WAL before it refuses to open the directory.
using System.Text;
using Microsoft.Extensions.Logging;
using PgWal.Backup;
using PgWal.Format;
using PgWal.Read;
using PgWal.Storage;

namespace PgWal.Recovery;

internal static class BackupRecovery
{
    /// <summary>
    /// When the data directory holds a backup_label: checks it, points pg_control at its checkpoint
    /// (durably) and sets the label aside. Returns the control data recovery starts from.
    /// </summary>
    // archiveSource: during archive recovery, where the checkpoint's WAL comes from (the archive, then pg_wal); null: pg_wal only.
    public static ControlFileData Begin(IDataDirectoryStorage storage, ControlFileData stored, Action<ControlFileData> writeControl, ILogger logger,
        Func<TimelineId, IPageSource>? archiveSource = null)
    {
        if (storage.ReadFile(BackupLabel.IncompleteMarker) != null)
            throw new RecoveryException($"\"{storage.Location}\" is a base backup whose copying did not complete ({BackupLabel.IncompleteMarker} is still there): it is not a consistent copy and cannot be opened; take a new backup");
        byte[]? bytes = storage.ReadFile(BackupLabel.FileName);
        if (bytes == null)
        {
            if (stored.BackupStartPoint.IsValid || stored.BackupEndRequired)
                logger.LogInformation("restarting backup recovery with redo LSN {Redo}", stored.BackupStartPoint);
            return stored;
        }
        string where = Path.Combine(storage.Location, BackupLabel.FileName);
        var label = BackupLabel.Parse(Encoding.UTF8.GetString(bytes), out string? error)
            ?? throw new RecoveryException($"{error} (file \"{where}\")");
        if (label.From != "primary")
            throw new RecoveryException($"backup_label \"{where}\" says BACKUP FROM: {label.From}; PgWal restores backups taken from a primary only");
        var geometry = new WalGeometry((int)stored.WalSegmentSize);
        var checkPoint = ReadCheckpoint(archiveSource?.Invoke(label.Timeline) ?? new WalStoragePageSource(storage.Wal, geometry), geometry, stored, label, where);
        logger.LogInformation("starting backup recovery with redo LSN {Redo}, checkpoint LSN {Checkpoint}, on timeline ID {Timeline}",
            checkPoint.Redo, label.CheckpointLsn, label.Timeline.Value);
        var control = stored with
        {
            State = DatabaseState.InArchiveRecovery,
            CheckPointLocation = label.CheckpointLsn,
            CheckPointCopy = checkPoint,
            MinRecoveryPoint = Lsn.Max(stored.MinRecoveryPoint, checkPoint.Redo),
            MinRecoveryPointTimeline = checkPoint.ThisTimeline,
            BackupStartPoint = checkPoint.Redo,
            BackupEndPoint = Lsn.Invalid,
            BackupEndRequired = label.EndRequired,
        };
        writeControl(control);
        storage.RenameFileDurably(BackupLabel.FileName, BackupLabel.FileName + ".old");
        return control;
    }

    private static CheckPoint ReadCheckpoint(IPageSource source, WalGeometry geometry, ControlFileData stored, BackupLabel label, string where)
    {
        using var reader = new WalReader(source, new WalReaderOptions
        {
            SegmentSize = geometry.SegmentSize, Timeline = label.Timeline, SystemIdentifier = stored.SystemIdentifier,
        });
        reader.BeginRead(label.CheckpointLsn);
        var outcome = reader.ReadRecord();
        var record = outcome.Record;
        if (!outcome.IsRecord || record!.RmgrId != RmgrIds.Xlog || (record.Info & RecordHeader.RmgrInfoMask) is not (XlogInfo.CheckpointOnline or XlogInfo.CheckpointShutdown)
            || record.MainDataLength != CheckPoint.Size)
        {
            throw new RecoveryException(
                $"could not locate required checkpoint record at {label.CheckpointLsn} ({outcome.Error?.Message ?? "not a checkpoint record"}). " +
                $"If you are restoring from a backup, make the WAL from {label.StartLsn} on available in pg_wal or the archive; " +
                $"if you are not restoring from a backup, remove \"{where}\" (a backup_label in a data directory that is not a backup makes the data inconsistent).");
        }
        var checkPoint = CheckPoint.Read(record.MainData);
        if (checkPoint.Redo != label.StartLsn)
            throw new RecoveryException($"backup_label \"{where}\" says START WAL LOCATION {label.StartLsn}, but the checkpoint at {label.CheckpointLsn} has its redo point at {checkPoint.Redo}");
        return checkPoint;
    }
}
