// IPageSource: where the reader gets WAL bytes. Implementations: a pg_wal directory or a list of
// segment files (Storage/), memory (tests, replication later). The reader never asks for a range
// that crosses a segment boundary, and always starts at a page boundary.
namespace PgWal.Read;

/// <summary>Outcome of <see cref="IPageSource.Read"/>.</summary>
public enum PageReadStatus
{
    /// <summary>Bytes were read (possibly fewer than asked at the end of a file).</summary>
    Ok,
    /// <summary>The segment does not exist in this source.</summary>
    SegmentMissing,
    /// <summary>An I/O error occurred.</summary>
    Error,
}

/// <summary>A result of <see cref="IPageSource.Read"/>.</summary>
/// <param name="Status">What happened.</param>
/// <param name="BytesRead">Bytes placed at the start of the destination.</param>
/// <param name="Message">For a failure, the error text (PostgreSQL style).</param>
public readonly record struct PageReadResult(PageReadStatus Status, int BytesRead, string? Message = null);

/// <summary>Supplies WAL bytes by position to a <see cref="WalReader"/>.</summary>
public interface IPageSource : IDisposable
{
    /// <summary>
    /// Reads up to <c>destination.Length</c> bytes of <paramref name="timeline"/>'s WAL starting at
    /// <paramref name="start"/> (a page boundary; the range never crosses a segment boundary).
    /// </summary>
    PageReadResult Read(TimelineId timeline, Lsn start, Span<byte> destination);

    /// <summary>Name used for the segment in messages (normally its file name).</summary>
    string DescribeSegment(TimelineId timeline, SegmentNumber segment);
}
