// StartupRecovery: StartupXLOG's reading half. Finds the checkpoint the control file names,
// decides whether crash recovery is needed, and replays from its redo point through the resource
// managers until the end of valid WAL. A pre-scan (RecoveryPreScan) reads ahead on another thread to
// find that end and judge it: an ordinary end (zeros, a recycled page, a torn last write) ends
// replay as in PostgreSQL; damage followed by later WAL, or in WAL proven durable, stops recovery
// before any page or the control file is written (WalRecoveryMode.TolerateTornTail), or is
// accepted and reported (PointInTime). A record whose continuation is missing is reported so the
// caller overwrites it (XLOG_OVERWRITE_CONTRECORD). Replay runs on the calling thread; the buffer
// pool's WAL rule is off here (the replayed WAL is already durable) — its hook waits for the verdict.
using System.Diagnostics;
using Microsoft.Extensions.Logging;
using PgWal.Format;
using PgWal.Pages;
using PgWal.Read;
using PgWal.Storage;

namespace PgWal.Recovery;

internal sealed class StartupRecovery(IWalStorage wal, IRelationStorage relations, WalGeometry geometry, ControlFileData control,
    ResourceManagerRegistry managers, BufferManager buffers, WalRecoveryMode mode, ILogger logger, Diagnostics.InstanceMetrics metrics)
{
    /// <summary>What replay established: the WAL end to continue from and the counters to resume.</summary>
    public sealed class State
    {
        public required CheckPoint CheckPoint;
        public Lsn LastRecord;
        public Lsn EndOfLog;
        public Lsn AbortedRecord;
        public Lsn MissingContinuation;
        public ulong NextXid;
        public uint NextOid;
        public required RecoveryResult Result;
    }

    /// <param name="syncDataDirectory">SyncDataDirectory: called before replay (syncing changes no byte).</param>
    /// <param name="markInCrashRecovery">Writes the control file; called once the verdict allows recovery.</param>
    public State Run(Action syncDataDirectory, Action<ControlFileData> markInCrashRecovery)
    {
        using var reader = NewReader();
        var checkPoint = ReadCheckpointRecord(reader, out Lsn checkpointEnd);
        bool needRecovery = control.State != DatabaseState.ShutDown || checkPoint.Redo < control.CheckPointLocation;
        if (!needRecovery)
        {
            return new State
            {
                CheckPoint = checkPoint, LastRecord = control.CheckPointLocation, EndOfLog = checkpointEnd,
                NextXid = checkPoint.NextXid, NextOid = checkPoint.NextOid,
                Result = new RecoveryResult { Checkpoint = control.CheckPointLocation, RedoStart = checkPoint.Redo, LastRecord = control.CheckPointLocation, EndOfWal = checkpointEnd },
            };
        }

        logger.LogInformation("database system was interrupted; last known up at {Time}; starting crash recovery from checkpoint {Checkpoint}, redo at {Redo}",
            DateTimeOffset.FromUnixTimeSeconds(control.Time).ToString("u"), control.CheckPointLocation, checkPoint.Redo);
        var inspector = new WalEndInspector(wal, relations, geometry, control.CheckPointCopy.ThisTimeline, control.SystemIdentifier);
        if (control.State == DatabaseState.InArchiveRecovery)
            logger.LogInformation("recovering a base backup: consistent once the end-of-backup record for {Start} is replayed", control.BackupStartPoint);
        var prescan = new RecoveryPreScan(NewReader, checkPoint.Redo, control.CheckPointLocation, inspector, mode);
        syncDataDirectory();
        var walFlush = buffers.WalFlush;
        buffers.WalFlush = _ => prescan.Enforce();   // no page is written before the verdict allows recovery
        try
        {
            var state = Replay(reader, checkPoint, prescan);
            // Consistent now (the backup's end replayed, if any): the backup fields are done with.
            markInCrashRecovery(control with
            {
                State = DatabaseState.InCrashRecovery, BackupStartPoint = Lsn.Invalid, BackupEndPoint = Lsn.Invalid, BackupEndRequired = false,
                MinRecoveryPoint = Lsn.Invalid, MinRecoveryPointTimeline = default,
            });
            return state;
        }
        finally
        {
            buffers.WalFlush = walFlush;
        }
    }

    private WalReader NewReader() => new(new WalStoragePageSource(wal, geometry), new WalReaderOptions
    {
        SegmentSize = geometry.SegmentSize,
        Timeline = control.CheckPointCopy.ThisTimeline,
        SystemIdentifier = control.SystemIdentifier,
    });

    private CheckPoint ReadCheckpointRecord(WalReader reader, out Lsn end)
    {
        reader.BeginRead(control.CheckPointLocation);
        var outcome = reader.ReadRecord();
        if (!outcome.IsRecord)
            throw new RecoveryException($"could not locate a valid checkpoint record at {control.CheckPointLocation}: {outcome.Error!.Message}");
        var record = outcome.Record!;
        byte info = (byte)(record.Info & RecordHeader.RmgrInfoMask);
        if (record.RmgrId != RmgrIds.Xlog || (info != XlogInfo.CheckpointShutdown && info != XlogInfo.CheckpointOnline)
            || record.MainDataLength != CheckPoint.Size)
            throw new RecoveryException($"invalid checkpoint record at {control.CheckPointLocation}: rmgr {record.RmgrId}, info {record.Info:X2}, {record.MainDataLength} bytes of data");
        end = reader.EndRecPtr;
        return CheckPoint.Read(record.MainData);
    }

    private State Replay(WalReader reader, CheckPoint checkPoint, RecoveryPreScan prescan)
    {
        var redo = new RedoApplier(managers, buffers, checkPoint);
        var clock = Stopwatch.StartNew();
        var nextProgress = TimeSpan.FromSeconds(2);
        long records = 0, images = 0, reportedRecords = 0, reportedImages = 0;
        Lsn last = Lsn.Invalid, end = checkPoint.Redo, reportedEnd = checkPoint.Redo, backupEnd = Lsn.Invalid;
        reader.BeginRead(checkPoint.Redo);
        logger.LogInformation("redo starts at {Redo}", checkPoint.Redo);
        WalReadError? stop;
        while (true)
        {
            var outcome = reader.ReadRecord();
            if (!outcome.IsRecord)
            {
                stop = outcome.Error;
                break;
            }
            var record = outcome.Record!;
            if (!backupEnd.IsValid && control.BackupStartPoint.IsValid && XlogRedo.IsBackupEndOf(record, control.BackupStartPoint))
            {
                backupEnd = record.NextLsn;
                logger.LogInformation("completed backup recovery with redo LSN {Start} and end LSN {End}", control.BackupStartPoint, backupEnd);
            }
            redo.Apply(record);
            images = redo.ImagesRestored;
            last = record.Lsn;
            end = record.NextLsn;
            records++;
            if ((records & 4095) == 0)
            {
                metrics.Replayed(records - reportedRecords, (long)(end - reportedEnd), images - reportedImages);
                (reportedRecords, reportedEnd, reportedImages) = (records, end, images);
                if (prescan.IsCompleted)
                    prescan.Enforce();   // stop replaying early when the WAL ahead is damaged
            }
            if (clock.Elapsed >= nextProgress)
            {
                nextProgress = clock.Elapsed + TimeSpan.FromSeconds(2);
                logger.LogInformation("redo in progress, elapsed time: {Seconds:F1} s, current LSN: {Lsn}, {Records} records, {Rate:F0} MB/s",
                    clock.Elapsed.TotalSeconds, end, records, (end - checkPoint.Redo) / 1048576.0 / clock.Elapsed.TotalSeconds);
            }
        }
        long discarded = redo.Finish();
        if (discarded > 0)
            logger.LogInformation("discarding {Records} records of transactions that did not commit before the end of WAL", discarded);
        clock.Stop();
        metrics.Replayed(records - reportedRecords, end > reportedEnd ? (long)(end - reportedEnd) : 0, images - reportedImages);
        var verdict = prescan.Enforce();
        if (verdict.ValidUpTo != end)
            throw new RecoveryException($"the WAL changed while it was being recovered: the pre-scan ended at {verdict.ValidUpTo}, replay at {end}");
        redo.CheckInvalidPages();
        if ((control.BackupStartPoint.IsValid || control.BackupEndRequired) && !backupEnd.IsValid)
            throw new RecoveryException($"WAL ends before end of online backup: replay reached {end} ({stop?.Message}) without the end-of-backup record of the backup that started at {control.BackupStartPoint}; " +
                "all WAL generated while the online backup was taken must be available at recovery (the backup's pg_wal, or its archive); the data directory is not consistent and stays closed");
        if (control.State == DatabaseState.InArchiveRecovery && end < control.MinRecoveryPoint)
            throw new RecoveryException($"WAL ends before consistent recovery point: replay reached {end}, the minimum recovery point is {control.MinRecoveryPoint}");
        var damage = verdict.Finding.Damage;
        if (damage != null)
            logger.LogWarning("{Kind} WAL at {Lsn}: {Report}", damage.Certain ? "accepting the loss of damaged" : "possibly torn", damage.Lsn, damage.Describe());

        var state = new State
        {
            CheckPoint = checkPoint, LastRecord = last, EndOfLog = end, NextXid = redo.Xlog.NextXid, NextOid = redo.Xlog.NextOid,
            AbortedRecord = reader.AbortedRecordLsn, MissingContinuation = reader.MissingContinuationLsn,
            Result = null!,
        };
        if (state.AbortedRecord.IsValid)
            state.EndOfLog = state.MissingContinuation;
        state.Result = new RecoveryResult
        {
            CrashRecovery = true, Checkpoint = control.CheckPointLocation, RedoStart = checkPoint.Redo, LastRecord = last, EndOfWal = end,
            Records = records, Elapsed = clock.Elapsed, EndReason = stop?.Message, ImagesRestored = images,
            AbortedRecord = state.AbortedRecord, MissingContinuation = state.MissingContinuation,
            TransactionsCommitted = redo.Deferred.Committed, TransactionsDiscarded = redo.Deferred.Discarded, Damage = damage,
        };
        logger.LogInformation("redo done at {End} ({Reason}); {Records} records, {Megabytes:F1} MB in {Seconds:F2} s ({Rate:F0} MB/s)",
            last, stop?.Message, records, state.Result.Bytes / 1048576.0, clock.Elapsed.TotalSeconds, state.Result.MegabytesPerSecond);
        return state;
    }
}

/// <summary>Recovery cannot continue: the WAL or the control file does not allow it.</summary>
public class RecoveryException(string message) : Exception(message);
