// Restartpoints: a standby's checkpoints (CreateRestartPoint). When replay has passed a checkpoint
// record newer than pg_control's, the pages replayed so far are written and synced (every page
// changed before that checkpoint's redo point among them), then pg_control moves to that
// checkpoint, so a restart replays from there; minRecoveryPoint, moved forward whenever a replayed
// page is written, keeps a restart from calling itself consistent too early. Then the WAL before
// the redo point (less wal_keep_size) goes, unless it still waits for the archiver. Runs on its
// own thread while replay goes on, every restartpoint interval; at a clean close once more
// ("shut down in recovery").
using Microsoft.Extensions.Logging;
using PgWal.Archive;
using PgWal.Checkpoint;
using PgWal.Format;
using PgWal.Pages;
using PgWal.Storage;

namespace PgWal.Standby;

internal sealed class Restartpoints : IDisposable
{
    private readonly StandbyReplay _replay;
    private readonly ControlFileManager _control;
    private readonly BufferManager _buffers;
    private readonly IDataDirectoryStorage _storage;
    private readonly WalGeometry _geometry;
    private readonly TimeSpan _interval;
    private readonly long _walKeepSize;
    private readonly ILogger _logger;
    private readonly object _runLock = new();    // one restartpoint at a time
    private readonly ManualResetEventSlim _stop = new(false);
    private readonly Thread _thread;

    public Restartpoints(StandbyReplay replay, ControlFileManager control, BufferManager buffers, IDataDirectoryStorage storage, WalGeometry geometry,
        TimeSpan interval, long walKeepSize, ILogger logger)
    {
        _replay = replay;
        _control = control;
        _buffers = buffers;
        _storage = storage;
        _geometry = geometry;
        _interval = interval;
        _walKeepSize = walKeepSize;
        _logger = logger;
        _thread = new Thread(Loop) { Name = "pgwal-restartpoints", IsBackground = true };
    }

    /// <summary>Restartpoints completed.</summary>
    public long Completed => Interlocked.Read(ref _completed);
    private long _completed;

    public void Start() => _thread.Start();

    private void Loop()
    {
        while (!_stop.Wait(_interval))
        {
            try
            {
                Run();
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                _logger.LogWarning("restartpoint failed, retried later: {Message}", e.Message);
            }
        }
    }

    /// <summary>Creates a restartpoint when replay passed a newer checkpoint; returns whether it did.</summary>
    public bool Run()
    {
        lock (_runLock)
        {
            if (_replay.LastCheckpoint is not { } last || last.CheckPoint.Redo <= _control.Current.CheckPointCopy.Redo)
                return false;
            int written = _buffers.WriteDirtyForCheckpoint(null);
            _buffers.SyncWrittenFiles();
            _control.Update(c => c with
            {
                CheckPointLocation = last.Location, CheckPointCopy = last.CheckPoint,
                MinRecoveryPoint = Lsn.Max(c.MinRecoveryPoint, last.End),
                MinRecoveryPointTimeline = c.MinRecoveryPoint >= last.End ? c.MinRecoveryPointTimeline : last.CheckPoint.ThisTimeline,
                Time = DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
            });
            int removed = RemoveOldWal(last.CheckPoint.Redo);
            Interlocked.Increment(ref _completed);
            _logger.LogInformation("restartpoint complete: wrote {Buffers} buffers; {Removed} WAL file(s) removed; recovery restart point at {Redo}, checkpoint {Location}",
                written, removed, last.CheckPoint.Redo, last.Location);
            return true;
        }
    }

    /// <summary>At a clean close: every replayed page written, pg_control "shut down in recovery".</summary>
    public void Shutdown()
    {
        lock (_runLock)
        {
            Run();
            _buffers.WriteDirtyForCheckpoint(null);
            _buffers.SyncWrittenFiles();
            _control.Update(c => c with { State = DatabaseState.ShutDownInRecovery, Time = DateTimeOffset.UtcNow.ToUnixTimeSeconds() });
        }
    }

    // Segments wholly before the redo point (less wal_keep_size) are no longer needed by a restart.
    private int RemoveOldWal(Lsn redo)
    {
        ulong keep = (ulong)(_walKeepSize / _geometry.SegmentSize);
        ulong oldestKept = _geometry.SegmentOf(redo).Value;
        oldestKept = oldestKept > keep ? oldestKept - keep : 0;
        int removed = 0;
        foreach (var name in _storage.Wal.ListFiles())
        {
            if (!SegmentFileName.TryParse(name, _geometry, out _, out var segment) || segment.Value >= oldestKept)
                continue;
            if (_storage.ArchiveStatus?.Status(name) == ArchiveStatusKind.Ready)
                continue;
            _storage.Wal.Delete(name);
            _storage.ArchiveStatus?.Remove(name);
            removed++;
        }
        return removed;
    }

    public void Dispose()
    {
        _stop.Set();
        if (_thread.IsAlive)
            _thread.Join();
    }
}
