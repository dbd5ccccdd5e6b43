// Archiver: PostgreSQL's pgarch inside a WalInstance. A background thread sends every file with a
// pg_wal/archive_status/<name>.ready to the archive module, one at a time, history files first and
// then in name order (so oldest first, and lower timelines before higher), and renames the .ready
// to .done when the module returns. A failing file is tried three times, 1 s apart; then the
// archiver warns and waits for the next wake-up (a new .ready) or 60 s, and nothing behind it is
// archived: WAL is archived in order or not at all. Segments are removed only when .done
// (CheckDone), so pg_wal grows while archiving fails; WAL is never dropped for lack of archiving.
// At shutdown (after the shutdown checkpoint) one final pass runs. archive_timeout is checked on
// the same thread: a segment switch, marked unimportant, when WAL was written since the last one.
// Threads: Notify runs on the WAL writer (under its lock), CheckDone on the checkpointer, the rest
// on the archiver's thread; the counters are guarded by _statsLock.
using System.Diagnostics;
using Microsoft.Extensions.Logging;
using PgWal.Format;
using PgWal.Storage;
using PgWal.Write;

namespace PgWal.Archive;

internal sealed class Archiver : IDisposable
{
    private const int Attempts = 3;                         // NUM_ARCHIVE_RETRIES
    private const int BatchSize = 64;                        // NUM_FILES_PER_DIRECTORY_SCAN
    private static readonly TimeSpan AutoWake = TimeSpan.FromSeconds(60);   // PGARCH_AUTOWAKE_INTERVAL

    private readonly IArchiveStatusStorage _status;
    private readonly IWalStorage _wal;
    private readonly IArchiveModule _module;
    private readonly WalEngine _engine;
    private readonly WalGeometry _geometry;
    private readonly TimelineId _timeline;
    private readonly TimeSpan _retryDelay;
    private readonly TimeSpan _archiveTimeout;
    private readonly ILogger _logger;
    private readonly Thread _thread;
    private readonly AutoResetEvent _wake = new(false);
    private readonly CancellationTokenSource _abandon = new();
    private volatile bool _stopping;        // no new pass; with _finalPass, one more full pass first
    private volatile bool _finalPass;
    private int _started;

    // archive_timeout: when the last segment was finished or a switch requested (Stopwatch ticks),
    // and the end of that segment. Written by the WAL writer's callback and this thread.
    private long _lastSwitchTicks = Stopwatch.GetTimestamp();
    private long _lastSwitchLsn;

    private readonly object _statsLock = new();
    private long _archived, _failed;
    private string? _lastArchived, _lastFailed, _lastFailure;
    private DateTimeOffset? _lastArchivedTime, _lastFailedTime;
    private int _pending;
    private string? _oldestPending;
    private readonly Dictionary<string, long> _pendingSince = new(StringComparer.Ordinal);   // name -> first seen (ticks)
    private long _lastNotConfiguredWarning;

    public Archiver(IArchiveStatusStorage status, IWalStorage wal, IArchiveModule module, WalEngine engine, TimelineId timeline,
        WalInstanceOptions options, ILogger logger)
    {
        _status = status;
        _wal = wal;
        _module = module;
        _engine = engine;
        _geometry = engine.Geometry;
        _timeline = timeline;
        _retryDelay = options.ArchiveRetryDelay;
        _archiveTimeout = options.ArchiveTimeout;
        _logger = logger;
        _lastSwitchLsn = (long)engine.InsertedUpTo.Value;
        _thread = new Thread(Loop) { IsBackground = true, Name = "pgwal archiver" };
        // archive_timeout on its own timer (the checkpointer's job in PostgreSQL): a busy or
        // failing archiver must not postpone the switches that bound how much WAL is unarchived.
        if (_archiveTimeout > TimeSpan.Zero)
        {
            var period = TimeSpan.FromTicks(Math.Clamp(_archiveTimeout.Ticks / 4, TimeSpan.FromMilliseconds(20).Ticks, TimeSpan.FromSeconds(1).Ticks));
            _timeoutTimer = new Timer(_ => CheckArchiveTimeout(), null, Timeout.InfiniteTimeSpan, period);
            _timeoutPeriod = period;
        }
    }

    private readonly Timer? _timeoutTimer;
    private readonly TimeSpan _timeoutPeriod;
    private int _checkingTimeout;    // 1 while a timer callback runs (callbacks may overlap)

    public IArchiveModule Module => _module;

    public void Start()
    {
        if (Interlocked.Exchange(ref _started, 1) == 0)
        {
            _thread.Start();
            _timeoutTimer?.Change(_timeoutPeriod, _timeoutPeriod);
        }
    }

