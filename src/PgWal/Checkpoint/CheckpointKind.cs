// CheckpointKind / CheckpointResult: why a checkpoint runs and what it did (the flags and the
// "checkpoint complete" log line of CreateCheckPoint).
namespace PgWal.Checkpoint;

/// <summary>What started a checkpoint.</summary>
public enum CheckpointKind
{
    /// <summary>checkpoint_timeout elapsed (spread).</summary>
    Timed,
    /// <summary>max_wal_size worth of WAL since the last one (spread).</summary>
    Wal,
    /// <summary>Requested through the API (immediate).</summary>
    Requested,
    /// <summary>End of crash recovery (immediate, shutdown-type record).</summary>
    EndOfRecovery,
    /// <summary>Clean shutdown (immediate, shutdown-type record).</summary>
    Shutdown,
}

/// <summary>A completed checkpoint.</summary>
/// <param name="Kind">Why it ran.</param>
/// <param name="Location">LSN of its checkpoint record.</param>
/// <param name="Redo">Its redo point.</param>
/// <param name="BuffersWritten">Pages written by the checkpoint.</param>
/// <param name="FilesSynced">Relation files fsynced.</param>
/// <param name="SegmentsRemoved">Old WAL segments removed.</param>
/// <param name="SegmentsRecycled">Old WAL segments renamed for reuse.</param>
/// <param name="Elapsed">Duration.</param>
public sealed record CheckpointResult(CheckpointKind Kind, Lsn Location, Lsn Redo, int BuffersWritten, int FilesSynced,
    int SegmentsRemoved, int SegmentsRecycled, TimeSpan Elapsed);
