// StandbyReplay.Apply: where replay is (replayed-up-to, timeline, consistency), applying one
// record under the hot-standby lock, following a new timeline, and the final drain at promotion.
using System.Diagnostics;
using Microsoft.Extensions.Logging;
using PgWal.Format;
using PgWal.Read;
using PgWal.Recovery;
using PgWal.Timelines;

namespace PgWal.Standby;

internal sealed partial class StandbyReplay
{
    // Replay state: written by the replay thread only; the volatile copies are for other threads.
    private TimelineHistory _history;            // expectedTLEs; replaced (whole) when following a new timeline
    private RedoApplier _redo = null!;
    private Lsn _next;                           // where the next record starts (EndRecPtr)
    private Lsn _last;                           // start of the last record applied
    private TimelineId _replayTimeline;
    private Lsn _backupEnd;
    private bool _consistent;
    private long _records;
    private readonly Stopwatch _clock = new();
    private TimeSpan _nextProgress = TimeSpan.FromSeconds(5);
    private ulong _replayedUpTo;                 // Volatile: end of the last record applied
    private uint _replayTimelineId;              // Volatile
    private (Lsn Location, Lsn End, CheckPoint CheckPoint)? _lastCheckpoint;   // guarded by _checkpointLock
    private readonly object _checkpointLock = new();
    private readonly ReplayWaiters _waiters = new();
    private Lsn _lastFailureAt;                  // a read that failed here was reported already

    /// <summary>End of the last record replayed (pg_last_wal_replay_lsn).</summary>
    public Lsn ReplayedUpTo => new(Volatile.Read(ref _replayedUpTo));

    /// <summary>The timeline of the last record replayed.</summary>
    public TimelineId ReplayTimeline => new(Volatile.Read(ref _replayTimelineId));

    /// <summary>Whether the state is consistent: hot-standby reads see a committed prefix.</summary>
    public bool IsConsistent => Volatile.Read(ref _consistentFlag) != 0;
    private int _consistentFlag;

    /// <summary>Records replayed since open.</summary>
    public long RecordsReplayed => Interlocked.Read(ref _records);

    /// <summary>The last checkpoint record replayed (what a restartpoint moves pg_control to), or null.</summary>
    public (Lsn Location, Lsn End, CheckPoint CheckPoint)? LastCheckpoint
    {
        get
        {
            lock (_checkpointLock)
                return _lastCheckpoint;
        }
    }

    /// <summary>Waits until replay passed <paramref name="upTo"/>.</summary>
    public ValueTask WaitForReplayAsync(Lsn upTo, CancellationToken cancellationToken)
        => ReplayedUpTo >= upTo ? default : _waiters.WaitAsync(upTo, () => ReplayedUpTo, cancellationToken);

    private void BeginReplay()
    {
        var checkPoint = _start.CheckPointCopy;
        using (var probe = NewSource(_restorer))
            _history = ArchiveRecovery.HistoryToFollow(probe, _start, _options.TargetTimeline);
        _redo = new RedoApplier(_managers, _buffers, checkPoint);
        _next = checkPoint.Redo;
        _replayTimeline = checkPoint.ThisTimeline;
        Volatile.Write(ref _replayedUpTo, checkPoint.Redo.Value);
        Volatile.Write(ref _replayTimelineId, _replayTimeline.Value);
        _consistent = Consistent();
        if (_consistent)
            MarkConsistent();
        _clock.Start();
        _logger.LogInformation("entering standby mode; redo starts at {Redo} on timeline {Timeline}", checkPoint.Redo, _history.Target.Value);
    }

    // Replays from _next until the reader stops (at stopAt, or the end of what the source has).
    // Returns whether anything was replayed. A read that fails is not an error here: a standby
    // waits for more WAL, as PostgreSQL's does (it is reported once per position).
    private bool ReadAvailable(WalReader reader, Lsn stopAt)
    {
        reader.SetStopAt(stopAt);
        reader.BeginRead(_next);
        long before = _records;
        long sinceNotify = 0;
        while (!_stop && _notPaused.IsSet && !(_promote && stopAt.IsValid))
        {
            var outcome = reader.ReadRecord();
            if (!outcome.IsRecord)
            {
                var error = outcome.Error!;
                if (error.Kind != CorruptionKind.StopPointReached && error.Kind != CorruptionKind.SegmentMissing && _lastFailureAt != _next)
                {
                    _lastFailureAt = _next;
                    _logger.LogInformation("standby: no more valid WAL at {Lsn} for now ({Message}); waiting for more", _next, error.Message);
                }
                break;
            }
            Apply(outcome.Record!);
            if (++sinceNotify >= 1000)
            {
                sinceNotify = 0;
                Notify();
            }
        }
        bool advanced = _records != before;
        if (advanced)
            Notify();
        return advanced;
    }

    private void Notify()
    {
        _waiters.Release(ReplayedUpTo);
        Feed?.ReportApplied();
    }

