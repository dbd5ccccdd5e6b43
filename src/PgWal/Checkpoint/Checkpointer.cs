// Checkpointer: CreateCheckPoint and the checkpointer process's loop. A checkpoint (one at a time,
// under _runLock): (1) redo point = insert position, set under all insertion locks, after which
// every first change of a page carries a full-page image; (2) write every page dirty at that
// moment (spread over checkpoint_completion_target for timed/size checkpoints); (3) fsync the
// relation files; (4) insert and flush the checkpoint record; (5) write the control file durably;
// (6) remove or recycle segments before the redo point. A crash anywhere before (5) leaves the
// previous checkpoint in force, and its WAL is still there because (6) comes last.
// Failures: a failed fsync of a relation file, or a failed control-file write, PANICs the instance
// as in PostgreSQL (the kernel may have dropped the dirty pages; a retried fsync could "succeed"):
// the WAL engine faults and no page is written any more, so reopening (recovery) is the only way
// on. Any other failure (a page write failing for lack of space, say) fails this checkpoint only;
// the background loop retries with a back-off and the next checkpoint covers everything again.
using System.Diagnostics;
using Microsoft.Extensions.Logging;
using PgWal.Format;
using PgWal.Insert;
using PgWal.Pages;
using PgWal.Write;

namespace PgWal.Checkpoint;

internal sealed class Checkpointer : IDisposable
{
    private readonly WalEngine _wal;
    private readonly BufferManager _buffers;
    private readonly ControlFileManager _control;
    private readonly WalInstanceOptions _options;
    private readonly Func<(ulong NextXid, uint NextOid)> _counters;
    private readonly SegmentRecycler _recycler;
    private readonly ILogger _logger;
    private readonly Diagnostics.InstanceMetrics _metrics;
    private readonly Action<Exception> _panic;
    private readonly object _runLock = new();

    /// <summary>Delays the redo point while a client is between a change and its stamp (DELAY_CHKPT_START).</summary>
    public CheckpointStartGate StartGate { get; } = new();
    private readonly AutoResetEvent _wake = new(false);
    private readonly Thread? _thread;
    private int _started;                        // 1 once StartBackground started _thread
    private volatile bool _stopping;
    private volatile bool _requested;
    private int _waiting;                        // callers of Run waiting for _runLock; Interlocked
    private Exception? _failure;                 // the PANIC, if any: every later checkpoint rethrows it
    private int _consecutiveFailures;            // failed checkpoints since the last success; Interlocked
    private long _lastStartTicks;                // Stopwatch ticks of the last checkpoint's start
    private Lsn _lastCheckpointEnd;              // guarded by _runLock
    private long _completed;

    public Checkpointer(WalEngine wal, BufferManager buffers, ControlFileManager control, WalInstanceOptions options,
        Func<(ulong, uint)> counters, SegmentRecycler recycler, ILogger logger, Lsn lastCheckpointEnd, Diagnostics.InstanceMetrics metrics,
        Action<Exception> panic)
    {
        _metrics = metrics;
        _panic = panic;
        _wal = wal;
        _buffers = buffers;
        _control = control;
        _options = options;
        _counters = counters;
        _recycler = recycler;
        _logger = logger;
        _lastCheckpointEnd = lastCheckpointEnd;
        _lastStartTicks = Stopwatch.GetTimestamp();
        if (options.BackgroundCheckpointer)
            _thread = new Thread(Loop) { IsBackground = true, Name = "pgwal checkpointer" };
    }

    /// <summary>
    /// Starts the background loop. Called once the end-of-recovery work is done: a background
    /// checkpoint record must not land where XLOG_OVERWRITE_CONTRECORD has to go.
    /// </summary>
    public void StartBackground()
    {
        if (_thread != null && Interlocked.Exchange(ref _started, 1) == 0)
            _thread.Start();
    }

    /// <summary>The failure that PANICked the instance (no checkpoint can run any more), or null.</summary>
    public Exception? Failure => Volatile.Read(ref _failure);

    /// <summary>The timeline an end-of-recovery checkpoint starts (archive recovery's new one) and its parent; null: the current one goes on.</summary>
    public (TimelineId This, TimelineId Prev)? NewTimeline { get; set; }

    /// <summary>Checkpoints that failed since the last one that completed.</summary>
    public int ConsecutiveFailures => Volatile.Read(ref _consecutiveFailures);

    public long Completed => Interlocked.Read(ref _completed);

    public CheckpointResult? Last { get; private set; }

    /// <summary>Asks the background checkpointer for a checkpoint soon (no wait).</summary>
    public void Request()
    {
        _requested = true;
        _wake.Set();
    }

