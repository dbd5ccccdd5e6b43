// WalOptions: the settings of a WalEngine, named after their PostgreSQL counterparts
// (wal_buffers, wal_sync_method, commit_delay, commit_siblings, wal_writer_delay,
// wal_writer_flush_after, wal_compression, wal_segment_size).
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using PgWal.Format;
using PgWal.Insert;
using PgWal.Storage;

namespace PgWal.Write;

/// <summary>Settings for a <see cref="WalEngine"/>.</summary>
public sealed record WalOptions
{
    /// <summary>WAL segment size (power of two, 1 MB–1 GB). Default 16 MB.</summary>
    public int SegmentSize { get; init; } = WalGeometry.DefaultSegmentSize;

    /// <summary>Timeline written into page headers and file names. Default 1.</summary>
    public TimelineId Timeline { get; init; } = TimelineId.First;

    /// <summary>System identifier stored in every segment's long page header; must not be 0.</summary>
    public ulong SystemIdentifier { get; init; }

    /// <summary>Compression of full-page images (<c>wal_compression</c>).</summary>
    public WalCompression Compression { get; init; }

    /// <summary>
    /// Size of the WAL buffer ring (<c>wal_buffers</c>); rounded down to a power-of-two number of
    /// 8 kB pages, at least 4 pages. Default 16 MB.
    /// </summary>
    public int WalBuffers { get; init; } = 16 * 1024 * 1024;

    /// <summary>Number of insertion locks (PostgreSQL has 8). Default 8.</summary>
    public int InsertionLocks { get; init; } = 8;

    /// <summary>How WAL is made durable. Default fdatasync.</summary>
    public WalSyncMethod SyncMethod { get; init; } = WalSyncMethod.Fdatasync;

    /// <summary>Open segment files with O_DIRECT (bypass the page cache). Default off.</summary>
    public bool DirectIo { get; init; }

    /// <summary>
    /// Wait this long before a group flush when at least <see cref="CommitSiblings"/> other
    /// flushes are pending, so more commits join it (<c>commit_delay</c>). Default 0 (off).
    /// </summary>
    public TimeSpan CommitDelay { get; init; }

    /// <summary>Pending flushes needed before <see cref="CommitDelay"/> applies. Default 5.</summary>
    public int CommitSiblings { get; init; } = 5;

    /// <summary>
    /// How often the background WAL writer wakes (<c>wal_writer_delay</c>). An asynchronous commit
    /// is durable within three times this. Default 200 ms; <see cref="TimeSpan.Zero"/> disables the
    /// background writer (asynchronous commits then wait for the next flush or shutdown).
    /// </summary>
    public TimeSpan WalWriterDelay { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>
    /// Unflushed bytes of asynchronous commits after which the background writer is woken early
    /// and flushes (<c>wal_writer_flush_after</c>). Default 1 MB.
    /// </summary>
    public int WalWriterFlushAfter { get; init; } = 1024 * 1024;

    /// <summary>Segment files the background writer creates ahead of the insert position. Default 2.</summary>
    public int PreallocateSegments { get; init; } = 2;

    /// <summary>A sync slower than this logs a warning. Default 1 s.</summary>
    public TimeSpan SlowSyncThreshold { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Where log messages go; null for none.</summary>
    public ILoggerFactory? LoggerFactory { get; init; }

    /// <summary>Creates the engine's <see cref="Meter"/>; null for a private one.</summary>
    public IMeterFactory? MeterFactory { get; init; }

    internal WalGeometry Geometry => new(SegmentSize);

    internal void Validate()
    {
        if (!WalGeometry.IsValidSegmentSize(SegmentSize))
            throw new ArgumentException($"invalid WAL segment size {SegmentSize}: must be a power of two between 1 MB and 1 GB", nameof(SegmentSize));
        if (SystemIdentifier == 0)
            throw new ArgumentException("a system identifier is required", nameof(SystemIdentifier));
        if (InsertionLocks is < 1 or > 128)
            throw new ArgumentException($"InsertionLocks must be between 1 and 128, not {InsertionLocks}", nameof(InsertionLocks));
        if (WalBuffers < 4 * WalGeometry.PageSize)
            throw new ArgumentException($"WalBuffers must be at least {4 * WalGeometry.PageSize} bytes, not {WalBuffers}", nameof(WalBuffers));
        if (CommitDelay < TimeSpan.Zero || CommitDelay > TimeSpan.FromSeconds(0.1))
            throw new ArgumentException("CommitDelay must be between 0 and 100 ms", nameof(CommitDelay));
        if (WalWriterDelay < TimeSpan.Zero || WalWriterFlushAfter < 0 || PreallocateSegments < 0 || CommitSiblings < 0)
            throw new ArgumentException("WalWriterDelay, WalWriterFlushAfter, PreallocateSegments and CommitSiblings must not be negative");
    }
}
