// GzipWalTarget: pg_receivewal 15's -Z gzip layout: the segment in progress is <name>.gz.partial
// (not padded: a gzip stream of what was received so far), renamed to <name>.gz when complete
// (gzip trailer written, fsync, rename, directory fsync). Closing an incomplete segment finishes
// its gzip stream, so a .gz.partial is always a valid gzip file; a resumed run rewrites it from
// the segment's start, as pg_receivewal does. History files are written uncompressed.
using System.Buffers;
using System.IO.Compression;
using PgWal.Format;
using PgWal.Storage;

namespace PgWal.Replication.Client;

/// <summary>Writes streamed WAL into a directory as gzip files, as pg_receivewal -Z gzip.</summary>
public sealed class GzipWalTarget : IWalReceiveTarget
{
    private readonly DirectoryWalTarget _plain;   // history files and the directory scan
    private readonly WalGeometry _geometry;
    private readonly bool _sync;
    private readonly int _level;
    private readonly UnixFileMode _fileMode;
    private readonly Action<string>? _warning;
    private FileStream? _file;
    private GZipStream? _gzip;
    private string? _partialPath, _finalPath;
    private long _offset;

    /// <summary>A target in <paramref name="directory"/> compressing at <paramref name="level"/> (1..9).</summary>
    public GzipWalTarget(string directory, WalGeometry geometry, bool sync, int level, UnixFileMode fileMode, Action<string>? warning = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(level, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(level, 9);
        _plain = new DirectoryWalTarget(directory, geometry, sync, fileMode, warning);
        _geometry = geometry;
        _sync = sync;
        _level = level;
        _fileMode = fileMode;
        _warning = warning;
    }

    /// <inheritdoc/>
    public bool IsOpen => _gzip != null;

    /// <inheritdoc/>
    public (TimelineId Timeline, Lsn Start)? FindResumePoint() => WalDirectoryScan.FindResumePoint(_plain.Directory, _geometry, _warning);

    /// <inheritdoc/>
    public bool HasHistoryFile(TimelineId timeline) => _plain.HasHistoryFile(timeline);

    /// <inheritdoc/>
    public string WriteHistoryFile(TimelineHistoryFile file) => _plain.WriteHistoryFile(file);

    /// <inheritdoc/>
    public void OpenSegment(TimelineId timeline, SegmentNumber segment)
    {
        if (_gzip != null)
            throw new InvalidOperationException("a segment is already open");
        _finalPath = Path.Combine(_plain.Directory, SegmentFileName.Format(timeline, segment, _geometry) + ".gz");
        _partialPath = _finalPath + ".partial";
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
            options.UnixCreateMode = _fileMode;
        _file = new FileStream(_partialPath, options);
        _gzip = new GZipStream(_file, new ZLibCompressionOptions { CompressionLevel = _level }, leaveOpen: true);
        _offset = 0;
        if (_sync)
        {
            _file.Flush(flushToDisk: true);
            FileSystemWalStorage.SyncDirectory(_plain.Directory);
        }
    }

    /// <inheritdoc/>
    public void Write(ReadOnlySequence<byte> data)
    {
        var gzip = _gzip ?? throw new InvalidOperationException("no segment is open");
        if (_offset + data.Length > _geometry.SegmentSize)
            throw new InvalidOperationException($"a write of {data.Length} bytes at offset {_offset} passes the segment's end");
        foreach (var piece in data)
            gzip.Write(piece.Span);
        _offset += data.Length;
    }

    /// <inheritdoc/>
    public void Sync()
    {
        if (_gzip == null)
            return;
        _gzip.Flush();   // Z_SYNC_FLUSH: everything written so far is in the file
        if (_sync)
            _file!.Flush(flushToDisk: true);
    }

    /// <inheritdoc/>
    public string CompleteSegment()
    {
        if (_gzip == null)
            throw new InvalidOperationException("no segment is open");
        if (_offset != _geometry.SegmentSize)
            throw new InvalidOperationException($"the segment is not complete ({_offset} of {_geometry.SegmentSize} bytes)");
        Close();
        File.Move(_partialPath!, _finalPath!, overwrite: true);
        if (_sync)
            FileSystemWalStorage.SyncDirectory(_plain.Directory);
        return _finalPath!;
    }

    /// <inheritdoc/>
    public void CloseIncomplete()
    {
        if (_gzip != null)
            Close();
    }

    // Finishes the gzip stream (its trailer), makes the file durable, closes it.
    private void Close()
    {
        try
        {
            _gzip!.Dispose();
            if (_sync)
                _file!.Flush(flushToDisk: true);
        }
        finally
        {
            _gzip = null;
            _file!.Dispose();
            _file = null;
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        CloseIncomplete();
        _plain.Dispose();
    }
}
