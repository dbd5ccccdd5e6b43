// SegmentDirectorySource: an IPageSource over a directory of WAL segment files (a pg_wal
// directory, an archive copy, pg_receivewal's output). Keeps the current segment's file open and
// reads with positional I/O, so the reader's read-ahead becomes one pread per chunk.
using Microsoft.Win32.SafeHandles;
using PgWal.Format;
using PgWal.Read;

namespace PgWal.Storage;

/// <summary>Reads WAL from segment files named as PostgreSQL names them, in one directory.</summary>
public sealed class SegmentDirectorySource : IPageSource
{
    private readonly string _directory;
    private readonly WalGeometry _geometry;
    private readonly string? _fixedFileName;
    private SafeFileHandle? _handle;
    private TimelineId _openTimeline;
    private SegmentNumber _openSegment;

    /// <summary>Reads segments of <paramref name="segmentSize"/> bytes from <paramref name="directory"/>.</summary>
    public SegmentDirectorySource(string directory, int segmentSize)
    {
        _directory = directory;
        _geometry = new WalGeometry(segmentSize);
    }

    // For SegmentFileListSource: every read goes to this one file (which may be named ".partial").
    internal SegmentDirectorySource(string directory, int segmentSize, string fixedFileName)
        : this(directory, segmentSize) => _fixedFileName = fixedFileName;

    /// <summary>The directory read.</summary>
    public string Directory => _directory;

    /// <inheritdoc/>
    public string DescribeSegment(TimelineId timeline, SegmentNumber segment)
        => SegmentFileName.Format(timeline, segment, _geometry);

    /// <inheritdoc/>
    public PageReadResult Read(TimelineId timeline, Lsn start, Span<byte> destination)
    {
        var segment = _geometry.SegmentOf(start);
        string name = _fixedFileName ?? DescribeSegment(timeline, segment);
        if (_handle is null || _openSegment != segment || _openTimeline != timeline)
        {
            Close();
            string path = Path.Combine(_directory, name);
            try
            {
                _handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            }
            catch (FileNotFoundException)
            {
                return new PageReadResult(PageReadStatus.SegmentMissing, 0, $"could not find file \"{name}\": No such file or directory");
            }
            catch (DirectoryNotFoundException)
            {
                return new PageReadResult(PageReadStatus.SegmentMissing, 0, $"could not find file \"{name}\": No such file or directory");
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // pg_waldump's segment_open callback reports every open failure as "could not find file".
                return new PageReadResult(PageReadStatus.Error, 0, $"could not find file \"{name}\": {OsErrors.Describe(e, path)}");
            }
            _openSegment = segment;
            _openTimeline = timeline;
        }
        long offset = _geometry.OffsetInSegment(start);
        try
        {
            return new PageReadResult(PageReadStatus.Ok, FileSystemWalStorage.ReadFully(_handle, destination, offset));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return new PageReadResult(PageReadStatus.Error, 0, $"could not read from file {name}, offset {offset}: {OsErrors.Describe(e, Path.Combine(_directory, name))}");
        }
    }

    private void Close()
    {
        _handle?.Dispose();
        _handle = null;
    }

    /// <inheritdoc/>
    public void Dispose() => Close();
}
