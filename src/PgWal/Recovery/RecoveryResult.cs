// RecoveryResult: what opening a data directory did — whether crash recovery ran, what it
// replayed, where the WAL ended and why — for `pgwal recover`, logs and tests.
namespace PgWal.Recovery;

/// <summary>The outcome of opening a data directory.</summary>
public sealed record RecoveryResult
{
    /// <summary>False when the directory was shut down cleanly (nothing replayed).</summary>
    public bool CrashRecovery { get; init; }

    /// <summary>The checkpoint recovery started from.</summary>
    public Lsn Checkpoint { get; init; }

    /// <summary>Its redo point: where replay began.</summary>
    public Lsn RedoStart { get; init; }

    /// <summary>Start of the last valid record.</summary>
    public Lsn LastRecord { get; init; }

    /// <summary>End of the last valid record (where new WAL continues, unless a torn record was overwritten).</summary>
    public Lsn EndOfWal { get; init; }

    /// <summary>Records replayed.</summary>
    public long Records { get; init; }

    /// <summary>WAL bytes replayed (RedoStart to EndOfWal).</summary>
    public ulong Bytes => (CrashRecovery || ArchiveRecovery) && EndOfWal > RedoStart ? EndOfWal - RedoStart : 0;

    /// <summary>Time spent replaying.</summary>
    public TimeSpan Elapsed { get; init; }

    /// <summary>Why reading stopped (PostgreSQL's message, e.g. "invalid record length at 0/3000060: wanted 24, got 0").</summary>
    public string? EndReason { get; init; }

    /// <summary>A record whose continuation was missing (then overwritten with XLOG_OVERWRITE_CONTRECORD); Invalid when none.</summary>
    public Lsn AbortedRecord { get; init; }

    /// <summary>Where its continuation should have been (the page the overwrite record starts).</summary>
    public Lsn MissingContinuation { get; init; }

    /// <summary>Full-page images restored.</summary>
    public long ImagesRestored { get; init; }

    /// <summary>XACT COMMIT records replayed (the deferred records of each applied then).</summary>
    public long TransactionsCommitted { get; init; }

    /// <summary>Transactions whose deferred records were discarded: aborted, or without a commit before the end of WAL.</summary>
    public long TransactionsDiscarded { get; init; }

    /// <summary>
    /// Damaged WAL recovery ended at, when it did: with <see cref="WalRecoveryMode.PointInTime"/>
    /// the damage accepted and what was set aside; or a tail that may be a torn write, after which
    /// valid records were found and a copy kept. Null when the WAL simply ended.
    /// </summary>
    public WalDamageReport? Damage { get; init; }

    /// <summary>The end-of-recovery checkpoint's location (Invalid without recovery).</summary>
    public Lsn EndOfRecoveryCheckpoint { get; init; }

    /// <summary>Archive recovery ran (recovery.signal): WAL came from the archive, and a new timeline began.</summary>
    public bool ArchiveRecovery { get; init; }

    /// <summary>Where and why archive recovery stopped, in PostgreSQL's words ("recovery stopping after commit of transaction 731, time ..."); null at the end of the archived WAL.</summary>
    public string? StopMessage { get; init; }

    /// <summary>The timeline archive recovery started (Invalid otherwise).</summary>
    public TimelineId NewTimeline { get; init; }

    /// <summary>WAL files restored from the archive.</summary>
    public int FilesRestored { get; init; }

    /// <summary>Replay speed in MB/s (MiB).</summary>
    public double MegabytesPerSecond => Elapsed > TimeSpan.Zero ? Bytes / 1048576.0 / Elapsed.TotalSeconds : 0;
}
