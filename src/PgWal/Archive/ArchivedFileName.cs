// ArchivedFileName: the names an archive holds, as PostgreSQL 15 names them (xlog_internal.h):
// segments (24 upper-case hex digits), `.partial` segments, timeline history files
// (`NNNNNNNN.history`) and backup history files (`<segment>.NNNNNNNN.backup`). Anything else is
// refused, so that nothing a server did not produce lands in (or is asked of) a repository.
using PgWal.Format;

namespace PgWal.Archive;

/// <summary>What kind of WAL archive file a name denotes.</summary>
public enum ArchivedFileKind
{
    /// <summary>A complete WAL segment.</summary>
    Segment,
    /// <summary>The last, incomplete segment of a timeline that ended (<c>.partial</c>).</summary>
    Partial,
    /// <summary>A timeline history file.</summary>
    History,
    /// <summary>A backup history file.</summary>
    BackupHistory,
}

/// <summary>A validated archive file name.</summary>
public readonly record struct ArchivedFileName(string Name, ArchivedFileKind Kind)
{
    /// <summary>The timeline the file belongs to (its first 8 hex digits).</summary>
    public TimelineId Timeline => new(Convert.ToUInt32(Name[..8], 16));

    /// <summary>True for files whose content is WAL pages (segments and .partial segments).</summary>
    public bool IsWal => Kind is ArchivedFileKind.Segment or ArchivedFileKind.Partial;

    /// <summary>Parses <paramref name="name"/> (a bare file name), or returns why it is not an archive file name.</summary>
    public static string? TryParse(string name, out ArchivedFileName parsed)
    {
        parsed = default;
        ArchivedFileKind? kind = null;
        if (SegmentFileName.IsSegmentFileName(name))
            kind = ArchivedFileKind.Segment;
        else if (SegmentFileName.IsPartialFileName(name))
            kind = ArchivedFileKind.Partial;
        else if (name.Length == 16 && name.EndsWith(".history", StringComparison.Ordinal) && IsUpperHex(name.AsSpan(0, 8)))
            kind = ArchivedFileKind.History;
        else if (name.Length == 40 && name.EndsWith(".backup", StringComparison.Ordinal) && name[24] == '.'
                 && SegmentFileName.IsSegmentFileName(name.AsSpan(0, 24)) && IsUpperHex(name.AsSpan(25, 8)))
            kind = ArchivedFileKind.BackupHistory;
        if (kind is null)
            return $"\"{name}\" is not the name of a WAL segment, .partial segment, timeline history or backup history file";
        if (name.StartsWith("00000000", StringComparison.Ordinal))
            return $"\"{name}\" names timeline 0, which does not exist";
        parsed = new ArchivedFileName(name, kind.Value);
        return null;
    }

    /// <summary>
    /// PostgreSQL's archiving order (pgarch.c): every history file first, then plain name order
    /// (oldest first; lower timelines before higher ones).
    /// </summary>
    public static int ArchiveOrder(string a, string b)
    {
        bool ha = a.EndsWith(".history", StringComparison.Ordinal), hb = b.EndsWith(".history", StringComparison.Ordinal);
        return ha != hb ? (ha ? -1 : 1) : string.CompareOrdinal(a, b);
    }

    private static bool IsUpperHex(ReadOnlySpan<char> s)
    {
        foreach (char c in s)
        {
            if (!(c is >= '0' and <= '9' or >= 'A' and <= 'F'))
                return false;
        }
        return true;
    }

    /// <inheritdoc/>
    public override string ToString() => Name;
}
