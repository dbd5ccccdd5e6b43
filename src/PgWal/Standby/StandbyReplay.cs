// StandbyReplay: the startup process of a standby (xlogrecovery.c in standby mode). One thread
// replays WAL from its checkpoint's redo point on, forever: first what the archive and pg_wal
// hold, then what the walreceiver streams into pg_wal — never past what it made durable — and,
// when streaming ends, the archive again before connecting once more (PostgreSQL's
// WaitForWALToBecomeAvailable: archive, pg_wal, stream). With recovery_target_timeline = latest
// it follows a new timeline of the primary once the history file arrives, unless the standby
// already replayed past the fork. Each record is applied under the hot-standby lock's write side,
// so readers (its read side) see whole records — and since kv's changes are applied at their
// commit record, whole transactions. Promotion stops streaming, replays what pg_wal holds, and
// hands the end of the WAL to the instance, which starts the new timeline.
using System.Diagnostics;
using Microsoft.Extensions.Logging;
using PgWal.Archive;
using PgWal.Checkpoint;
using PgWal.Format;
using PgWal.Pages;
using PgWal.Read;
using PgWal.Recovery;
using PgWal.Storage;
using PgWal.Timelines;

namespace PgWal.Standby;

internal sealed partial class StandbyReplay : IDisposable
{
    private enum Phase { Archive, Stream }

    private readonly IDataDirectoryStorage _storage;
    private readonly string _walDirectory;
    private readonly WalGeometry _geometry;
    private readonly ControlFileManager _control;
    private readonly ControlFileData _start;       // pg_control when replay began
    private readonly ResourceManagerRegistry _managers;
    private readonly BufferManager _buffers;
    private readonly StandbyOptions _options;
    private readonly IWalRestorer? _restorer;
    private readonly ILogger _logger;
    private readonly Diagnostics.InstanceMetrics _metrics;
    private readonly Thread _thread;
    private readonly AutoResetEvent _wake = new(false);
    private readonly ManualResetEventSlim _consistentOrFailed = new(false);
    private readonly ManualResetEventSlim _notPaused = new(true);
    private volatile bool _stop, _promote;
    private ArchiveRecovery.Outcome? _outcome;

    public StandbyReplay(IDataDirectoryStorage storage, WalGeometry geometry, ControlFileManager control, ResourceManagerRegistry managers,
        BufferManager buffers, StandbyOptions options, ILogger logger, Diagnostics.InstanceMetrics metrics)
    {
        _storage = storage;
        _walDirectory = Path.Combine(storage.Location, "pg_wal");
        _geometry = geometry;
        _control = control;
        _start = control.Current;
        _managers = managers;
        _buffers = buffers;
        _options = options;
        _restorer = options.RestorerFor(storage.Location);
        _logger = logger;
        _metrics = metrics;
        _feed = NewFeed(options);
        _history = TimelineHistory.Single(_start.CheckPointCopy.ThisTimeline);
        _thread = new Thread(Run) { Name = "pgwal-startup", IsBackground = true };
    }

    /// <summary>The walreceiver; null without primary_conninfo. Replaced whole by ChangePrimary.</summary>
    public StandbyWalFeed? Feed => Volatile.Read(ref _feed);
    private StandbyWalFeed? _feed;

    private StandbyWalFeed? NewFeed(StandbyOptions options)
        => options.Connection() is { } connection
            ? new StandbyWalFeed(connection, _walDirectory, _geometry, _start.SystemIdentifier, options, () => ReplayedUpTo, () => _wake.Set(), _logger)
            : null;

    /// <summary>
    /// primary_conninfo (and primary_slot_name) changed at run time: the walreceiver stops and
    /// replay connects to the new primary (following its timeline, with recovery_target_timeline latest).
    /// </summary>
    public void ChangePrimary(StandbyOptions options)
    {
        var feed = NewFeed(options);
        var old = Interlocked.Exchange(ref _feed, feed);
        old?.Dispose();
        _logger.LogInformation("primary_conninfo changed: now following {Primary}", feed?.Primary ?? "the archive only");
        _wake.Set();
    }