    // CheckPointSegments: WAL (in bytes) between checkpoints that triggers one.
    private ulong WalTrigger => (ulong)Math.Max(_wal.Geometry.SegmentSize, _options.MaxWalSize / (1.0 + _options.CheckpointCompletionTarget));

    private void Loop()
    {
        long retryAt = 0;    // after a failure: no new attempt before this Stopwatch timestamp
        while (!_stopping)
        {
            _wake.WaitOne(TimeSpan.FromMilliseconds(100));
            if (_stopping || Failure != null || Stopwatch.GetTimestamp() < retryAt)
                continue;
            CheckpointKind? kind = null;
            if (_requested)
                kind = CheckpointKind.Requested;
            else if (_wal.InsertedUpTo - Lsn.Min(_wal.RedoPointer, _wal.InsertedUpTo) >= WalTrigger)
                kind = CheckpointKind.Wal;
            else if (Stopwatch.GetElapsedTime(Interlocked.Read(ref _lastStartTicks)) >= _options.CheckpointTimeout)
                kind = CheckpointKind.Timed;
            if (kind == null)
                continue;
            _requested = false;
            try
            {
                Run(kind.Value);
                retryAt = 0;
            }
            catch (Exception e) when (Failure != null)
            {
                _logger.LogCritical(e, "PANIC: checkpoint failed: {Message}; the instance stopped writing and must be reopened (crash recovery)", e.Message);
            }
            catch (Exception e)
            {
                // Back off 1 s, 2 s, 4 s ... 60 s between attempts, as the condition (a full disk) may last.
                var delay = TimeSpan.FromSeconds(Math.Min(60, 1 << Math.Min(6, ConsecutiveFailures - 1)));
                retryAt = Stopwatch.GetTimestamp() + (long)(delay.TotalSeconds * Stopwatch.Frequency);
                _logger.LogError(e, "checkpoint failed ({Failures} in a row): {Message}; retrying in {Delay} s (WAL keeps growing until a checkpoint completes)",
                    ConsecutiveFailures, e.Message, delay.TotalSeconds);
            }
        }
    }

    /// <summary>Runs a checkpoint now on the calling thread (waiting for one in progress first).</summary>
    public CheckpointResult? Run(CheckpointKind kind)
    {
        Interlocked.Increment(ref _waiting);   // a paced checkpoint in progress finishes at full speed
        lock (_runLock)
        {
            Interlocked.Decrement(ref _waiting);
            if (Failure is { } failure)
                throw new InvalidOperationException($"the instance PANICked in an earlier checkpoint ({failure.Message}); reopen it (crash recovery)", failure);
            try
            {
                var result = RunLocked(kind);
                Volatile.Write(ref _consecutiveFailures, 0);
                return result;
            }
            catch
            {
                Interlocked.Increment(ref _consecutiveFailures);
                _metrics.CheckpointFailed();
                if (_wal.Fault != null)
                    Volatile.Write(ref _failure, _wal.Fault);   // PANICked here or earlier: nothing can be written any more
                throw;
            }
        }
    }

