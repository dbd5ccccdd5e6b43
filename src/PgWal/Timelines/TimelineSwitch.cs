// TimelineSwitch: the end of archive recovery (StartupXLOG after FinishWalRecovery, 15): the new
// timeline is one above the newest history file found in the archive or pg_wal (probing stops at
// the first gap); its first segment is a copy of the old timeline's file up to the switch point
// (nothing when the switch is on a segment boundary); recovery.signal is removed; the history file
// (the parent's, verbatim, plus the new line) is written durably; and with archiving on, the old
// timeline's last segment becomes ".partial" when nobody archived it. The WAL engine then starts
// on the new timeline at the switch point and writes the end-of-recovery checkpoint.
using System.Text;
using Microsoft.Extensions.Logging;
using PgWal.Format;
using PgWal.Recovery;
using PgWal.Storage;

namespace PgWal.Timelines;

internal static class TimelineSwitch
{
    /// <summary>What was created: the new timeline, its history file, and a .partial to archive (or null).</summary>
    public sealed record Result(TimelineId Timeline, string HistoryFile, string? Partial);

    public static Result Begin(IDataDirectoryStorage storage, WalGeometry geometry, ArchiveWalSource source, ArchiveRecovery.Outcome outcome,
        bool archiving, ILogger logger)
    {
        var parent = outcome.TargetTimeline;
        var next = new TimelineId(source.FindNewestTimeline(parent).Value + 1);
        logger.LogInformation("selected new timeline ID: {Timeline}", next.Value);
        Lsn endOfLog = outcome.State.EndOfLog;
        var segment = geometry.SegmentOf(endOfLog);
        int offset = geometry.OffsetInSegment(endOfLog);
        string newName = SegmentFileName.Format(next, segment, geometry);
        if (offset != 0)
        {
            string oldName = outcome.EndOfLogFile ?? throw new RecoveryException($"no WAL file was read for the segment holding the switch point {endOfLog}");
            var bytes = new byte[offset];
            if (storage.Wal.Read(oldName, 0, bytes) != offset)
                throw new RecoveryException($"could not read {offset} bytes of \"{oldName}\" to start timeline {next.Value}");
            storage.Wal.Delete(newName);
            storage.ArchiveStatus?.Remove(newName);
            using var file = storage.Wal.Create(newName, geometry.SegmentSize);
            file.Write(0, bytes);
            file.Sync();
        }
        storage.DeleteFileDurably("recovery.signal");
        string history = TimelineHistory.FileName(next);
        string text = TimelineHistory.NewFileText(source.FetchHistory(parent), parent, endOfLog, outcome.Reason);
        storage.WriteFileDurably("pg_wal/" + history, Encoding.UTF8.GetBytes(text));
        logger.LogInformation("archive recovery complete: timeline {New} begins at {Lsn} (parent timeline {Parent})", next.Value, endOfLog, parent.Value);

        string? partial = null;
        if (archiving && offset != 0 && outcome.EndOfLogFile is { } last && storage.ArchiveStatus is { } status
            && status.Status(last) == ArchiveStatusKind.None)
        {
            partial = last + ".partial";
            status.Remove(partial);
            storage.Wal.Rename(last, partial);
        }
        return new Result(next, history, partial);
    }
}
