// WalStats: a snapshot of the engine's counters, PostgreSQL's pg_stat_wal columns.
namespace PgWal.Diagnostics;

/// <summary>The engine's statistics at one moment (pg_stat_wal).</summary>
/// <param name="Records">WAL records inserted (wal_records).</param>
/// <param name="FullPageImages">Full-page images inserted (wal_fpi).</param>
/// <param name="Bytes">WAL bytes inserted, record bytes incl. alignment, excl. page headers (wal_bytes).</param>
/// <param name="BuffersFull">Times an inserter had to write WAL out because the buffer ring was full (wal_buffers_full).</param>
/// <param name="Writes">write calls issued (wal_write).</param>
/// <param name="Syncs">sync calls issued (wal_sync).</param>
/// <param name="WriteTime">Time spent in write calls (wal_write_time).</param>
/// <param name="SyncTime">Time spent in sync calls (wal_sync_time).</param>
/// <param name="SegmentsCreated">Segment files created by the engine.</param>
public readonly record struct WalStats(
    long Records,
    long FullPageImages,
    long Bytes,
    long BuffersFull,
    long Writes,
    long Syncs,
    TimeSpan WriteTime,
    TimeSpan SyncTime,
    long SegmentsCreated);