    private CheckpointResult? RunLocked(CheckpointKind kind)
    {
        bool shutdown = kind is CheckpointKind.Shutdown or CheckpointKind.EndOfRecovery;
        Interlocked.Exchange(ref _lastStartTicks, Stopwatch.GetTimestamp());
        // Nothing inserted since the last checkpoint record (or only archive_timeout's unimportant
        // switch): skip, as PostgreSQL skips idle checkpoints.
        if (kind is CheckpointKind.Timed or CheckpointKind.Wal && !_wal.HasImportantWalSince(_lastCheckpointEnd))
            return null;
        var clock = Stopwatch.StartNew();
        if (kind == CheckpointKind.Shutdown)
            _control.Update(c => c with { State = DatabaseState.ShuttingDown });
        Lsn previousRedo = _control.Current.CheckPointCopy.Redo;
        Lsn redo = StartGate.WhenClear(_wal.BeginRedoPoint);
        bool spread = kind is CheckpointKind.Timed or CheckpointKind.Wal;
        int written = _buffers.WriteDirtyForCheckpoint(spread ? (done, total) => Throttle(done, total, redo, clock) : null);
        int synced;
        try
        {
            synced = _buffers.SyncWrittenFiles();
        }
        catch (Exception e)
        {
            throw Panic(e);
        }

        var (nextXid, nextOid) = _counters();
        var template = _control.Current.CheckPointCopy;
        var newTimeline = kind == CheckpointKind.EndOfRecovery ? NewTimeline : null;
        var checkPoint = template with
        {
            Redo = redo,
            // Only the end-of-recovery checkpoint of a new timeline names another previous timeline;
            // it is also what first puts the new timeline into pg_control (atomically with its location).
            ThisTimeline = newTimeline?.This ?? template.ThisTimeline,
            PrevTimeline = newTimeline?.Prev ?? template.ThisTimeline,
            FullPageWrites = _wal.FullPageWrites,
            NextXid = nextXid,
            NextOid = nextOid,
            Time = DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
            OldestActiveXid = shutdown ? 0 : (uint)nextXid,
        };
        var builder = BuiltinRecords.Checkpoint(new RecordBuilder(), checkPoint, shutdown);
        Lsn location;
        Lsn end = kind == CheckpointKind.Shutdown ? _wal.InsertLast(builder, out location) : _wal.Insert(builder, out location);
        _wal.Flush(end);
        if (kind == CheckpointKind.Shutdown && location != redo)
            _logger.LogWarning("concurrent write-ahead log activity while database system is shutting down");
        try
        {
            _control.Update(c =>
            {
                var next = c with
                {
                    State = kind == CheckpointKind.Shutdown ? DatabaseState.ShutDown : DatabaseState.InProduction,
                    CheckPointLocation = location,
                    CheckPointCopy = checkPoint,
                };
                // Recovery is over once this checkpoint is durable: the backup and consistency
                // fields go with it, not before (a crash before it restarts recovery as it was).
                return kind != CheckpointKind.EndOfRecovery ? next : next with
                {
                    BackupStartPoint = Lsn.Invalid, BackupEndPoint = Lsn.Invalid, BackupEndRequired = false,
                    MinRecoveryPoint = Lsn.Invalid, MinRecoveryPointTimeline = default,
                };
            });
        }
        catch (Exception e)
        {
            throw Panic(e);   // UpdateControlFile PANICs: the file may be half written
        }
        _lastCheckpointEnd = end;
        int removed = 0, recycled = 0;
        try
        {
            (removed, recycled) = _recycler.RemoveOldSegments(redo, previousRedo, _wal.InsertedUpTo);
            if (_recycler.KeptForArchiving > 0)
                _logger.LogWarning("{Kept} WAL segment(s) before the redo point are kept in pg_wal until they are archived", _recycler.KeptForArchiving);
        }
        catch (Exception e) when (_wal.Fault == null && e is IOException or UnauthorizedAccessException)
        {
            // The checkpoint is complete; the old segments stay until the next one removes them.
            _logger.LogWarning(e, "could not remove or recycle old WAL segments: {Message}", e.Message);
        }
        clock.Stop();
        var result = new CheckpointResult(kind, location, redo, written, synced, removed, recycled, clock.Elapsed);
        Last = result;
        Interlocked.Increment(ref _completed);
        _metrics.Checkpointed(written, clock.Elapsed);
        _logger.LogInformation("checkpoint complete ({Kind}): wrote {Buffers} buffers ({Percent:F1}%); {Removed} WAL file(s) removed, {Recycled} recycled; sync files={Synced}, total={Seconds:F3} s; lsn={Lsn}, redo lsn={Redo}",
            kind, written, 100.0 * written / _buffers.Count, removed, recycled, synced, clock.Elapsed.TotalSeconds, location, redo);
        return result;
    }

    // PANIC: fault the WAL engine and freeze the buffer pool (WalInstance.Panic), then fail.
    private Exception Panic(Exception e)
    {
        _panic(e);
        return e;
    }

    // CheckpointWriteDelay / IsCheckpointOnSchedule: sleep while ahead of both the time and the WAL schedule.
    private void Throttle(int done, int total, Lsn redo, Stopwatch clock)
    {
        if (_stopping || _requested || Volatile.Read(ref _waiting) > 0)
            return;     // someone is waiting: finish at full speed (as CHECKPOINT makes PostgreSQL's)
        double progress = (double)done / total * _options.CheckpointCompletionTarget;
        double byWal = (_wal.InsertedUpTo - Lsn.Min(redo, _wal.InsertedUpTo)) / (double)WalTrigger;
        double byTime = clock.Elapsed / _options.CheckpointTimeout;
        if (progress > Math.Max(byWal, byTime))
            Thread.Sleep(Math.Min(100, (int)Math.Max(1, (progress - Math.Max(byWal, byTime)) * _options.CheckpointTimeout.TotalMilliseconds)));
    }

    /// <summary>Stops the background loop (waiting for a checkpoint in progress to finish).</summary>
    public void Dispose()
    {
        _stopping = true;
        _wake.Set();
        if (Volatile.Read(ref _started) != 0)
            _thread!.Join();
        _wake.Dispose();
    }
}