    /// <summary>XLogArchiveNotifySeg: a segment is complete and durable. Runs under the WAL writer's lock.</summary>
    public void SegmentFinished(SegmentNumber segment)
    {
        Interlocked.Exchange(ref _lastSwitchLsn, (long)_geometry.SegmentStart(segment.Next).Value);
        Interlocked.Exchange(ref _lastSwitchTicks, Stopwatch.GetTimestamp());
        Notify(SegmentFileName.Format(_timeline, segment, _geometry));
    }

    /// <summary>XLogArchiveNotify: <paramref name="fileName"/> (in pg_wal) is to be archived.</summary>
    public void Notify(string fileName)
    {
        try
        {
            _status.MarkReady(fileName);
            _wake.Set();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ObjectDisposedException)
        {
            // As PostgreSQL (LOG level): the next checkpoint finds neither status file and retries.
            // (ObjectDisposedException: the archiver stopped while the WAL was being closed.)
            _logger.LogWarning("could not create archive status file \"{Name}.ready\": {Message}", fileName, e.Message);
        }
    }

    /// <summary>
    /// XLogArchiveCheckDone: whether <paramref name="fileName"/> may be removed: only once archived
    /// (.done). A file with no status file at all gets a .ready now (its notification was lost).
    /// </summary>
    public bool CheckDone(string fileName)
    {
        switch (_status.Status(fileName))
        {
            case ArchiveStatusKind.Done:
                return true;
            case ArchiveStatusKind.None:
                Notify(fileName);
                return false;
            default:
                return false;
        }
    }

    public ArchiverStats Stats
    {
        get
        {
            lock (_statsLock)
            {
                var age = _oldestPending != null && _pendingSince.TryGetValue(_oldestPending, out long since) ? Stopwatch.GetElapsedTime(since) : TimeSpan.Zero;
                return new ArchiverStats(_archived, _lastArchived, _lastArchivedTime, _failed, _lastFailed, _lastFailedTime, _lastFailure, _pending, _oldestPending, age);
            }
        }
    }

    /// <summary>Shutdown: one more full pass (after the shutdown checkpoint), then the thread ends.</summary>
    public void FinishAndStop()
    {
        StopTimer();
        _finalPass = true;
        _stopping = true;
        _wake.Set();
        if (Volatile.Read(ref _started) != 0)
            _thread.Join();
    }

    /// <summary>Stops at once (a simulated crash, or a failed open): a running command is killed.</summary>
    public void Dispose()
    {
        StopTimer();
        _stopping = true;
        _abandon.Cancel();
        _wake.Set();
        if (Volatile.Read(ref _started) != 0)
            _thread.Join();
        _wake.Dispose();
        _abandon.Dispose();
    }

    private void Loop()
    {
        long lastPass = 0;
        while (true)
        {
            // _stopping first: FinishAndStop sets _finalPass before _stopping, so a stop seen here
            // always comes with its final pass.
            bool stopping = _stopping;
            bool final = _finalPass;
            if (stopping && !final)
                return;
            if (lastPass == 0 || final || Stopwatch.GetElapsedTime(lastPass) >= AutoWake || _woken)
            {
                _woken = false;
                try
                {
                    CopyLoop();
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    // archive_status unreadable, say: the .ready files stay; try again later.
                    _logger.LogError(e, "archiver pass failed: {Message}; trying again later", e.Message);
                }
                lastPass = Stopwatch.GetTimestamp();
            }
            if (final)
                return;
            var wait = AutoWake - Stopwatch.GetElapsedTime(lastPass);
            if (_wake.WaitOne(wait < TimeSpan.Zero ? TimeSpan.Zero : wait))
                _woken = true;
        }
    }

    private bool _woken;   // archiver thread only

    // pgarch_ArchiverCopyLoop: batches of the highest-priority .ready files until none is left or
    // one fails three times.
    private void CopyLoop()
    {
        while (true)
        {
            if (!_module.IsConfigured)
            {
                if (Stopwatch.GetElapsedTime(_lastNotConfiguredWarning) >= AutoWake || _lastNotConfiguredWarning == 0)
                {
                    _lastNotConfiguredWarning = Stopwatch.GetTimestamp();
                    _logger.LogWarning("archive_mode enabled, yet archiving is not configured: WAL accumulates in pg_wal");
                }
                ScanReady();
                return;
            }
            var batch = ScanReady();
            if (batch.Count == 0)
                return;
            foreach (var name in batch)
            {
                if (_stopping && !_finalPass)
                    return;
                if (_status.Status(name) != ArchiveStatusKind.Ready)
                    continue;    // archived or cleaned up meanwhile
                if (!_wal.Exists(name))
                {
                    _status.Remove(name);
                    _logger.LogWarning("removed orphan archive status file \"{Path}\"", Path.Combine(_status.Location, name + ".ready"));
                    continue;
                }
                if (!ArchiveWithRetries(name))
                    return;
            }
        }
    }

