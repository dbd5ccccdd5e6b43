// RecoveryStopRules: PostgreSQL 15's recoveryStopsBefore / recoveryStopsAfter, in one place for
// archive recovery and for `archive show-target`, which predicts where it stops. An LSN target
// compares record starts; xid targets match commit and abort records only, by equality; a time
// target always stops before a commit or abort (inclusive: time > target, exclusive: >=); a name
// target stops after the first restore point of that name; `immediate` stops before the first
// record after consistency. Each stop carries PostgreSQL's log message and the reason its
// history file records (LSN and time reasons with PostgreSQL 15's own trailing newline).
using PgWal.Archive;
using PgWal.Diagnostics;
using PgWal.Format;
using PgWal.Read;
using PgWal.Rmgr.Describe;

namespace PgWal.Recovery;

/// <summary>Where recovery stops: PostgreSQL's log message, and the reason for the history file.</summary>
internal readonly record struct RecoveryStop(string Message, string Reason);

internal static class RecoveryStopRules
{
    /// <summary>The commit or abort <paramref name="record"/> is, or null.</summary>
    public static TransactionEnd? TransactionEndOf(DecodedRecord record)
        => TransactionDescriber.TryReadCompletion(record, out bool commit, out uint xid, out long time) ? new TransactionEnd(xid, commit, time, record.Lsn) : null;

    /// <summary>recoveryStopsBefore: the stop before <paramref name="record"/> is replayed, or null.</summary>
    public static RecoveryStop? Before(RecoveryTarget? t, DecodedRecord record, TransactionEnd? end, bool consistent)
    {
        if (t == null)
            return null;
        if (t.Kind == RecoveryTargetKind.Immediate && consistent)
            return new("recovery stopping after reaching consistency", "reached consistency");
        if (t.Kind == RecoveryTargetKind.Lsn && !t.Inclusive && record.Lsn >= t.Lsn)
            return new($"recovery stopping before WAL location (LSN) \"{record.Lsn}\"", $"before LSN {record.Lsn}\n");
        if (end == null)
            return null;
        if ((t.Kind == RecoveryTargetKind.Xid && !t.Inclusive && end.Xid == t.Xid)
            || (t.Kind == RecoveryTargetKind.Time && (t.Inclusive ? end.Time > t.Time : end.Time >= t.Time)))
            return new(Stopping("before", end), t.Kind == RecoveryTargetKind.Xid ? $"before transaction {end.Xid}" : $"before {PgTimestamp.Format(end.Time)}\n");
        return null;
    }

    /// <summary>recoveryStopsAfter: the stop right after <paramref name="record"/> is replayed, or null.</summary>
    public static RecoveryStop? After(RecoveryTarget? t, DecodedRecord record, TransactionEnd? end)
    {
        if (t == null)
            return null;
        if (t.Kind == RecoveryTargetKind.Name && record.RmgrId == RmgrIds.Xlog && (record.Info & RecordHeader.RmgrInfoMask) == XlogInfo.RestorePoint
            && SmallXlogPayloads.TryReadRestorePoint(record.MainData, out long rpTime, out string rpName) && rpName == t.Name)
            return new($"recovery stopping at restore point \"{rpName}\", time {PgTimestamp.Format(rpTime)}", $"at restore point \"{rpName}\"");
        if (t.Kind == RecoveryTargetKind.Lsn && t.Inclusive && record.Lsn >= t.Lsn)
            return new($"recovery stopping after WAL location (LSN) \"{record.Lsn}\"", $"after LSN {record.Lsn}\n");
        if (t.Kind == RecoveryTargetKind.Xid && t.Inclusive && end != null && end.Xid == t.Xid)
            return new(Stopping("after", end), $"after transaction {end.Xid}");
        return null;
    }

    private static string Stopping(string where, TransactionEnd e)
        => $"recovery stopping {where} {(e.Commit ? "commit" : "abort")} of transaction {e.Xid}, time {PgTimestamp.Format(e.Time)}";
}
