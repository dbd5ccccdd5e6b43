// SegmentFileListSource: an IPageSource over an explicit list of segment files, which may live in
// different directories (an archive, a copy, pg_receivewal's output). Each file is identified by
// its PostgreSQL name (a ".partial" suffix is accepted); reads go through SegmentDirectorySource's
// positional-read logic, one file at a time.
using PgWal.Format;
using PgWal.Read;

namespace PgWal.Storage;

/// <summary>Reads WAL from a given set of segment files.</summary>
public sealed class SegmentFileListSource : IPageSource
{
    private readonly Dictionary<(TimelineId, SegmentNumber), string> _files = [];
    private readonly WalGeometry _geometry;
    private SegmentDirectorySource? _current;
    private string? _currentPath;

    /// <summary>Uses <paramref name="paths"/>, each named like a WAL segment (optionally with ".partial").</summary>
    /// <exception cref="ArgumentException">A file name is not a segment name, or two files are the same segment.</exception>
    public SegmentFileListSource(IEnumerable<string> paths, int segmentSize)
    {
        _geometry = new WalGeometry(segmentSize);
        foreach (var path in paths)
        {
            string name = Path.GetFileName(path);
            string bare = name.EndsWith(".partial", StringComparison.Ordinal) ? name[..^".partial".Length] : name;
            if (!SegmentFileName.IsSegmentFileName(bare) || !SegmentFileName.TryParse(bare, _geometry, out var tli, out var seg))
                throw new ArgumentException($"\"{path}\" is not named like a WAL segment file", nameof(paths));
            if (!_files.TryAdd((tli, seg), path))
                throw new ArgumentException($"\"{path}\" and \"{_files[(tli, seg)]}\" are the same segment", nameof(paths));
        }
    }

    /// <inheritdoc/>
    public string DescribeSegment(TimelineId timeline, SegmentNumber segment)
        => _files.TryGetValue((timeline, segment), out var path) ? Path.GetFileName(path) : SegmentFileName.Format(timeline, segment, _geometry);

    /// <inheritdoc/>
    public PageReadResult Read(TimelineId timeline, Lsn start, Span<byte> destination)
    {
        var segment = _geometry.SegmentOf(start);
        if (!_files.TryGetValue((timeline, segment), out var path))
            return new PageReadResult(PageReadStatus.SegmentMissing, 0,
                $"could not find file \"{SegmentFileName.Format(timeline, segment, _geometry)}\": No such file or directory");
        if (_currentPath != path)
        {
            _current?.Dispose();
            _current = new SegmentDirectorySource(Path.GetDirectoryName(Path.GetFullPath(path))!, _geometry.SegmentSize, Path.GetFileName(path));
            _currentPath = path;
        }
        return _current!.Read(timeline, start, destination);
    }

    /// <inheritdoc/>
    public void Dispose() => _current?.Dispose();
}
