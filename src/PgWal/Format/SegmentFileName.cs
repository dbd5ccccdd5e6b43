// SegmentFileName: WAL file names (xlog_internal.h XLogFileName / XLogFromFileName /
// IsXLogFileName): 24 upper-case hex digits = %08X timeline, %08X segno / perId, %08X segno % perId.
namespace PgWal.Format;

/// <summary>Formats and parses WAL segment file names such as <c>000000010000000000000001</c>.</summary>
public static class SegmentFileName
{
    /// <summary>Length of a segment file name.</summary>
    public const int Length = 24;

    /// <summary>The file name of <paramref name="segment"/> on <paramref name="timeline"/>.</summary>
    public static string Format(TimelineId timeline, SegmentNumber segment, WalGeometry geometry)
    {
        uint perId = geometry.SegmentsPerXLogId;
        return string.Create(Length, (timeline.Value, segment.Value, perId), static (span, s) =>
        {
            s.Item1.TryFormat(span, out _, "X8");
            ((uint)(s.Item2 / s.Item3)).TryFormat(span[8..], out _, "X8");
            ((uint)(s.Item2 % s.Item3)).TryFormat(span[16..], out _, "X8");
        });
    }

    /// <summary>
    /// True when <paramref name="name"/> is exactly 24 upper-case hex digits
    /// (PostgreSQL's <c>IsXLogFileName</c>).
    /// </summary>
    public static bool IsSegmentFileName(ReadOnlySpan<char> name)
    {
        if (name.Length != Length)
            return false;
        foreach (char c in name)
        {
            if (!(c is >= '0' and <= '9' or >= 'A' and <= 'F'))
                return false;
        }
        return true;
    }

    /// <summary>True for <c>&lt;segment name&gt;.partial</c> (PostgreSQL's <c>IsPartialXLogFileName</c>).</summary>
    public static bool IsPartialFileName(ReadOnlySpan<char> name)
        => name.Length == Length + 8 && name.EndsWith(".partial", StringComparison.Ordinal) && IsSegmentFileName(name[..Length]);

    /// <summary>
    /// Parses a segment file name — exactly 24 upper-case hex digits, nothing else — into its
    /// timeline and segment number. Everything that manages pg_wal (recycling, recovery, reset)
    /// uses this, so that backup history, <c>.partial</c>, <c>.history</c> and other files that
    /// merely start with a segment name are never taken for segments.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<char> name, WalGeometry geometry, out TimelineId timeline, out SegmentNumber segment)
    {
        timeline = default;
        segment = default;
        return IsSegmentFileName(name) && TryParseLeading(name, geometry, out timeline, out segment);
    }

    /// <summary>
    /// PostgreSQL's <c>XLogFromFileName</c>: the timeline and segment number from the first 24
    /// characters (hex digits of either case), ignoring what follows (<c>.partial</c>). For tools
    /// given a file name by the user (pg_waldump's STARTSEG, pg_resetwal's -l), never for deciding
    /// what a file in pg_wal is.
    /// </summary>
    public static bool TryParseLeading(ReadOnlySpan<char> name, WalGeometry geometry, out TimelineId timeline, out SegmentNumber segment)
    {
        timeline = default;
        segment = default;
        if (name.Length < Length)
            return false;
        if (!TryHex8(name[..8], out uint tli) || !TryHex8(name[8..16], out uint log) || !TryHex8(name[16..24], out uint seg))
            return false;
        timeline = new TimelineId(tli);
        segment = new SegmentNumber((ulong)log * geometry.SegmentsPerXLogId + seg);
        return true;
    }

    private static bool TryHex8(ReadOnlySpan<char> s, out uint value)
        => uint.TryParse(s, System.Globalization.NumberStyles.AllowHexSpecifier,
            System.Globalization.CultureInfo.InvariantCulture, out value);
}
