// WalWriterOptions / InsertResult: settings and results of the single-threaded WalWriter.
using PgWal.Format;
using PgWal.Insert;

namespace PgWal.Write;

/// <summary>Settings for a <see cref="WalWriter"/>.</summary>
public sealed record WalWriterOptions
{
    /// <summary>WAL segment size (power of two, 1 MB–1 GB). Default 16 MB.</summary>
    public int SegmentSize { get; init; } = WalGeometry.DefaultSegmentSize;

    /// <summary>Timeline written into page headers and file names. Default 1.</summary>
    public TimelineId Timeline { get; init; } = TimelineId.First;

    /// <summary>System identifier stored in every segment's long page header; must not be 0.</summary>
    public ulong SystemIdentifier { get; init; }

    /// <summary>Compression of full-page images.</summary>
    public WalCompression Compression { get; init; }

    /// <summary>Bytes of WAL buffered before they are written (rounded to pages, at most one segment). Default 1 MB.</summary>
    public int BufferBytes { get; init; } = 1024 * 1024;

    internal WalGeometry Geometry => new(SegmentSize);
}

/// <summary>Where an inserted record landed.</summary>
/// <param name="Start">The record's LSN.</param>
/// <param name="End">Its end: where the next record starts, or a page start when it ends on a page boundary.</param>
public readonly record struct InsertResult(Lsn Start, Lsn End);