    private void Apply(DecodedRecord record)
    {
        _replayTimeline = ArchiveRecovery.CheckTimelineSwitch(record, _replayTimeline, _history, _logger);
        ReplayLock.EnterWriteLock();
        try
        {
            _redo.Apply(record);
        }
        finally
        {
            ReplayLock.ExitWriteLock();
        }
        _last = record.Lsn;
        _next = record.NextLsn;
        Volatile.Write(ref _replayTimelineId, _replayTimeline.Value);
        Volatile.Write(ref _replayedUpTo, _next.Value);
        Interlocked.Increment(ref _records);
        if (record.RmgrId == RmgrIds.Xlog && record.MainDataLength == CheckPoint.Size
            && (byte)(record.Info & RecordHeader.RmgrInfoMask) is XlogInfo.CheckpointShutdown or XlogInfo.CheckpointOnline)
        {
            var checkPoint = CheckPoint.Read(record.MainData);
            lock (_checkpointLock)
                _lastCheckpoint = (record.Lsn, record.NextLsn, checkPoint);
        }
        if (!_backupEnd.IsValid && _start.BackupStartPoint.IsValid && XlogRedo.IsBackupEndOf(record, _start.BackupStartPoint))
        {
            _backupEnd = _next;
            _logger.LogInformation("completed backup recovery with redo LSN {Start} and end LSN {End}", _start.BackupStartPoint, _backupEnd);
            _control.Update(c => c with { BackupStartPoint = Lsn.Invalid, BackupEndPoint = Lsn.Invalid, BackupEndRequired = false, MinRecoveryPoint = Lsn.Max(c.MinRecoveryPoint, _next), MinRecoveryPointTimeline = _replayTimeline });
        }
        if (!_consistent && Consistent())
        {
            _consistent = true;
            MarkConsistent();
        }
        if (_clock.Elapsed >= _nextProgress)
        {
            _nextProgress = _clock.Elapsed + TimeSpan.FromSeconds(10);
            _logger.LogInformation("standby replay: {Records} records, at {Lsn}", _records, _next);
        }
    }

    private bool Consistent() => ArchiveRecovery.IsConsistent(_start, _next, _backupEnd);

    private void MarkConsistent()
    {
        _logger.LogInformation("consistent recovery state reached at {Lsn}; the standby accepts reads", _next);
        Volatile.Write(ref _consistentFlag, 1);
        _consistentOrFailed.Set();
    }

    // rescanLatestTimeLine: a newer history file whose fork lies at or after where replay is becomes the target.
    private void FollowNewTimeline()
    {
        if (_options.TargetTimeline.Kind != RecoveryTimelineKind.Latest)
            return;
        using var probe = NewSource(null);
        var newest = probe.FindNewestTimeline(_history.Target);
        if (newest == _history.Target)
            return;
        var history = ArchiveRecovery.LoadHistory(probe, newest);
        var fork = history.Entries.FirstOrDefault(e => e.Timeline == _replayTimeline).End;
        if (!history.Includes(_replayTimeline) || fork.IsValid && fork < _next)
        {
            if (_lastFailureAt != _next)
            {
                _lastFailureAt = _next;
                _logger.LogWarning("new timeline {New} forked off current database system timeline {Current} before current recovery point {Lsn} (at {Fork}): not following it; this standby needs a new base backup",
                    newest.Value, _replayTimeline.Value, _next, fork);
            }
            return;
        }
        _logger.LogInformation("new target timeline is {Timeline}", newest.Value);
        _history = history;
    }

    // Promotion: streaming stopped, everything pg_wal holds replayed; the end of the WAL.
    private ArchiveRecovery.Outcome Drain()
    {
        Feed?.Stop();
        if (_options.TargetTimeline.Kind == RecoveryTimelineKind.Latest && NewerHistoryInPgWal())
            FollowNewTimeline();
        string? endOfLogFile;
        using (var reader = NewReader(null, out var source))
        {
            ReadAvailable(reader, Lsn.Invalid);
            endOfLogFile = source.FileOf(_geometry.SegmentOf(_next));
        }
        if (!_consistent)
            throw new RecoveryException($"cannot promote: the standby is not consistent yet (replayed up to {_next}, consistent only from {_start.MinRecoveryPoint})");
        long discarded = _redo.Finish();
        if (discarded > 0)
            _logger.LogInformation("discarding {Records} records of transactions that did not commit before promotion", discarded);
        _redo.CheckInvalidPages();
        _clock.Stop();
        _logger.LogInformation("received promote request; redo done at {Last}; {Records} records", _last, _records);
        var control = _control.Current;
        var state = new StartupRecovery.State
        {
            CheckPoint = control.CheckPointCopy, LastRecord = _last, EndOfLog = _next, NextXid = _redo.Xlog.NextXid, NextOid = _redo.Xlog.NextOid,
            Result = new RecoveryResult
            {
                ArchiveRecovery = true, Checkpoint = control.CheckPointLocation, RedoStart = _start.CheckPointCopy.Redo, LastRecord = _last, EndOfWal = _next,
                Records = _records, Elapsed = _clock.Elapsed, ImagesRestored = _redo.ImagesRestored,
                TransactionsCommitted = _redo.Deferred.Committed, TransactionsDiscarded = _redo.Deferred.Discarded, StopMessage = null,
            },
        };
        return new ArchiveRecovery.Outcome
        {
            State = state, TargetTimeline = _history.Target, EndOfLogTimeline = _replayTimeline,
            EndOfLogFile = endOfLogFile, Reason = "no recovery target specified", StopMessage = null,
        };
    }
}
