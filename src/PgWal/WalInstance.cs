// WalInstance: an open data directory — the public entry point of the storage-engine kit. Opening
// runs StartupXLOG: read the control file, replay from the last checkpoint's redo point when the
// directory was not shut down cleanly, clean the WAL tail, start the engine right after the last
// valid record (overwriting a torn record's missing continuation), write the end-of-recovery
// checkpoint. Then clients change pages through Buffers and log them through Insert; the
// checkpointer keeps recovery short; Dispose writes a shutdown checkpoint.
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using PgWal.Checkpoint;
using PgWal.Diagnostics;
using PgWal.Format;
using PgWal.Insert;
using PgWal.Pages;
using PgWal.Recovery;
using PgWal.Storage;
using PgWal.Write;

namespace PgWal;

/// <summary>An open data directory: WAL engine, buffer pool, checkpointer, recovery. Thread-safe.</summary>
public sealed partial class WalInstance : IDisposable
{
    private readonly IDataDirectoryStorage _storage;
    private readonly WalInstanceOptions _options;
    private readonly ILogger _logger;
    private readonly ControlFileManager _control;
    private readonly Checkpointer _checkpointer;
    private readonly InstanceMetrics _metrics;
    private readonly IDisposable? _directoryLock;   // postmaster.pid, held until Close
    private ulong _nextXid;          // next full transaction id; Interlocked
    private uint _nextOid;
    private int _state;              // 0 open, 1 closed

    private WalInstance(IDataDirectoryStorage storage, WalInstanceOptions options, IDisposable? directoryLock)
    {
        _storage = storage;
        _directoryLock = directoryLock;
        _options = options;
        _logger = options.Wal.LoggerFactory?.CreateLogger("PgWal.Instance") ?? NullLogger.Instance;
        var stored = ControlFileManager.Read(storage.Control, storage.Location);
        _control = new ControlFileManager(storage.Control, stored);
        var geometry = new WalGeometry((int)stored.WalSegmentSize);
        var timeline = stored.CheckPointCopy.ThisTimeline;
        Buffers = new BufferManager(storage.Relations, options.SharedBuffers, stored.DataChecksumVersion != 0);
        _metrics = new InstanceMetrics(storage.Location, options.Wal.MeterFactory);
        _metrics.ObserveBuffers(() => Buffers.Counters);
        try
        {
            var startup = new StartupRecovery(storage.Wal, storage.Relations, geometry, stored, options.ResourceManagers, Buffers, options.RecoveryMode, _logger, _metrics);
            var state = startup.Run(
                () =>
                {
                    // SyncDataDirectory: what is replayed must be durable before pages derived from it are written.
                    SyncWal(geometry, timeline);
                    Buffers.SyncEveryFile();
                },
                c => _control.Update(_ => c));
            _nextXid = state.NextXid;
            _nextOid = state.NextOid;
            var start = StartPoint(state, geometry, timeline, stored.SystemIdentifier);
            var walOptions = options.Wal with { SegmentSize = geometry.SegmentSize, Timeline = timeline, SystemIdentifier = stored.SystemIdentifier };
            Wal = new WalEngine(storage.Wal, walOptions, start);
            Wal.InitializeRedoPointer(state.CheckPoint.Redo);
            Wal.FullPageWrites = options.FullPageWrites;
            Buffers.WalFlush = lsn => Wal.Flush(lsn);
            Buffers.EndOfWal = () => Wal.InsertedUpTo;
            var recycler = new SegmentRecycler(storage.Wal, Wal, geometry, timeline, options);
            _checkpointer = new Checkpointer(Wal, Buffers, _control, options, Counters, recycler, _logger, state.EndOfLog, _metrics, Panic);
            Recovery = state.Result;
            if (state.Result.CrashRecovery)
            {
                if (state.AbortedRecord.IsValid)
                {
                    _logger.LogInformation("overwriting a missing contrecord at {Missing} (aborted record at {Aborted})", state.MissingContinuation, state.AbortedRecord);
                    Wal.InsertOverwriteContrecord(state.AbortedRecord, PgTimestamp.FromDateTimeOffset(DateTimeOffset.UtcNow));
                }
                var checkpoint = _checkpointer.Run(CheckpointKind.EndOfRecovery)!;
                Recovery = state.Result with { EndOfRecoveryCheckpoint = checkpoint.Location };
            }
            else
            {
                _control.Update(c => c with { State = DatabaseState.InProduction });
            }
            _checkpointer.StartBackground();
        }
        catch
        {
            _checkpointer?.Dispose();
            Wal?.Close(flush: false);
            Buffers.Dispose();
            _metrics.Dispose();
            throw;
        }
    }

