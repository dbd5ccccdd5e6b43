// RecoveryTargetSearch: where would a point-in-time recovery to a target stop? Reads archived WAL
// of one timeline and applies PostgreSQL 15's rules (xlogrecovery.c recoveryStopsBefore /
// recoveryStopsAfter): an LSN target compares record starts; xid targets match commit and abort
// records only (the prepared transaction's xid for COMMIT/ABORT PREPARED), by equality; a time
// target always stops before a commit or abort (inclusive: time > target, exclusive: >=); a name
// target stops after the first restore point of that name. Also says which transaction ends were
// the last replayed and the first not replayed, or that the target is never reached and where the
// archived WAL ends.
using PgWal.Format;
using PgWal.Read;

namespace PgWal.Archive;

/// <summary>A recovery target kind (PostgreSQL's recovery_target_lsn / _xid / _time / _name).</summary>
public enum RecoveryTargetKind
{
    /// <summary>recovery_target_lsn.</summary>
    Lsn,
    /// <summary>recovery_target_xid.</summary>
    Xid,
    /// <summary>recovery_target_time (a PostgreSQL TimestampTz).</summary>
    Time,
    /// <summary>recovery_target_name.</summary>
    Name,
    /// <summary>recovery_target = 'immediate': stop as soon as the copy is consistent.</summary>
    Immediate,
}

/// <summary>A recovery target and recovery_target_inclusive.</summary>
public sealed record RecoveryTarget(RecoveryTargetKind Kind, Lsn Lsn = default, uint Xid = 0, long Time = 0, string Name = "", bool Inclusive = true);

/// <summary>A commit or abort record.</summary>
public sealed record TransactionEnd(uint Xid, bool Commit, long Time, Lsn Lsn);

/// <summary>Where recovery to a target would stop.</summary>
/// <param name="Reached">False when the archived WAL ends first (PostgreSQL: FATAL "recovery ended before configured recovery target was reached").</param>
/// <param name="Timeline">The timeline read.</param>
/// <param name="StopRecord">The record recovery stops at (replayed for an "after" stop, not for a "before" stop).</param>
/// <param name="ReplayedUpTo">End of the last record replayed (PostgreSQL's pg_last_wal_replay_lsn()).</param>
/// <param name="Message">PostgreSQL's log message for the stop, or why it is not reached.</param>
/// <param name="LastReplayed">The last commit or abort replayed.</param>
/// <param name="FirstNotReplayed">The first commit or abort after the stop.</param>
/// <param name="EndOfWal">Where the archived WAL of the timeline ends (valid when not reached).</param>
public sealed record TargetSearchResult(bool Reached, TimelineId Timeline, Lsn StopRecord, Lsn ReplayedUpTo, string Message,
    TransactionEnd? LastReplayed, TransactionEnd? FirstNotReplayed, Lsn EndOfWal);

/// <summary>Finds where a recovery to a target would stop, in archived WAL.</summary>
public static class RecoveryTargetSearch
{
    /// <summary>
    /// Reads <paramref name="timeline"/>'s archived WAL, following its history file (when the
    /// repository has one) back to the oldest archived segment of its ancestors, as recovery with
    /// recovery_target_timeline = that timeline would read it.
    /// </summary>
    /// <exception cref="ArchiveException">The repository has no WAL of that timeline, its history file is damaged, or archived WAL is damaged.</exception>
    public static TargetSearchResult Find(WalRepository repository, TimelineId timeline, RecoveryTarget target)
    {
        var history = LoadHistory(repository, timeline);
        var inventories = repository.List().Where(t => t.Ranges.Count > 0 && history.Includes(t.Timeline)).ToList();
        if (inventories.Count == 0)
            throw new ArchiveException($"repository \"{repository.Path}\" holds no WAL segment of timeline {timeline.Value} or its ancestors");
        var inner = new RepositoryPageSource(repository);
        var geometry = inner.Geometry;
        var source = new HistoryPageSource(repository, inner, history);
        var first = inventories.Select(t => { SegmentFileName.TryParse(t.Ranges[0].First, geometry, out _, out var s); return s; }).Min();
        using var reader = new WalReader(source, new WalReaderOptions { SegmentSize = geometry.SegmentSize, Timeline = timeline, ClassifyEndOfWal = true });
        Lsn start = reader.FindNextRecord(geometry.SegmentStart(first), out var error);
        if (!start.IsValid)
            throw new ArchiveException($"no valid record in archived segment {source.DescribeSegment(timeline, first)}: {error?.Message}");
        reader.BeginRead(start);

        TransactionEnd? lastReplayed = null;
        Lsn replayedUpTo = start;
        while (true)
        {
            var outcome = reader.ReadRecord();
            if (!outcome.IsRecord)
            {
                // Where PostgreSQL's recovery would find no more WAL (a missing segment, zeroed or
                // recycled space, a torn last record); anything else is damage and stops the search.
                if (outcome.Error!.EndOfWal != EndOfWalReason.None)
                    return new TargetSearchResult(false, timeline, Lsn.Invalid, replayedUpTo,
                        $"recovery ended before configured recovery target was reached: the archived WAL of timeline {timeline.Value} ends at {reader.EndRecPtr}",
                        lastReplayed, null, reader.EndRecPtr);
                throw new ArchiveException($"archived WAL of timeline {timeline.Value} is damaged at {reader.EndRecPtr}: {outcome.Error.Message}");
            }
            var record = outcome.Record!;
            var end = Recovery.RecoveryStopRules.TransactionEndOf(record);
            // (consistent: false — show-target has no backup to be consistent with; it offers no `immediate`)
            string? before = Recovery.RecoveryStopRules.Before(target, record, end, consistent: false)?.Message;
            if (before != null)
                return new TargetSearchResult(true, history.TimelineOf(record.Lsn), record.Lsn, replayedUpTo, before, lastReplayed, end ?? NextEnd(reader), Lsn.Invalid);
            replayedUpTo = record.NextLsn;
            if (end != null)
                lastReplayed = end;
            string? after = Recovery.RecoveryStopRules.After(target, record, end)?.Message;
            if (after != null)
                return new TargetSearchResult(true, history.TimelineOf(record.Lsn), record.Lsn, replayedUpTo, after, lastReplayed, NextEnd(reader), Lsn.Invalid);
        }
    }

    private static Timelines.TimelineHistory LoadHistory(WalRepository repository, TimelineId timeline)
    {
        if (timeline == TimelineId.First)
            return Timelines.TimelineHistory.Single(timeline);
        string name = Timelines.TimelineHistory.FileName(timeline);
        ArchivedFileName.TryParse(name, out var parsed);
        byte[]? bytes = repository.TryRead(parsed);
        if (bytes == null)
            return Timelines.TimelineHistory.Single(timeline);   // a timeline without a history file: itself only
        try
        {
            return Timelines.TimelineHistory.Parse(System.Text.Encoding.UTF8.GetString(bytes), timeline, name);
        }
        catch (InvalidDataException e)
        {
            throw new ArchiveException(e.Message, damaged: true);
        }
    }

    // The next commit or abort after the stop, if the archived WAL has one.
    private static TransactionEnd? NextEnd(WalReader reader)
    {
        while (reader.ReadRecord() is { IsRecord: true } outcome)
        {
            if (Recovery.RecoveryStopRules.TransactionEndOf(outcome.Record!) is { } end)
                return end;
        }
        return null;
    }
}
