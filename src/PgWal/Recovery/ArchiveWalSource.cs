// ArchiveWalSource: the WAL archive recovery reads (XLogFileReadAnyTLI). For each segment it walks
// the target timeline's history newest first, skipping timelines that begin after the segment and
// never going back below the timeline of the file it read last, and takes the first file it can
// get: from the archive (the restorer), which always wins over a copy in pg_wal, else from pg_wal.
// A restored file is checked for size, renamed to its real name in pg_wal (replacing a local
// copy) and marked .done. A segment found nowhere is the end of the WAL; a file the archive has
// but cannot deliver stops recovery with an error naming it. With a restorer that allows it (the
// in-process repository), the next segments of the same timeline are restored ahead, one at a
// time on a background thread, while replay works; a restore ahead that fails is simply done
// again in line, where its error counts.
using Microsoft.Extensions.Logging;
using Microsoft.Win32.SafeHandles;
using PgWal.Archive;
using PgWal.Format;
using PgWal.Read;
using PgWal.Storage;
using PgWal.Timelines;

namespace PgWal.Recovery;

internal sealed class ArchiveWalSource : IPageSource
{
    private const string RestoredSegment = "RECOVERYXLOG";
    private const string RestoredHistory = "RECOVERYHISTORY";

    private readonly string _walDirectory;
    private readonly WalGeometry _geometry;
    private readonly IWalRestorer? _restorer;
    private readonly IArchiveStatusStorage? _status;
    private readonly ILogger _logger;
    private SafeFileHandle? _file;
    private SegmentNumber _fileSegment;
    private string? _fileName;

    public ArchiveWalSource(string walDirectory, WalGeometry geometry, IWalRestorer? restorer, IArchiveStatusStorage? status, TimelineHistory history, ILogger logger)
    {
        _walDirectory = walDirectory;
        _geometry = geometry;
        _restorer = restorer;
        _status = status;
        _logger = logger;
        History = history;
    }

    /// <summary>The timeline history being followed (expectedTLEs).</summary>
    public TimelineHistory History { get; set; }

    /// <summary>The timeline of the file read last (curFileTLI); files of older timelines are not read after it.</summary>
    public TimelineId FileTimeline { get; private set; }

    /// <summary>PostgreSQL's %r: the oldest segment recovery still needs.</summary>
    public string OldestKept { get; set; } = "000000000000000000000000";

    /// <summary>Segments restored from the archive.</summary>
    public int Restored { get; private set; }

    /// <inheritdoc/>
    public string DescribeSegment(TimelineId timeline, SegmentNumber segment)
        => _file != null && segment == _fileSegment ? _fileName! : SegmentFileName.Format(History.Target, segment, _geometry);

    /// <inheritdoc/>
    public PageReadResult Read(TimelineId timeline, Lsn start, Span<byte> destination)
    {
        var segment = _geometry.SegmentOf(start);
        if (_file == null || segment != _fileSegment)
        {
            Close();
            try
            {
                if (!OpenSegment(segment))
                    return new PageReadResult(PageReadStatus.SegmentMissing, 0,
                        $"could not find WAL segment {SegmentFileName.Format(History.Target, segment, _geometry)} (or of an ancestor timeline) in the archive or in \"{_walDirectory}\"");
            }
            catch (IOException e)
            {
                return new PageReadResult(PageReadStatus.Error, 0, e.Message);
            }
        }
        int n = RandomAccess.Read(_file!, destination, _geometry.OffsetInSegment(start));
        return new PageReadResult(PageReadStatus.Ok, n);
    }

    private bool OpenSegment(SegmentNumber segment)
    {
        foreach (var timeline in History.FileCandidates(segment, _geometry, FileTimeline))
        {
            string name = SegmentFileName.Format(timeline, segment, _geometry);
            if (!Fetch(name, RestoredSegment, _geometry.SegmentSize))
                continue;
            _file = File.OpenHandle(Path.Combine(_walDirectory, name), FileMode.Open, FileAccess.Read);
            (_fileSegment, _fileName, FileTimeline) = (segment, name, timeline);
            _opened[segment] = name;
            RestoreAhead(timeline, segment);
            return true;
        }
        return false;
    }

    private readonly Dictionary<SegmentNumber, string> _opened = [];

    /// <summary>The file read for <paramref name="segment"/> (in pg_wal now), or null when none was.</summary>
    public string? FileOf(SegmentNumber segment) => _opened.GetValueOrDefault(segment);

