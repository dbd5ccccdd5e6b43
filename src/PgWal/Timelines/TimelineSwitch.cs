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
    /// <summary>
    /// What was created: the new timeline (and its parent in the WAL, for the end-of-recovery
    /// checkpoint), its history file, where it begins, and the old timeline's file holding the
    /// switch point (null when the switch is on a segment boundary).
    /// </summary>
    public sealed record Result(TimelineId Timeline, TimelineId Previous, string HistoryFile, Lsn SwitchPoint, string? OldLastSegment);

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
        string history = TimelineHistory.FileName(next);
        string text = TimelineHistory.NewFileText(source.FetchHistory(parent), parent, endOfLog, outcome.Reason);
        storage.WriteFileDurably("pg_wal/" + history, Encoding.UTF8.GetBytes(text));
        if (archiving)
            storage.ArchiveStatus?.MarkReady(history);   // at once, as PostgreSQL: archived first, before anyone else picks this number
        logger.LogInformation("archive recovery complete: timeline {New} begins at {Lsn} (parent timeline {Parent})", next.Value, endOfLog, parent.Value);
        return new Result(next, outcome.EndOfLogTimeline, history, endOfLog, offset != 0 ? outcome.EndOfLogFile : null);
    }

    /// <summary>
    /// After the end-of-recovery checkpoint (CleanupAfterArchiveRecovery): recovery.signal goes
    /// (only now: a crash before the checkpoint must run the same archive recovery again, not
    /// crash recovery on the old timeline through WAL past the target); the old timeline's last
    /// segment becomes .partial when nobody archived it; and the old timeline's segments after
    /// the switch (RemoveNonParentXlogFiles) go: removed when archived or not WAL of their own
    /// address (preallocated, recycled), set aside when they hold unarchived WAL of the abandoned
    /// branch, and left to the archiver when they are .ready.
    /// </summary>
    /// <returns>The .partial file to archive, or null.</returns>
    public static string? Finish(IDataDirectoryStorage storage, WalGeometry geometry, Result result, bool archiving, ILogger logger)
    {
        storage.DeleteFileDurably("recovery.signal");
        storage.DeleteFileDurably("standby.signal");
        var status = storage.ArchiveStatus;
        string? partial = null;
        if (archiving && result.OldLastSegment is { } last && status != null && storage.Wal.Exists(last) && status.Status(last) == ArchiveStatusKind.None)
        {
            partial = last + ".partial";
            status.Remove(partial);
            storage.Wal.Rename(last, partial);
        }
        var switchSegment = geometry.SegmentOf(result.SwitchPoint);
        var abandoned = new List<string>();
        foreach (var name in storage.Wal.ListFiles())
        {
            if (!SegmentFileName.TryParse(name, geometry, out var tli, out var segment) || tli >= result.Timeline || segment.Value <= switchSegment.Value)
                continue;
            var kind = status?.Status(name) ?? ArchiveStatusKind.None;
            if (kind == ArchiveStatusKind.Ready)
                continue;
            if (kind == ArchiveStatusKind.None && HoldsWalOfItsAddress(storage.Wal, geometry, name, segment))
            {
                storage.Wal.SetAside(name, $"abandoned-timeline-{tli.Value}", keepOriginal: false);
                abandoned.Add(name);
                continue;
            }
            storage.Wal.Delete(name);
            status?.Remove(name);
        }
        if (abandoned.Count > 0)
            logger.LogWarning("set aside {Count} unarchived segment(s) of timeline {Old} after the switch point {Lsn} in pg_wal/abandoned-timeline-*: {Files}",
                abandoned.Count, result.Previous.Value, result.SwitchPoint, string.Join(", ", abandoned));
        return partial;
    }

    // Whether the file's first page is a WAL page of this very segment (not zeros, not a recycled file).
    private static bool HoldsWalOfItsAddress(IWalStorage wal, WalGeometry geometry, string name, SegmentNumber segment)
    {
        var page = new byte[PageHeader.LongSize];
        if (wal.Read(name, 0, page) < page.Length)
            return false;
        var header = PageHeader.Read(page);
        return header.Magic == PageHeader.MagicPg15 && header.PageAddress == geometry.SegmentStart(segment);
    }
}
