// TimelineHistory: PostgreSQL's timeline history file (NNNNNNNN.history) and what it says. Each
// line is "<parent TLI>\t<switchpoint X/X>\t<reason>", oldest first; blank lines and lines
// starting with '#' are skipped; timeline ids must increase; switchpoints are not checked for
// order (PostgreSQL writes a "backwards" line when recovery stopped before the parent's fork).
// Writing copies the parent's file verbatim and appends "\n" (only when the parent had a file) and
// the new line — so files of timeline 3 and later contain a blank line, as PostgreSQL's do.
// The entries, newest first: the tip {target, begin = last switchpoint, end = none}, and for each
// line {tli, begin = previous line's switchpoint, end = its switchpoint}.
using System.Globalization;
using System.Text;

namespace PgWal.Timelines;

/// <summary>One timeline of a history: the WAL from <see cref="Begin"/> (inclusive) to <see cref="End"/> (exclusive) belongs to it.</summary>
/// <param name="Timeline">The timeline.</param>
/// <param name="Begin">Where it forked off its parent; invalid for the oldest.</param>
/// <param name="End">Where its child forked off; invalid for the tip.</param>
public readonly record struct TimelineEntry(TimelineId Timeline, Lsn Begin, Lsn End)
{
    /// <summary>Whether <paramref name="lsn"/> lies on this timeline's stretch of the history.</summary>
    public bool Contains(Lsn lsn) => (!Begin.IsValid || Begin <= lsn) && (!End.IsValid || lsn < End);
}

/// <summary>The history of one timeline (readTimeLineHistory's result).</summary>
public sealed class TimelineHistory
{
    private TimelineHistory(TimelineId target, IReadOnlyList<TimelineEntry> newestFirst)
    {
        Target = target;
        Entries = newestFirst;
    }

    /// <summary>The timeline whose history this is.</summary>
    public TimelineId Target { get; }

    /// <summary>Its ancestry, newest first; the first entry is <see cref="Target"/> itself.</summary>
    public IReadOnlyList<TimelineEntry> Entries { get; }

    /// <summary>A history file's name: <c>%08X.history</c>.</summary>
    public static string FileName(TimelineId timeline) => $"{timeline.Value:X8}.history";

    /// <summary>The history of timeline 1, or of a timeline whose history file is missing: itself only.</summary>
    public static TimelineHistory Single(TimelineId timeline) => new(timeline, [new TimelineEntry(timeline, Lsn.Invalid, Lsn.Invalid)]);

    /// <summary>
    /// Parses <paramref name="text"/>, the history file of <paramref name="target"/> (named
    /// <paramref name="source"/> in errors), as PostgreSQL's readTimeLineHistory.
    /// </summary>
    /// <exception cref="InvalidDataException">A line is not "TLI\tX/X\treason", ids do not increase, or the target is not above them.</exception>
    public static TimelineHistory Parse(string text, TimelineId target, string source)
    {
        var lines = new List<(TimelineId Tli, Lsn Switchpoint)>();
        foreach (var raw in text.Split('\n'))
        {
            string line = raw.TrimStart(' ', '\t', '\r', '\f', '\v');
            if (line.Length == 0 || line[0] == '#')
                continue;
            var fields = line.Split('\t');
            if (fields.Length < 2 || !uint.TryParse(fields[0], NumberStyles.None, CultureInfo.InvariantCulture, out uint tli)
                || !Lsn.TryParse(fields[1].TrimEnd('\r', ' '), out var switchpoint))
                throw new InvalidDataException($"syntax error in history file \"{source}\": {Show(raw)}; expected a numeric timeline ID, a tab and a WAL location X/X");
            if (lines.Count > 0 && tli <= lines[^1].Tli.Value)
                throw new InvalidDataException($"invalid data in history file \"{source}\": {Show(raw)}: timeline IDs must be in increasing sequence");
            lines.Add((new TimelineId(tli), switchpoint));
        }
        if (lines.Count > 0 && target.Value <= lines[^1].Tli.Value)
            throw new InvalidDataException($"invalid data in history file \"{source}\": timeline ID {target.Value} should be greater than the last listed, {lines[^1].Tli.Value}");
        var entries = new List<TimelineEntry> { new(target, lines.Count > 0 ? lines[^1].Switchpoint : Lsn.Invalid, Lsn.Invalid) };
        for (int i = lines.Count - 1; i >= 0; i--)
            entries.Add(new TimelineEntry(lines[i].Tli, i > 0 ? lines[i - 1].Switchpoint : Lsn.Invalid, lines[i].Switchpoint));
        return new TimelineHistory(target, entries);
    }

    private static string Show(string line) => line.Length > 80 ? $"\"{line[..80]}…\"" : $"\"{line}\"";

    /// <summary>tliOfPointInHistory: the timeline <paramref name="lsn"/> belongs to.</summary>
    /// <exception cref="InvalidDataException">No entry covers it (the history is not contiguous).</exception>
    public TimelineId TimelineOf(Lsn lsn)
    {
        foreach (var e in Entries)
        {
            if (e.Contains(lsn))
                return e.Timeline;
        }
        throw new InvalidDataException($"timeline history of timeline {Target.Value} was not contiguous at {lsn}");
    }

    /// <summary>
    /// XLogFileReadAnyTLI's order: the timelines whose file may hold <paramref name="segment"/>,
    /// newest first, skipping those that begin after it and stopping below
    /// <paramref name="lastFileTimeline"/> (the timeline of the file read last: never go back).
    /// The caller takes the first whose file it can get.
    /// </summary>
    public IEnumerable<TimelineId> FileCandidates(SegmentNumber segment, Format.WalGeometry geometry, TimelineId lastFileTimeline)
    {
        foreach (var entry in Entries)
        {
            if (lastFileTimeline.IsValid && entry.Timeline < lastFileTimeline)
                yield break;
            if (entry.Begin.IsValid && geometry.SegmentOf(entry.Begin) > segment)
                continue;
            yield return entry.Timeline;
        }
    }

    /// <summary>Whether <paramref name="timeline"/> is in this history.</summary>
    public bool Includes(TimelineId timeline) => Entries.Any(e => e.Timeline == timeline);

    /// <summary>
    /// writeTimeLineHistory's text for a new timeline: the parent's file verbatim (null when the
    /// parent has none), then "\n" if it had one, then "parent\tX/X\treason\n".
    /// </summary>
    public static string NewFileText(string? parentText, TimelineId parent, Lsn switchpoint, string reason)
    {
        var text = new StringBuilder();
        if (parentText != null)
            text.Append(parentText).Append('\n');
        text.Append(parent.Value.ToString(CultureInfo.InvariantCulture)).Append('\t').Append(switchpoint).Append('\t').Append(reason).Append('\n');
        return text.ToString();
    }
}
