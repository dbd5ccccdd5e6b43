// RepositoryPageSource: WAL read straight out of an archive repository, one segment at a time in
// one reused buffer (checked against its checksums when it is loaded). A damaged archived segment is a read
// error naming the file; a segment the repository does not hold is "missing" (the end of the WAL).
using PgWal.Format;
using PgWal.Read;

namespace PgWal.Archive;

/// <summary>Reads archived WAL segments from a <see cref="WalRepository"/>.</summary>
public sealed class RepositoryPageSource : IPageSource
{
    private readonly WalRepository _repository;
    private readonly WalGeometry _geometry;
    private byte[]? _segment;          // the loaded segment's bytes (the first _length of them), reused
    private int _length;
    private TimelineId _timeline;
    private SegmentNumber _number;

    /// <summary>Reads <paramref name="repository"/>'s segments (its recorded segment size).</summary>
    public RepositoryPageSource(WalRepository repository)
    {
        _repository = repository;
        _geometry = new WalGeometry(repository.SegmentSize ?? throw new ArchiveException($"repository \"{repository.Path}\" holds no WAL yet"));
        _length = -1;
    }

    /// <summary>The segment geometry of the repository's WAL.</summary>
    public WalGeometry Geometry => _geometry;

    /// <inheritdoc/>
    public string DescribeSegment(TimelineId timeline, SegmentNumber segment) => SegmentFileName.Format(timeline, segment, _geometry);

    /// <inheritdoc/>
    public PageReadResult Read(TimelineId timeline, Lsn start, Span<byte> destination)
    {
        var number = _geometry.SegmentOf(start);
        if (_length < 0 || number != _number || timeline != _timeline)
        {
            _segment ??= GC.AllocateUninitializedArray<byte>(_geometry.SegmentSize);
            _length = -1;
            string name = DescribeSegment(timeline, number);
            ArchivedFileName.TryParse(name, out var parsed);
            try
            {
                _length = _repository.TryReadInto(parsed, _segment);
            }
            catch (IOException e)
            {
                return new PageReadResult(PageReadStatus.Error, 0, e.Message);
            }
            if (_length < 0)
                return new PageReadResult(PageReadStatus.SegmentMissing, 0, $"could not find file \"{name}\" in archive repository \"{_repository.Path}\"");
            (_timeline, _number) = (timeline, number);
        }
        int offset = _geometry.OffsetInSegment(start);
        int n = Math.Max(0, Math.Min(destination.Length, _length - offset));
        _segment.AsSpan(offset, n).CopyTo(destination);
        return new PageReadResult(PageReadStatus.Ok, n);
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _segment = null;
        _length = -1;
    }
}
