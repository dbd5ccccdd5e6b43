// DirectoryWalTarget: pg_receivewal 15's directory layout (walmethods.c, receivelog.c): the
// segment in progress is <name>.partial, zero-filled to the segment size when created (so a crash
// never leaves a short file), written from offset 0 in order, and renamed to <name> when complete
// (durably: fsync file, rename, fsync directory). An existing .partial is reused when it has the
// full size or is empty; any other size is an error, as in pg_receivewal. History files are
// written as <name>.tmp, fsynced and renamed. With sync off nothing is fsynced (--no-sync).
using System.Buffers;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using PgWal.Format;
using PgWal.Storage;
using PgWal.Storage.Native;

namespace PgWal.Replication.Client;

/// <summary>Writes streamed WAL into a directory as pg_receivewal does.</summary>
public sealed class DirectoryWalTarget : IWalReceiveTarget
{
    private readonly string _partialSuffix;
    private readonly bool _markDone;
    private static readonly byte[] Zeros = new byte[128 * 1024];

    private readonly WalGeometry _geometry;
    private readonly bool _sync;
    private readonly UnixFileMode _fileMode;
    private readonly Action<string>? _warning;
    private SafeFileHandle? _file;
    private string? _partialPath;
    private string? _finalPath;
    private long _offset;

    /// <summary>A target in <paramref name="directory"/> (which must exist).</summary>
    /// <param name="directory">The output directory.</param>
    /// <param name="geometry">The server's segment size.</param>
    /// <param name="sync">fsync as pg_receivewal does (false: --no-sync).</param>
    /// <param name="fileMode">Mode of new files (0600, or 0640 when the server's data directory is group-readable).</param>
    /// <param name="warning">Receives warnings (a completed file of the wrong size is skipped).</param>
    /// <param name="partialSuffix">Suffix while in progress: ".partial" (pg_receivewal), "" (pg_basebackup's pg_wal).</param>
    /// <param name="markDone">Write archive_status/&lt;name&gt;.done for each completed segment (pg_basebackup's pg_wal).</param>
    public DirectoryWalTarget(string directory, WalGeometry geometry, bool sync, UnixFileMode fileMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        Action<string>? warning = null, string partialSuffix = ".partial", bool markDone = false)
    {
        _partialSuffix = partialSuffix;
        _markDone = markDone;
        if (!System.IO.Directory.Exists(directory))
            throw new DirectoryNotFoundException($"could not access directory \"{directory}\": No such file or directory");
        Directory = directory;
        _geometry = geometry;
        _sync = sync;
        _fileMode = fileMode;
        _warning = warning;
    }

    /// <summary>The output directory.</summary>
    public string Directory { get; }

    /// <inheritdoc/>
    public bool IsOpen => _file != null;

    /// <inheritdoc/>
    public (TimelineId Timeline, Lsn Start)? FindResumePoint() => WalDirectoryScan.FindResumePoint(Directory, _geometry, _warning);

    /// <inheritdoc/>
    public bool HasHistoryFile(TimelineId timeline) => File.Exists(Path.Combine(Directory, HistoryName(timeline)));

    /// <summary>"%08X.history".</summary>
    public static string HistoryName(TimelineId timeline) => $"{timeline.Value:X8}.history";

    /// <inheritdoc/>
    public string WriteHistoryFile(TimelineHistoryFile file)
    {
        string path = Path.Combine(Directory, file.FileName);
        string temp = path + ".tmp";
        using (var handle = File.OpenHandle(temp, FileMode.Create, FileAccess.Write))
        {
            SetMode(temp);
            RandomAccess.Write(handle, file.Content, 0);
            if (_sync)
                Fsync(handle, temp);
        }
        File.Move(temp, path, overwrite: true);
        if (_sync)
            FileSystemWalStorage.SyncDirectory(Directory);
        return path;
    }

    /// <inheritdoc/>
    public void OpenSegment(TimelineId timeline, SegmentNumber segment)
    {
        if (_file != null)
            throw new InvalidOperationException("a segment is already open");
        string name = SegmentFileName.Format(timeline, segment, _geometry);
        _finalPath = Path.Combine(Directory, name);
        _partialPath = _finalPath + _partialSuffix;
        bool existed = File.Exists(_partialPath);
        var handle = File.OpenHandle(_partialPath, FileMode.OpenOrCreate, FileAccess.ReadWrite);
        try
        {
            long size = RandomAccess.GetLength(handle);
            if (existed && size == _geometry.SegmentSize)
            {
                // A full-size partial from an earlier run: reused, and made durable first.
                if (_sync)
                    Fsync(handle, _partialPath);
            }
            else if (size == 0)
            {
                if (!existed)
                    SetMode(_partialPath);
                for (long at = 0; at < _geometry.SegmentSize; at += Zeros.Length)
                    RandomAccess.Write(handle, Zeros.AsSpan(0, (int)Math.Min(Zeros.Length, _geometry.SegmentSize - at)), at);
                if (_sync)
                {
                    Fsync(handle, _partialPath);
                    FileSystemWalStorage.SyncDirectory(Directory);
                }
            }
            else
            {
                throw new IOException($"write-ahead log file \"{name}{_partialSuffix}\" has {size} bytes, should be 0 or {_geometry.SegmentSize}");
            }
        }
        catch
        {
            handle.Dispose();
            throw;
        }
        _file = handle;
        _offset = 0;
    }

    /// <inheritdoc/>
    public void Write(ReadOnlySequence<byte> data)
    {
        var file = _file ?? throw new InvalidOperationException("no segment is open");
        if (_offset + data.Length > _geometry.SegmentSize)
            throw new InvalidOperationException($"a write of {data.Length} bytes at offset {_offset} passes the segment's end");
        foreach (var piece in data)
        {
            RandomAccess.Write(file, piece.Span, _offset);
            _offset += piece.Length;
        }
    }

    /// <inheritdoc/>
    public void Sync()
    {
        if (_sync && _file != null)
            Fsync(_file, _partialPath!);
    }

    /// <inheritdoc/>
    public string CompleteSegment()
    {
        var file = _file ?? throw new InvalidOperationException("no segment is open");
        if (_offset != _geometry.SegmentSize)
            throw new InvalidOperationException($"the segment is not complete ({_offset} of {_geometry.SegmentSize} bytes)");
        if (_sync)
            Fsync(file, _partialPath!);
        file.Dispose();
        _file = null;
        if (_partialPath != _finalPath)
            File.Move(_partialPath!, _finalPath!, overwrite: true);
        if (_markDone)
        {
            string status = Path.Combine(Directory, "archive_status");
            System.IO.Directory.CreateDirectory(status);
            File.WriteAllBytes(Path.Combine(status, Path.GetFileName(_finalPath!) + ".done"), []);
        }
        if (_sync)
            FileSystemWalStorage.SyncDirectory(Directory);
        return _finalPath!;
    }

    /// <inheritdoc/>
    public void CloseIncomplete()
    {
        if (_file == null)
            return;
        try
        {
            if (_sync)
                Fsync(_file, _partialPath!);
        }
        finally
        {
            _file.Dispose();
            _file = null;
        }
    }

    /// <inheritdoc/>
    public void Dispose() => CloseIncomplete();

    private void SetMode(string path)
    {
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(path, _fileMode);
    }

    private static void Fsync(SafeFileHandle handle, string path)
    {
        if (OperatingSystem.IsWindows())
            return;
        if (LibC.fsync((int)handle.DangerousGetHandle()) != 0)
            throw new SyncFailedException($"could not fsync file \"{path}\": {Marshal.GetLastPInvokeErrorMessage()}");
    }
}
