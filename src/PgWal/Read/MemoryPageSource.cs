// MemoryPageSource: an IPageSource over in-memory segment images (tests, fuzzing, and later the
// replication receiver's buffers). Segments absent from the map are "missing".
using PgWal.Format;

namespace PgWal.Read;

/// <summary>WAL segments held in memory, keyed by segment number (one timeline).</summary>
public sealed class MemoryPageSource : IPageSource
{
    private readonly Dictionary<SegmentNumber, byte[]> _segments = [];
    private readonly WalGeometry _geometry;

    /// <summary>Creates an empty source for segments of <paramref name="segmentSize"/> bytes.</summary>
    public MemoryPageSource(int segmentSize) => _geometry = new WalGeometry(segmentSize);

    /// <summary>Adds or replaces a segment image (may be shorter than the segment size).</summary>
    public void SetSegment(SegmentNumber segment, byte[] bytes) => _segments[segment] = bytes;

    /// <summary>The image of a segment, if present.</summary>
    public byte[]? GetSegment(SegmentNumber segment) => _segments.GetValueOrDefault(segment);

    /// <summary>The segments present.</summary>
    public IEnumerable<SegmentNumber> Segments => _segments.Keys;

    /// <inheritdoc/>
    public string DescribeSegment(TimelineId timeline, SegmentNumber segment) => SegmentFileName.Format(timeline, segment, _geometry);

    /// <inheritdoc/>
    public PageReadResult Read(TimelineId timeline, Lsn start, Span<byte> destination)
    {
        var segment = _geometry.SegmentOf(start);
        if (!_segments.TryGetValue(segment, out var bytes))
            return new PageReadResult(PageReadStatus.SegmentMissing, 0,
                $"could not find file \"{DescribeSegment(timeline, segment)}\": No such file or directory");
        int offset = _geometry.OffsetInSegment(start);
        int n = Math.Max(0, Math.Min(destination.Length, bytes.Length - offset));
        bytes.AsSpan(offset, n).CopyTo(destination);
        return new PageReadResult(PageReadStatus.Ok, n);
    }

    /// <inheritdoc/>
    public void Dispose()
    {
    }
}
