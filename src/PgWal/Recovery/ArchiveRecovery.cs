// ArchiveRecovery: PostgreSQL 15's targeted archive recovery (recovery.signal). Chooses the
// timeline to follow (recovery_target_timeline: latest probes the archive and pg_wal for newer
// history files), checks that the starting checkpoint lies on its history, then replays from the
// checkpoint's redo point WAL restored on demand (ArchiveWalSource), switching timelines where a
// shutdown checkpoint or end-of-recovery record says so, until the target: checked before each
// record (recoveryStopsBefore: exclusive lsn/xid, time, immediate) and after it (inclusive
// lsn/xid, restore point names), with PostgreSQL's rules and messages. The copy must be
// consistent (its backup's end replayed, minRecoveryPoint reached) before it may stop; a target
// never reached, damaged archived WAL or a missing middle segment stop with an error and nothing
// opens. What happens next (a new timeline, or shutdown at the target) is NewTimeline's and the
// instance's business.
using System.Diagnostics;
using Microsoft.Extensions.Logging;
using PgWal.Archive;
using PgWal.Diagnostics;
using PgWal.Format;
using PgWal.Pages;
using PgWal.Read;
using PgWal.Timelines;

namespace PgWal.Recovery;

internal sealed class ArchiveRecovery(ArchiveWalSource source, WalGeometry geometry, ControlFileData control, ArchiveRecoveryOptions options,
    ResourceManagerRegistry managers, BufferManager buffers, ILogger logger, InstanceMetrics metrics)
{
    /// <summary>What replay established.</summary>
    public sealed class Outcome
    {
        public required StartupRecovery.State State;
        public required TimelineId TargetTimeline;     // recoveryTargetTLI: the parent of the new timeline
        public required TimelineId EndOfLogTimeline;   // the timeline the last replayed record is on
        public required string? EndOfLogFile;          // the file holding EndOfLog's segment
        public required string Reason;                 // for the history file
        public required string? StopMessage;
    }

    /// <summary>End of the last record replayed (replayEndRecPtr): what minRecoveryPoint moves to when a page is written.</summary>
    public Lsn ReplayedUpTo { get; private set; }

    /// <summary>The timeline of the last record replayed.</summary>
    public TimelineId ReplayTimeline { get; private set; }

    public Outcome Run()
    {
        var checkPoint = control.CheckPointCopy;
        source.History = HistoryToFollow(source, control, options.TargetTimeline);
        source.OldestKept = SegmentFileName.Format(checkPoint.ThisTimeline, geometry.SegmentOf(checkPoint.Redo), geometry);
        logger.LogInformation("{Start}", StartMessage(options.Target));
        return Replay(checkPoint, source.History.Target);
    }

    /// <summary>
    /// The timeline history recovery follows (recovery_target_timeline: latest probes
    /// <paramref name="source"/> for newer history files), checked to contain the starting checkpoint.
    /// </summary>
    internal static TimelineHistory HistoryToFollow(ArchiveWalSource source, ControlFileData control, RecoveryTimeline wanted)
    {
        var checkPoint = control.CheckPointCopy;
        var startTimeline = control.MinRecoveryPointTimeline > checkPoint.ThisTimeline ? control.MinRecoveryPointTimeline : checkPoint.ThisTimeline;
        var target = wanted.Kind switch
        {
            RecoveryTimelineKind.Latest => source.FindNewestTimeline(startTimeline),
            RecoveryTimelineKind.Current => startTimeline,
            _ => wanted.Id,
        };
        var history = LoadHistory(source, target);
        TimelineId onHistory;
        try
        {
            onHistory = history.TimelineOf(control.CheckPointLocation);
        }
        catch (InvalidDataException e)
        {
            throw new RecoveryException(e.Message);
        }
        if (onHistory != checkPoint.ThisTimeline)
            throw new RecoveryException($"requested timeline {target.Value} is not a child of this server's history: latest checkpoint is at {control.CheckPointLocation} on timeline {checkPoint.ThisTimeline.Value}, " +
                $"but in the history of the requested timeline, the server forked off from that timeline at {history.Entries.FirstOrDefault(e => e.Timeline == checkPoint.ThisTimeline).End}");
        return history;
    }

    /// <summary>The history of <paramref name="target"/> (its history file from the archive or pg_wal; none for timeline 1).</summary>
    internal static TimelineHistory LoadHistory(ArchiveWalSource source, TimelineId target)
    {
        if (target == TimelineId.First)
            return TimelineHistory.Single(target);
        string name = TimelineHistory.FileName(target);
        string text = source.FetchHistory(target)
            ?? throw new RecoveryException($"recovery target timeline {target.Value} does not exist (no {name} in the archive or pg_wal)");
        try
        {
            return TimelineHistory.Parse(text, target, name);
        }
        catch (InvalidDataException e)
        {
            throw new RecoveryException(e.Message);
        }
    }

    private static string StartMessage(RecoveryTarget? t) => t?.Kind switch
    {
        null => "starting archive recovery",
        RecoveryTargetKind.Xid => $"starting point-in-time recovery to XID {t.Xid}",
        RecoveryTargetKind.Time => $"starting point-in-time recovery to {PgTimestamp.Format(t.Time)}",
        RecoveryTargetKind.Name => $"starting point-in-time recovery to \"{t.Name}\"",
        RecoveryTargetKind.Lsn => $"starting point-in-time recovery to WAL location (LSN) \"{t.Lsn}\"",
        _ => "starting point-in-time recovery to earliest consistent point",
    };

    private Outcome Replay(CheckPoint checkPoint, TimelineId targetTimeline)
    {
        using var reader = new WalReader(source, new WalReaderOptions
        {
            SegmentSize = geometry.SegmentSize, Timeline = targetTimeline, SystemIdentifier = control.SystemIdentifier, ClassifyEndOfWal = true,
        });
        var redo = new RedoApplier(managers, buffers, checkPoint);
        var t = options.Target;
        var clock = Stopwatch.StartNew();
        var nextProgress = TimeSpan.FromSeconds(2);
        long records = 0;
        Lsn last = Lsn.Invalid, end = checkPoint.Redo, backupEnd = Lsn.Invalid;
        var replayTimeline = checkPoint.ThisTimeline;
        bool consistent = Consistent(end, backupEnd);
        string? stopMessage = null, reason = null;
        WalReadError? readStop = null;
        reader.BeginRead(checkPoint.Redo);
        logger.LogInformation("redo starts at {Redo}", checkPoint.Redo);
        while (true)
        {
            var outcome = reader.ReadRecord();
            if (!outcome.IsRecord)
            {
                readStop = outcome.Error!;
                if (readStop.EndOfWal == EndOfWalReason.None)
                    throw new RecoveryException($"archive recovery stopped at {reader.EndRecPtr}: {readStop.Message}");
                break;
            }
            var record = outcome.Record!;
            var txEnd = RecoveryStopRules.TransactionEndOf(record);
            if (RecoveryStopRules.Before(t, record, txEnd, consistent) is { } before)
            {
                (stopMessage, reason) = (before.Message, before.Reason);
                break;
            }
            // As ApplyWalRecord: the switch belongs to the record, so a stop before it stays on the old timeline.
            replayTimeline = CheckTimelineSwitch(record, replayTimeline, source.History, logger);
            redo.Apply(record);
            last = record.Lsn;
            end = record.NextLsn;
            ReplayedUpTo = end;
            ReplayTimeline = replayTimeline;
            records++;
            if (!backupEnd.IsValid && control.BackupStartPoint.IsValid && XlogRedo.IsBackupEndOf(record, control.BackupStartPoint))
            {
                backupEnd = end;
                logger.LogInformation("completed backup recovery with redo LSN {Start} and end LSN {End}", control.BackupStartPoint, backupEnd);
            }
            if (!consistent && Consistent(end, backupEnd))
            {
                consistent = true;
                logger.LogInformation("consistent recovery state reached at {Lsn}", end);
            }
            if (RecoveryStopRules.After(t, record, txEnd) is { } after)
            {
                (stopMessage, reason) = (after.Message, after.Reason);
                break;
            }
            if (clock.Elapsed >= nextProgress)
            {
                nextProgress = clock.Elapsed + TimeSpan.FromSeconds(2);
                logger.LogInformation("redo in progress, elapsed time: {Seconds:F1} s, current LSN: {Lsn}, {Records} records", clock.Elapsed.TotalSeconds, end, records);
            }
        }
        if (stopMessage != null)
        {
            logger.LogInformation("{Message}", stopMessage);
            if (!consistent)
                throw new RecoveryException($"requested recovery stop point is before consistent recovery point ({stopMessage}; the copy is consistent only from {(backupEnd.IsValid ? control.MinRecoveryPoint : control.BackupStartPoint)} on, once the end of its base backup is replayed)");
        }
        else
        {
            if ((control.BackupStartPoint.IsValid || control.BackupEndRequired) && !backupEnd.IsValid)
                throw new RecoveryException($"WAL ends before end of online backup: the archived WAL ends at {end} ({readStop?.Message}) without the end-of-backup record of the backup that started at {control.BackupStartPoint}; " +
                    "all WAL generated while the online backup was taken must be available at recovery");
            if (!consistent)
                throw new RecoveryException($"WAL ends before consistent recovery point: replay reached {end}, the minimum recovery point is {control.MinRecoveryPoint}");
            if (t != null)
                throw new RecoveryException($"recovery ended before configured recovery target was reached: {Describe(t)} was not found in the WAL of timeline {targetTimeline.Value} up to {end}, where it ends ({readStop?.Message})");
        }
        long discarded = redo.Finish();
        if (discarded > 0)
            logger.LogInformation("discarding {Records} records of transactions that did not commit before the recovery target", discarded);
        redo.CheckInvalidPages();
        clock.Stop();
        metrics.Replayed(records, end > checkPoint.Redo ? (long)(end - checkPoint.Redo) : 0, redo.ImagesRestored);
        logger.LogInformation("redo done at {Last}; {Records} records, {Files} file(s) restored from archive, {Seconds:F2} s", last, records, source.Restored, clock.Elapsed.TotalSeconds);
        var state = new StartupRecovery.State
        {
            CheckPoint = checkPoint, LastRecord = last, EndOfLog = end, NextXid = redo.Xlog.NextXid, NextOid = redo.Xlog.NextOid,
            Result = new RecoveryResult
            {
                ArchiveRecovery = true, Checkpoint = control.CheckPointLocation, RedoStart = checkPoint.Redo, LastRecord = last, EndOfWal = end,
                Records = records, Elapsed = clock.Elapsed, EndReason = readStop?.Message, ImagesRestored = redo.ImagesRestored,
                TransactionsCommitted = redo.Deferred.Committed, TransactionsDiscarded = redo.Deferred.Discarded,
                StopMessage = stopMessage, FilesRestored = source.Restored,
            },
        };
        return new Outcome
        {
            State = state, TargetTimeline = targetTimeline, EndOfLogTimeline = replayTimeline, EndOfLogFile = source.FileOf(geometry.SegmentOf(end)),
            Reason = reason ?? "no recovery target specified", StopMessage = stopMessage,
        };
    }

    private bool Consistent(Lsn replayedUpTo, Lsn backupEnd) => IsConsistent(control, replayedUpTo, backupEnd);

    /// <summary>
    /// Whether replay up to <paramref name="replayedUpTo"/> is a consistent state: the end of the base
    /// backup (when recovering one) replayed at <paramref name="backupEnd"/>, and minRecoveryPoint reached.
    /// </summary>
    internal static bool IsConsistent(ControlFileData control, Lsn replayedUpTo, Lsn backupEnd)
        => (!(control.BackupStartPoint.IsValid || control.BackupEndRequired) || backupEnd.IsValid) && replayedUpTo >= control.MinRecoveryPoint;

    // checkTimeLineSwitch: a shutdown checkpoint or end-of-recovery record naming another timeline.
    internal static TimelineId CheckTimelineSwitch(DecodedRecord record, TimelineId current, TimelineHistory history, ILogger logger)
    {
        if (record.RmgrId != RmgrIds.Xlog)
            return current;
        byte info = (byte)(record.Info & RecordHeader.RmgrInfoMask);
        TimelineId next, prev;
        if (info == XlogInfo.CheckpointShutdown && record.MainDataLength == CheckPoint.Size)
        {
            var cp = CheckPoint.Read(record.MainData);
            (next, prev) = (cp.ThisTimeline, cp.PrevTimeline);
        }
        else if (info == XlogInfo.EndOfRecovery && SmallXlogPayloads.TryReadEndOfRecovery(record.MainData, out _, out uint thisTli, out uint prevTli))
        {
            (next, prev) = (new TimelineId(thisTli), new TimelineId(prevTli));
        }
        else
        {
            return current;
        }
        if (next == current)
            return current;
        if (prev != current)
            throw new RecoveryException($"unexpected previous timeline ID {prev.Value} (current timeline ID {current.Value}) in checkpoint record at {record.Lsn}");
        if (next < current || !history.Includes(next))
            throw new RecoveryException($"unexpected timeline ID {next.Value} (after {current.Value}) in checkpoint record at {record.Lsn}");
        logger.LogInformation("timeline switch from {Old} to {New} at {Lsn}", current.Value, next.Value, record.Lsn);
        return next;
    }

    private static string Describe(RecoveryTarget t) => t.Kind switch
    {
        RecoveryTargetKind.Lsn => $"WAL location {t.Lsn}",
        RecoveryTargetKind.Xid => $"a commit or abort of transaction {t.Xid}",
        RecoveryTargetKind.Time => $"a commit or abort at or after {PgTimestamp.Format(t.Time)}",
        RecoveryTargetKind.Name => $"restore point \"{t.Name}\"",
        _ => "a consistent state",
    };
}
