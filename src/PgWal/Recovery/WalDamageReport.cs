// WalDamageReport / WalDamagedException / WalRecoveryMode: what crash recovery found where the WAL
// stops being readable, and what it did about it. A torn tail (the last write of a crash) is not
// damage. Damage is a stop after which valid WAL written later still exists, or that lies in WAL
// known to have been durable; it either stops recovery (the default, nothing on disk changed) or,
// with WalRecoveryMode.PointInTime, ends recovery there and sets the rest aside in quarantine.
using PgWal.Read;

namespace PgWal.Recovery;

/// <summary>
/// How crash recovery treats damaged WAL (named after RocksDB's WAL recovery modes, which
/// PostgreSQL lacks: it ends recovery at the first unreadable record, whatever follows it).
/// </summary>
public enum WalRecoveryMode
{
    /// <summary>
    /// Default (RocksDB's kTolerateCorruptedTailRecords, with proof). A torn last write is the end
    /// of the WAL; damage followed by WAL that was written later, or inside WAL known to have been
    /// durable, stops recovery with a <see cref="WalDamagedException"/> and changes nothing on disk.
    /// </summary>
    TolerateTornTail,

    /// <summary>
    /// RocksDB's kPointInTimeRecovery: recover up to the damage and accept losing what follows. The
    /// WAL not replayed is moved (never deleted) to <c>pg_wal/quarantine/</c>, byte for byte, and
    /// the loss is reported in <see cref="RecoveryResult.Damage"/>.
    /// </summary>
    PointInTime,
}

/// <summary>The coarse kind of damage.</summary>
public enum WalDamageKind
{
    /// <summary>A record failed a check (CRC, length, prev-link, continuation…).</summary>
    BadRecord,
    /// <summary>A page header failed (magic, address, flags, long header).</summary>
    BadPage,
    /// <summary>Zeros where valid WAL continues later.</summary>
    ZeroedWal,
    /// <summary>A segment file is missing while later ones exist.</summary>
    MissingSegment,
    /// <summary>A segment file is shorter than a segment (segments are created full size).</summary>
    ShortSegment,
}

/// <summary>The valid WAL found after the damage.</summary>
public sealed record WalBeyond
{
    /// <summary>Segment files after the damaged one that hold WAL of this generation.</summary>
    public IReadOnlyList<string> Segments { get; init; } = [];

    /// <summary>Segment files missing between the damaged one and the last valid one.</summary>
    public IReadOnlyList<string> MissingSegments { get; init; } = [];

    /// <summary>First valid record after the damage (Invalid when none could be read).</summary>
    public Lsn From { get; init; }

    /// <summary>End of the last valid record after the damage.</summary>
    public Lsn UpTo { get; init; }

    /// <summary>Valid records read after the damage.</summary>
    public long Records { get; init; }

    /// <summary>XACT COMMIT records among them (commits that recovery would lose).</summary>
    public long Commits { get; init; }
}

/// <summary>Damaged WAL found by crash recovery.</summary>
public sealed record WalDamageReport
{
    /// <summary>The coarse kind.</summary>
    public WalDamageKind Kind { get; init; }

    /// <summary>The reader's check that failed.</summary>
    public CorruptionKind Check { get; init; }

    /// <summary>The reader's message (PostgreSQL's wording).</summary>
    public string Message { get; init; } = "";

    /// <summary>Where: the record or page that failed.</summary>
    public Lsn Lsn { get; init; }

    /// <summary>The segment file holding <see cref="Lsn"/>.</summary>
    public string? SegmentFile { get; init; }

    /// <summary>Offset of <see cref="Lsn"/> in <see cref="SegmentFile"/>.</summary>
    public long FileOffset { get; init; }

    /// <summary>End of the last valid record before the damage: where recovery stops.</summary>
    public Lsn ValidUpTo { get; init; }

    /// <summary>
    /// True when the damage is proven (later WAL exists, or the WAL was durable there); false for a
    /// stop that a torn write at a crash could also explain (then recovery ends there, as PostgreSQL's does).
    /// </summary>
    public bool Certain { get; init; }

    /// <summary>Why: what proves the damage, or why it may be a torn write.</summary>
    public string Evidence { get; init; } = "";

    /// <summary>The valid WAL after the damage.</summary>
    public WalBeyond Beyond { get; init; } = new();

    /// <summary>Data pages whose LSN lies beyond <see cref="ValidUpTo"/> (written after WAL that is now lost).</summary>
    public long DataPagesAhead { get; init; }

    /// <summary>The highest such page LSN (Invalid when none).</summary>
    public Lsn DataPagesAheadUpTo { get; init; }

    /// <summary>Where the WAL not replayed was set aside (relative to the data directory), or null.</summary>
    public string? QuarantineDirectory { get; init; }

    /// <summary>The files set aside there (copied for the damaged segment, moved for later ones).</summary>
    public IReadOnlyList<string> Quarantined { get; init; } = [];

    /// <summary>A few lines for people: what, where, what lies beyond, what was done.</summary>
    public string Describe()
    {
        var lines = new List<string>
        {
            $"WAL damage at {Lsn} ({SegmentFile ?? "?"}, offset {FileOffset}): {Message}",
            $"valid WAL ends at {ValidUpTo}; {(Certain ? "this is damage" : "this may be a torn write at a crash")}: {Evidence}",
        };
        if (Beyond.Records > 0 || Beyond.Segments.Count > 0)
            lines.Add($"beyond it: {Beyond.Records:N0} valid records ({Beyond.Commits:N0} commits) from {Beyond.From} to {Beyond.UpTo}"
                      + (Beyond.Segments.Count > 0 ? $" in {Beyond.Segments.Count} later segment(s) {Beyond.Segments[0]}..{Beyond.Segments[^1]}" : " in the same segment"));
        if (Beyond.MissingSegments.Count > 0)
            lines.Add($"missing segment(s): {string.Join(", ", Beyond.MissingSegments)}");
        if (DataPagesAhead > 0)
            lines.Add($"{DataPagesAhead:N0} data page(s) carry LSNs beyond {ValidUpTo} (up to {DataPagesAheadUpTo}): they hold changes from the WAL beyond");
        if (QuarantineDirectory != null)
            lines.Add($"set aside in {QuarantineDirectory}: {string.Join(", ", Quarantined)}");
        return string.Join('\n', lines);
    }
}

/// <summary>
/// Crash recovery stopped at damaged WAL (<see cref="WalRecoveryMode.TolerateTornTail"/>); nothing
/// on disk was changed. Examine the files, restore them, or reopen with
/// <see cref="WalRecoveryMode.PointInTime"/> to accept losing the WAL after the damage.
/// </summary>
public sealed class WalDamagedException : IOException
{
    /// <summary>Creates the exception for <paramref name="report"/>.</summary>
    public WalDamagedException(WalDamageReport report)
        : base($"crash recovery stopped: {report.Describe().Replace("\n", "; ", StringComparison.Ordinal)}; nothing was changed — to recover up to {report.ValidUpTo} and set the rest aside, reopen with WalRecoveryMode.PointInTime (pgwal recover --accept-wal-loss)")
    {
        Report = report;
    }

    /// <summary>What was found.</summary>
    public WalDamageReport Report { get; }
}