    /// <summary>Opens the data directory at <paramref name="directory"/>, recovering it when needed.</summary>
    public static WalInstance Open(string directory, WalInstanceOptions? options = null)
        => Open(new FileSystemDataDirectory(directory), options);

    /// <summary>Opens a data directory, recovering it when it was not shut down cleanly.</summary>
    /// <exception cref="RecoveryException">The WAL does not allow recovery (unregistered resource manager, missing checkpoint).</exception>
    /// <exception cref="InvalidDataException">The control file is damaged.</exception>
    /// <exception cref="IOException">Another instance has the data directory open (postmaster.pid).</exception>
    public static WalInstance Open(IDataDirectoryStorage storage, WalInstanceOptions? options = null)
    {
        options ??= new WalInstanceOptions();
        options.Validate();
        var directoryLock = storage.Lock();
        try
        {
            return new WalInstance(storage, options, directoryLock);
        }
        catch
        {
            directoryLock?.Dispose();
            throw;
        }
    }

    /// <summary>The WAL engine: insert records, flush them.</summary>
    public WalEngine Wal { get; } = null!;

    /// <summary>The buffer pool of data pages.</summary>
    public BufferManager Buffers { get; }

    /// <summary>What opening did (crash recovery statistics).</summary>
    public RecoveryResult Recovery { get; private set; } = null!;

    /// <summary>The control file as last written.</summary>
    public ControlFileData ControlFile => _control.Current;

    /// <summary>The data directory.</summary>
    public string Location => _storage.Location;

    /// <summary>The resource managers this instance replays.</summary>
    public ResourceManagerRegistry ResourceManagers => _options.ResourceManagers;

    /// <summary>Checkpoints completed since open (including the end-of-recovery one).</summary>
    public long CheckpointsCompleted => _checkpointer.Completed;

    /// <summary>
    /// Checkpoints that failed since the last one completed (a failed page write, say; the
    /// background checkpointer retries with a back-off). A PANIC (a failed fsync) faults
    /// <see cref="Wal"/> instead: then the instance must be reopened.
    /// </summary>
    public int ConsecutiveCheckpointFailures => _checkpointer.ConsecutiveFailures;

    /// <summary>The last completed checkpoint.</summary>
    public CheckpointResult? LastCheckpoint => _checkpointer.Last;

    /// <summary>Inserts a record (see <see cref="WalEngine.Insert(RecordBuilder)"/>); images of registered pages follow full_page_writes.</summary>
    public Lsn Insert(RecordBuilder builder) => Wal.Insert(builder);

    /// <summary>Assigns a new transaction id (for xl_xid and commit records).</summary>
    public uint AssignTransactionId()
    {
        while (true)
        {
            ulong next = Interlocked.Increment(ref _nextXid) - 1;
            if ((uint)next >= 3)
                return (uint)next;    // skip the special ids 0-2 after a wraparound of the low half
        }
    }

    private (ulong, uint) Counters() => (Interlocked.Read(ref _nextXid), Volatile.Read(ref _nextOid));

    /// <summary>Runs an immediate checkpoint on the calling thread (CHECKPOINT).</summary>
    public CheckpointResult Checkpoint()
        => _checkpointer.Run(CheckpointKind.Requested) ?? throw new InvalidOperationException("checkpoint skipped");

    /// <summary>
    /// PostgreSQL's DELAY_CHKPT_START: no checkpoint takes its redo point until the returned token
    /// is disposed (on the same or any thread). Hold it across a change made of several records whose
    /// pages are finally stamped with a later LSN (such as a commit's), from before the first
    /// record until after the stamp, so full-page writes stay correct. Keep it short: a checkpoint
    /// waits for it — so a holder must not itself run <see cref="Checkpoint"/> or <see cref="Dispose"/>
    /// (that waits for the holder: a self-deadlock).
    /// </summary>
    public CheckpointDelay DelayCheckpointStart()
    {
        _checkpointer.StartGate.Enter();
        return new CheckpointDelay(_checkpointer.StartGate);
    }

    /// <summary>Asks the background checkpointer for a checkpoint without waiting.</summary>
    public void RequestCheckpoint() => _checkpointer.Request();
}

/// <summary>A held <see cref="WalInstance.DelayCheckpointStart"/>; Dispose releases it (once).</summary>
public struct CheckpointDelay : IDisposable
{
    private CheckpointStartGate? _gate;

    internal CheckpointDelay(CheckpointStartGate gate) => _gate = gate;

    /// <summary>Whether this token still holds the delay.</summary>
    public readonly bool IsHeld => _gate != null;

    /// <summary>Lets checkpoints start again.</summary>
    public void Dispose()
    {
        _gate?.Exit();
        _gate = null;
    }
}