    /// <summary>Called (on a pool thread) when a "promote" file appears in the data directory.</summary>
    public Action? PromoteFileFound { get; set; }

    /// <summary>The hot-standby lock: replay holds the write side while it applies a record, readers the read side.</summary>
    public ReaderWriterLockSlim ReplayLock { get; } = new(LockRecursionPolicy.NoRecursion);

    /// <summary>Why replay stopped, when it failed.</summary>
    public Exception? Failure { get; private set; }

    public void Start() => _thread.Start();

    /// <summary>Waits until the state is consistent (hot-standby reads may begin).</summary>
    /// <exception cref="RecoveryException">Replay failed, or the timeout passed first.</exception>
    public void WaitUntilConsistent(TimeSpan? timeout)
    {
        var clock = Stopwatch.StartNew();
        while (!_consistentOrFailed.Wait(TimeSpan.FromSeconds(10)))
        {
            _logger.LogInformation("standby not consistent yet: replayed up to {Lsn}, consistent from {Min}; streaming: {Streaming}{Error}",
                ReplayedUpTo, _control.Current.MinRecoveryPoint, Feed?.IsStreaming == true ? "yes" : "no", Feed?.LastError is { } e ? $" ({e})" : "");
            if (timeout is { } t && clock.Elapsed > t)
                throw new RecoveryException($"the standby did not reach a consistent state within {t.TotalSeconds:0} s: replayed up to {ReplayedUpTo}, consistent only from {_control.Current.MinRecoveryPoint}" +
                    (Feed?.LastError is { } error ? $"; the primary: {error}" : ""));
        }
        if (Failure != null)
            throw Failure as RecoveryException ?? new RecoveryException($"standby replay failed: {Failure.Message}");
    }

    /// <summary>pg_wal_replay_pause: replay stops after the record it is applying; streaming goes on.</summary>
    public void Pause()
    {
        _notPaused.Reset();
        _logger.LogInformation("recovery has paused at {Lsn}", ReplayedUpTo);
    }

    /// <summary>pg_wal_replay_resume.</summary>
    public void Resume()
    {
        _notPaused.Set();
        _wake.Set();
    }

    public bool IsPaused => !_notPaused.IsSet;

    /// <summary>Ends recovery: stops streaming, replays what pg_wal holds, returns where the WAL ends.</summary>
    public ArchiveRecovery.Outcome Promote()
    {
        _promote = true;
        _notPaused.Set();
        _wake.Set();
        _thread.Join();
        if (Failure != null)
            throw new RecoveryException($"cannot promote: standby replay failed: {Failure.Message}");
        return _outcome ?? throw new InvalidOperationException("replay ended without an outcome");
    }

    private void Run()
    {
        try
        {
            _outcome = Loop();
        }
        catch (Exception e)
        {
            Failure = e;
            _logger.LogError("standby replay stopped at {Lsn}: {Message}", ReplayedUpTo, e.Message);
        }
        finally
        {
            Feed?.Stop();
            _consistentOrFailed.Set();
            _waiters.FailAll(Failure);
        }
    }

