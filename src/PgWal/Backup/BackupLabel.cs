// BackupLabel: PostgreSQL 15's backup_label text, written into a base backup, and the backup
// history file written into pg_wal when the backup stops. Lines in PostgreSQL's exact order (the
// server reads them positionally): START WAL LOCATION (the checkpoint's redo point, with its
// segment on the checkpoint's timeline), CHECKPOINT LOCATION, BACKUP METHOD (always "streamed" in
// 15, which makes the end-of-backup record required), BACKUP FROM, START TIME, LABEL, START TIMELINE.
using System.Globalization;
using System.Text;
using PgWal.Format;

namespace PgWal.Backup;

/// <summary>The contents of a <c>backup_label</c> file.</summary>
/// <param name="StartLsn">The backup's start: the redo point of its checkpoint.</param>
/// <param name="CheckpointLsn">Where that checkpoint record starts.</param>
/// <param name="Timeline">The checkpoint's timeline.</param>
/// <param name="StartTime">When the backup started.</param>
/// <param name="Label">The user's label (at most 1024 bytes, one line).</param>
/// <param name="Method">BACKUP METHOD: "streamed" (an end-of-backup record is required) or another tool's name.</param>
/// <param name="From">BACKUP FROM: "primary" or "standby".</param>
public sealed record BackupLabel(Lsn StartLsn, Lsn CheckpointLsn, TimelineId Timeline, DateTimeOffset StartTime, string Label,
    string Method = "streamed", string From = "primary")
{
    /// <summary>The file name in a data directory.</summary>
    public const string FileName = "backup_label";

    /// <summary>
    /// The file a base backup in progress keeps in its target until it is complete (PgWal's own):
    /// a copy that still has it was interrupted, and opening it is refused.
    /// </summary>
    public const string IncompleteMarker = "pgwal_backup_incomplete";

    /// <summary>Longest label PostgreSQL accepts, in bytes.</summary>
    public const int MaxLabelBytes = 1024;

    /// <summary>Whether recovery must reach XLOG_BACKUP_END before the copy is consistent (backupEndRequired).</summary>
    public bool EndRequired => Method == "streamed";

    /// <summary>The file's text, byte for byte as PostgreSQL 15 writes it (times in UTC).</summary>
    public string ToText(WalGeometry geometry)
    {
        var text = new StringBuilder();
        text.Append(StartLine(geometry)).Append('\n');
        AppendRest(text);
        return text.ToString();
    }

    private string StartLine(WalGeometry geometry)
        => $"START WAL LOCATION: {StartLsn} (file {SegmentFileName.Format(Timeline, geometry.SegmentOf(StartLsn), geometry)})";

    private void AppendRest(StringBuilder text)
    {
        text.Append("CHECKPOINT LOCATION: ").Append(CheckpointLsn).Append('\n');
        text.Append("BACKUP METHOD: ").Append(Method).Append('\n');
        text.Append("BACKUP FROM: ").Append(From).Append('\n');
        text.Append("START TIME: ").Append(FormatTime(StartTime)).Append('\n');
        text.Append("LABEL: ").Append(Label).Append('\n');
        text.Append("START TIMELINE: ").Append(Timeline.Value.ToString(CultureInfo.InvariantCulture)).Append('\n');
    }

    /// <summary>
    /// The backup history file (<c>&lt;segment&gt;.&lt;offset&gt;.backup</c>) PostgreSQL writes at
    /// pg_backup_stop: the label with a STOP WAL LOCATION line after the first, then STOP TIME and
    /// STOP TIMELINE.
    /// </summary>
    public (string Name, string Text) HistoryFile(WalGeometry geometry, Lsn stopLsn, TimelineId stopTimeline, DateTimeOffset stopTime)
    {
        string name = $"{SegmentFileName.Format(stopTimeline, geometry.SegmentOf(StartLsn), geometry)}.{geometry.OffsetInSegment(StartLsn):X8}.backup";
        var text = new StringBuilder();
        text.Append(StartLine(geometry)).Append('\n');
        text.Append($"STOP WAL LOCATION: {stopLsn} (file {SegmentFileName.Format(stopTimeline, geometry.SegmentOf(stopLsn - 1), geometry)})\n");
        AppendRest(text);
        text.Append("STOP TIME: ").Append(FormatTime(stopTime)).Append('\n');
        text.Append("STOP TIMELINE: ").Append(stopTimeline.Value.ToString(CultureInfo.InvariantCulture)).Append('\n');
        return (name, text.ToString());
    }

    private static string FormatTime(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) + " UTC";

    /// <summary>
    /// Reads a backup_label as PostgreSQL's read_backup_label does: the first two lines are
    /// required, the timeline comes from the segment name in the first, START TIMELINE (if present)
    /// must agree. Returns null and the reason when the text is not a valid label.
    /// </summary>
    public static BackupLabel? Parse(string text, out string? error)
    {
        error = null;
        var lines = text.Split('\n');
        string? Field(string key) => lines.FirstOrDefault(l => l.StartsWith(key + ": ", StringComparison.Ordinal))?[(key.Length + 2)..];
        string? start = lines.Length > 0 && lines[0].StartsWith("START WAL LOCATION: ", StringComparison.Ordinal) ? lines[0]["START WAL LOCATION: ".Length..] : null;
        string? checkpoint = lines.Length > 1 && lines[1].StartsWith("CHECKPOINT LOCATION: ", StringComparison.Ordinal) ? lines[1]["CHECKPOINT LOCATION: ".Length..] : null;
        int paren = start?.IndexOf(" (file ", StringComparison.Ordinal) ?? -1;
        if (start == null || checkpoint == null || paren < 0 || !start.EndsWith(')')
            || !Lsn.TryParse(start.AsSpan(0, paren), out var startLsn) || !Lsn.TryParse(checkpoint, out var checkpointLsn))
        {
            error = "invalid data in file \"backup_label\": the first two lines must be START WAL LOCATION: X/X (file NAME) and CHECKPOINT LOCATION: X/X";
            return null;
        }
        string segment = start[(paren + " (file ".Length)..^1];
        if (!SegmentFileName.IsSegmentFileName(segment))
        {
            error = $"invalid data in file \"backup_label\": \"{segment}\" is not a WAL segment name";
            return null;
        }
        var timeline = new TimelineId(uint.Parse(segment[..8], NumberStyles.HexNumber, CultureInfo.InvariantCulture));
        if (Field("START TIMELINE") is { } tliText)
        {
            if (!uint.TryParse(tliText, NumberStyles.None, CultureInfo.InvariantCulture, out uint tli))
            {
                error = $"invalid data in file \"backup_label\": START TIMELINE \"{tliText}\" is not a number";
                return null;
            }
            if (tli != timeline.Value)
            {
                error = $"invalid data in file \"backup_label\": Timeline ID parsed is {tli}, but expected {timeline.Value}.";
                return null;
            }
        }
        DateTimeOffset time = default;
        if (Field("START TIME") is { } timeText && timeText.EndsWith(" UTC", StringComparison.Ordinal))
            DateTimeOffset.TryParseExact(timeText[..^4], "yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out time);
        return new BackupLabel(startLsn, checkpointLsn, timeline, time, Field("LABEL") ?? "", Field("BACKUP METHOD") ?? "streamed", Field("BACKUP FROM") ?? "primary");
    }
}