    /// <summary>The history file of <paramref name="timeline"/> (archive first, then pg_wal), or null.</summary>
    public string? FetchHistory(TimelineId timeline)
    {
        if (timeline == TimelineId.First)
            return null;
        string name = TimelineHistory.FileName(timeline);
        return Fetch(name, RestoredHistory, expectedSize: -1) ? File.ReadAllText(Path.Combine(_walDirectory, name)) : null;
    }

    /// <summary>findNewestTimeLine: the highest timeline above <paramref name="start"/> with a history file, probing upwards until the first gap.</summary>
    public TimelineId FindNewestTimeline(TimelineId start)
    {
        var newest = start;
        for (uint t = start.Value + 1; FetchHistory(new TimelineId(t)) != null; t++)
            newest = new TimelineId(t);
        return newest;
    }

    private const int AheadDepth = 4;
    private readonly Dictionary<string, Task<bool>> _ahead = new(StringComparer.Ordinal);   // name -> restored into AheadPath(name)
    private Task _aheadChain = Task.CompletedTask;

    private string AheadPath(string name) => Path.Combine(_walDirectory, $"RECOVERYXLOG.ahead.{name}");

    // Queues the next segments of `timeline` after `segment` for restoring in the background, in order.
    private void RestoreAhead(TimelineId timeline, SegmentNumber segment)
    {
        if (_restorer is not { CanRestoreAhead: true } restorer)
            return;
        for (int k = 1; k <= AheadDepth; k++)
        {
            string name = SegmentFileName.Format(timeline, new SegmentNumber(segment.Value + (ulong)k), _geometry);
            if (_ahead.ContainsKey(name) || File.Exists(Path.Combine(_walDirectory, name)) && _status?.Status(name) == ArchiveStatusKind.Done)
                continue;
            string temp = AheadPath(name), oldest = OldestKept;
            var task = _aheadChain.ContinueWith(_ =>
            {
                File.Delete(temp);
                if (!restorer.TryRestore(name, temp, oldest))
                    return false;
                using (var handle = File.OpenHandle(temp, FileMode.Open, FileAccess.ReadWrite))
                    FileSystemWalStorage.SyncHandle(handle, dataOnly: false, temp);
                return true;
            }, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
            _ahead[name] = task;
            _aheadChain = task;
        }
    }

    // Restores `name` into pg_wal (the archive wins over a local copy), or finds it there.
    private bool Fetch(string name, string temporary, int expectedSize)
    {
        string target = Path.Combine(_walDirectory, name);
        if (_ahead.Remove(name, out var ahead))
        {
            bool restored;
            try
            {
                restored = ahead.GetAwaiter().GetResult();
            }
            catch (Exception)
            {
                restored = false;   // restored again in line below, where a real error is reported
            }
            string aheadPath = AheadPath(name);
            if (restored && new FileInfo(aheadPath).Length == expectedSize)
                return Install(aheadPath, name);
            File.Delete(aheadPath);
        }
        if (_restorer != null)
        {
            string temp = Path.Combine(_walDirectory, temporary);
            File.Delete(temp);
            if (_restorer.TryRestore(name, temp, OldestKept))
            {
                long size = new FileInfo(temp).Length;
                if (expectedSize >= 0 && size != expectedSize)
                {
                    File.Delete(temp);
                    throw new ArchiveException($"archive file \"{name}\" has wrong size: {size} instead of {expectedSize}");
                }
                using (var handle = File.OpenHandle(temp, FileMode.Open, FileAccess.ReadWrite))
                    FileSystemWalStorage.SyncHandle(handle, dataOnly: false, temp);
                return Install(temp, name);
            }
        }
        return File.Exists(target);
    }

    // KeepFileRestoredFromArchive: a restored (and synced) file takes its real name in pg_wal,
    // replacing a local copy, durably, and is marked archived.
    private bool Install(string restoredPath, string name)
    {
        File.Move(restoredPath, Path.Combine(_walDirectory, name), overwrite: true);
        FileSystemWalStorage.SyncDirectory(_walDirectory);
        _status?.MarkDone(name);
        Restored++;
        _logger.LogInformation("restored log file \"{Name}\" from archive", name);
        return true;
    }

    private void Close()
    {
        _file?.Dispose();
        _file = null;
    }

    public void Dispose()
    {
        Close();
        // No restore may still be writing when recovery returns; what was restored ahead and not
        // used (past the target, or on a timeline not followed) is removed.
        try
        {
            _aheadChain.Wait();
        }
        catch (AggregateException)
        {
        }
        foreach (var name in _ahead.Keys)
            File.Delete(AheadPath(name));
        _ahead.Clear();
    }
}