    private ArchiveRecovery.Outcome? Loop()
    {
        BeginReplay();
        var phase = Phase.Archive;
        long lastFeedStart = 0;
        WalReader? streamReader = null;
        try
        {
            while (true)
            {
                if (_stop)
                    return null;
                CheckPromoteFile();
                if (_promote)
                {
                    streamReader?.Dispose();
                    streamReader = null;
                    return Drain();
                }
                if (!_notPaused.IsSet)
                {
                    WaitHandle.WaitAny([_wake, _notPaused.WaitHandle], TimeSpan.FromSeconds(1));
                    continue;
                }
                if (phase == Phase.Archive)
                {
                    using (var reader = NewReader(_restorer))
                        ReadAvailable(reader, Lsn.Invalid);
                    if (Feed == null)
                    {
                        WaitAWhile(_options.RetryInterval);   // archive only: ask it again later
                        continue;
                    }
                    while (lastFeedStart != 0 && Remaining(lastFeedStart) > TimeSpan.Zero && !_stop && !_promote)
                        WaitAWhile(Remaining(lastFeedStart));
                    if (_stop || _promote)
                        continue;
                    Feed.Start(_history.TimelineOf(_next), _next);
                    lastFeedStart = Stopwatch.GetTimestamp();
                    phase = Phase.Stream;
                    continue;
                }
                var (timeline, flushed) = Feed!.Flushed;
                if (timeline.IsValid && flushed.IsValid && !_history.Includes(timeline))
                {
                    streamReader?.Dispose();
                    streamReader = null;
                    FollowNewTimeline();
                }
                if (flushed > _next && _history.Includes(timeline))
                {
                    streamReader ??= NewReader(null);
                    if (ReadAvailable(streamReader, flushed))
                        continue;
                }
                if (!Feed.IsRunning)
                {
                    streamReader?.Dispose();
                    streamReader = null;
                    phase = Phase.Archive;   // streaming ended: what the archive (and pg_wal) has, then connect again
                    continue;
                }
                WaitAWhile(TimeSpan.FromSeconds(1));
                if (_options.TargetTimeline.Kind == RecoveryTimelineKind.Latest && NewerHistoryInPgWal())
                {
                    streamReader?.Dispose();
                    streamReader = null;
                    FollowNewTimeline();
                }
            }
        }
        finally
        {
            streamReader?.Dispose();
        }
    }

    // Waits for a wake-up (WAL flushed, promote, stop) or the time, at most 100 ms at a time: the
    // promote trigger file is looked for in between, so it takes effect at once.
    private void WaitAWhile(TimeSpan time)
    {
        var until = Stopwatch.GetTimestamp() + (long)(time.TotalSeconds * Stopwatch.Frequency);
        while (!_stop && !_promote)
        {
            var left = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), until);
            if (left <= TimeSpan.Zero || _wake.WaitOne(left < TimeSpan.FromMilliseconds(100) ? left : TimeSpan.FromMilliseconds(100)))
                return;
            CheckPromoteFile();
        }
    }

    // pg_ctl promote's trigger: a "promote" file in the data directory (removed when seen).
    private void CheckPromoteFile()
    {
        string path = Path.Combine(_storage.Location, "promote");
        if (PromoteFileFound is not { } promote || _promote || !File.Exists(path))
            return;
        File.Delete(path);
        _logger.LogInformation("found promote trigger file \"{Path}\"", path);
        _promote = true;   // stop replaying; the instance's Promote (on another thread) collects the outcome
        ThreadPool.QueueUserWorkItem(_ => promote());
    }

    private TimeSpan Remaining(long since)
    {
        var left = _options.RetryInterval - Stopwatch.GetElapsedTime(since);
        return left > TimeSpan.Zero ? left : TimeSpan.Zero;
    }

    // A reader over pg_wal (and the archive, with a restorer: it wins, as in archive recovery) on the target timeline.
    private WalReader NewReader(IWalRestorer? restorer) => NewReader(restorer, out _);

    private WalReader NewReader(IWalRestorer? restorer, out ArchiveWalSource source)
    {
        source = NewSource(restorer);
        source.OldestKept = SegmentFileName.Format(_control.Current.CheckPointCopy.ThisTimeline, _geometry.SegmentOf(_control.Current.CheckPointCopy.Redo), _geometry);
        return new WalReader(source, new WalReaderOptions
        {
            SegmentSize = _geometry.SegmentSize, Timeline = _history.Target, SystemIdentifier = _start.SystemIdentifier, ClassifyEndOfWal = false,
        });
    }

    // pg_wal, and the archive through the restorer when given one, following the current history.
    private ArchiveWalSource NewSource(IWalRestorer? restorer) => new(_walDirectory, _geometry, restorer, _storage.ArchiveStatus, _history, _logger);

    private bool NewerHistoryInPgWal()
        => File.Exists(Path.Combine(_walDirectory, TimelineHistory.FileName(new TimelineId(_history.Target.Value + 1))));

    public void Dispose()
    {
        _stop = true;
        _notPaused.Set();
        _wake.Set();
        if (_thread.IsAlive)
            _thread.Join();
        Feed?.Dispose();
    }
}