    private bool ArchiveWithRetries(string name)
    {
        string path = Path.Combine(_wal.Location, name);
        for (int attempt = 1; attempt <= Attempts; attempt++)
        {
            try
            {
                _module.Archive(name, path, _abandon.Token);
                _status.MarkDone(name);
                lock (_statsLock)
                {
                    _archived++;
                    _lastArchived = name;
                    _lastArchivedTime = DateTimeOffset.UtcNow;
                    _pendingSince.Remove(name);
                }
                _logger.LogDebug("archived write-ahead log file \"{Name}\"", name);
                return true;
            }
            catch (OperationCanceledException) when (_abandon.IsCancellationRequested)
            {
                return false;
            }
            catch (Exception e)
            {
                lock (_statsLock)
                {
                    _failed++;
                    _lastFailed = name;
                    _lastFailedTime = DateTimeOffset.UtcNow;
                    _lastFailure = e.Message;
                }
                if (e is ArchiveCommandException { IsFatal: true })
                {
                    // PostgreSQL's FATAL: the archiver process exits and is restarted later, without the retries.
                    _logger.LogError("archiving write-ahead log file \"{Name}\" failed: {Message}; will try again later", name, e.Message);
                    return false;
                }
                _logger.LogWarning("archiving write-ahead log file \"{Name}\" failed (attempt {Attempt} of {Attempts}): {Message}", name, attempt, Attempts, e.Message);
                if (attempt < Attempts && _abandon.Token.WaitHandle.WaitOne(_retryDelay))
                    return false;
            }
        }
        _logger.LogWarning("archiving write-ahead log file \"{Name}\" failed too many times, will try again later", name);
        return false;
    }

    // The .ready files in archiving order (history files first, then by name), the first BatchSize.
    private List<string> ScanReady()
    {
        var ready = new List<string>();
        foreach (var name in _status.ListReady())
        {
            if (ArchivedFileName.TryParse(name, out _) == null)
                ready.Add(name);
        }
        ready.Sort(ArchivedFileName.ArchiveOrder);
        lock (_statsLock)
        {
            long now = Stopwatch.GetTimestamp();
            var keep = new HashSet<string>(ready, StringComparer.Ordinal);
            foreach (var gone in _pendingSince.Keys.Where(k => !keep.Contains(k)).ToList())
                _pendingSince.Remove(gone);
            foreach (var name in ready)
                _pendingSince.TryAdd(name, now);
            _pending = ready.Count;
            _oldestPending = ready.Count > 0 ? ready[0] : null;
        }
        return ready.Count > BatchSize ? ready.GetRange(0, BatchSize) : ready;
    }

    private void StopTimer()
    {
        if (_timeoutTimer == null)
            return;
        using var done = new ManualResetEvent(false);
        if (_timeoutTimer.Dispose(done))
            done.WaitOne();   // no callback runs after this
    }

    private TimeSpan TimeUntilTimeout() => _archiveTimeout - Stopwatch.GetElapsedTime(Interlocked.Read(ref _lastSwitchTicks));

    // CheckArchiveTimeout: switch when the timeout has passed since the last switch (performed or
    // requested) and WAL other than an unimportant switch was written since.
    private void CheckArchiveTimeout()
    {
        if (Interlocked.Exchange(ref _checkingTimeout, 1) != 0)
            return;
        try
        {
            CheckArchiveTimeoutOnce();
        }
        catch (Exception e)
        {
            _logger.LogWarning(e, "archive_timeout check failed: {Message}", e.Message);
        }
        finally
        {
            Volatile.Write(ref _checkingTimeout, 0);
        }
    }

    private void CheckArchiveTimeoutOnce()
    {
        if (_archiveTimeout <= TimeSpan.Zero || TimeUntilTimeout() > TimeSpan.Zero || _engine.Fault != null)
            return;
        Interlocked.Exchange(ref _lastSwitchTicks, Stopwatch.GetTimestamp());
        if (!_engine.HasImportantWalSince(new Lsn((ulong)Interlocked.Read(ref _lastSwitchLsn))))
            return;
        try
        {
            var result = _engine.SwitchSegment(markUnimportant: true);
            _engine.Flush(_engine.InsertedUpTo);
            _logger.LogDebug("archive_timeout: switched WAL segment at {Lsn}", result.End);
        }
        catch (Exception e) when (e is WalFaultedException or ObjectDisposedException or InvalidOperationException)
        {
            // The engine failed or is closing: nothing to archive on time any more.
        }
    }
}
