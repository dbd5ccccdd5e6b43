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
    private Checkpointer? _checkpointer;             // null when read-only, and on a standby until promoted
    private readonly InstanceMetrics _metrics;
    private readonly IDisposable? _directoryLock;   // postmaster.pid, held until Close
    private ulong _nextXid;          // next full transaction id; Interlocked
    private uint _nextOid;
    private int _state;              // 0 open, 1 closed

    private WalInstance(IDataDirectoryStorage storage, WalInstanceOptions options, IDisposable? directoryLock, bool readOnly)
    {
        _storage = storage;
        IsReadOnly = readOnly;
        _directoryLock = directoryLock;
        _options = options;
        _logger = options.Wal.LoggerFactory?.CreateLogger("PgWal.Instance") ?? NullLogger.Instance;
        var stored = ControlFileManager.Read(storage.Control, storage.Location);
        _control = new ControlFileManager(storage.Control, stored);
        var standby = StandbySettings(storage, options, readOnly);
        var archiveRecovery = standby == null ? ArchiveRecoverySettings(storage, options, readOnly) : null;
        if (!readOnly)
            stored = BackupRecovery.Begin(storage, stored, c => _control.Update(_ => c), _logger,
                archiveRecovery != null || standby != null
                    ? tli => NewArchiveSource(storage, new WalGeometry((int)stored.WalSegmentSize), archiveRecovery?.RestorerFor(storage.Location) ?? standby!.RestorerFor(storage.Location), tli)
                    : null);
        var geometry = new WalGeometry((int)stored.WalSegmentSize);
        var timeline = stored.CheckPointCopy.ThisTimeline;
        Buffers = new BufferManager(storage.Relations, options.SharedBuffers, stored.DataChecksumVersion != 0) { ReadOnly = readOnly };
        _metrics = new InstanceMetrics(storage.Location, options.Wal.MeterFactory);
        _metrics.ObserveBuffers(() => Buffers.Counters);
        try
        {
            if (readOnly)
            {
                OpenForReading(storage, stored, geometry, options);
                return;
            }
            if (standby != null)
            {
                OpenStandby(storage, geometry, options, standby);
                return;
            }
            StartupRecovery.State state;
            Timelines.TimelineSwitch.Result? newTimeline = null;
            if (archiveRecovery != null)
            {
                (state, newTimeline) = RecoverFromArchive(storage, stored, geometry, options, archiveRecovery);
                timeline = newTimeline.Timeline;
            }
            else
            {
                var startup = new StartupRecovery(storage.Wal, storage.Relations, geometry, stored, options.ResourceManagers, Buffers, options.RecoveryMode, _logger, _metrics);
                state = startup.Run(
                    () =>
                    {
                        // SyncDataDirectory: what is replayed must be durable before pages derived from it are written.
                        SyncWal(geometry, timeline);
                        Buffers.SyncEveryFile();
                    },
                    c => _control.Update(_ => c));
            }
            StartEngine(storage, options, stored, geometry, timeline, state, newTimeline, archiveRecovery);
        }
        catch
        {
            _standby?.Dispose();
            _restartpoints?.Dispose();
            _walSender?.Dispose();
            _archiver?.Dispose();
            _checkpointer?.Dispose();
            _wal?.Close(flush: false);
            Buffers.Dispose();
            _metrics.Dispose();
            throw;
        }
    }

    // After replay (crash recovery, archive recovery, or a standby's promotion): the WAL engine
    // continues after the last record, the checkpointer, archiver and walsender start; an
    // end-of-recovery checkpoint (on a new timeline, when there is one) ends recovery.
    private void StartEngine(IDataDirectoryStorage storage, WalInstanceOptions options, ControlFileData stored, WalGeometry geometry, TimelineId timeline,
        StartupRecovery.State state, Timelines.TimelineSwitch.Result? newTimeline, ArchiveRecoveryOptions? archiveRecovery)
    {
        _nextXid = state.NextXid;
        _nextOid = state.NextOid;
        var start = StartPoint(state, geometry, timeline, stored.SystemIdentifier);
        var walOptions = options.Wal with { SegmentSize = geometry.SegmentSize, Timeline = timeline, SystemIdentifier = stored.SystemIdentifier };
        _wal = new WalEngine(storage.Wal, walOptions, start);
        // Commits waiting for standbys may not have waited for their local flush (WaitForCommit):
        // if it can never happen, their outcome is unknown and they must not wait forever.
        Wal.OnFault(e => SyncRep.Fail(e));
        Wal.InitializeRedoPointer(state.CheckPoint.Redo);
        Wal.FullPageWrites = options.FullPageWrites;
        Buffers.WalFlush = lsn => Wal.Flush(lsn);
        Buffers.EndOfWal = () => Wal.InsertedUpTo;
        _archiver = CreateArchiver(storage, options, timeline);
        _slots = LoadSlots(storage, options);
        _metrics.ObserveReplication(() => WalSender, () => _slots, () => Wal.FlushedUpTo);
        var recycler = new SegmentRecycler(storage.Wal, Wal, geometry, timeline, options, storage.ArchiveStatus, _archiver, () => OldestBackupStart, _slots, SlotsInvalidated);
        _checkpointer = new Checkpointer(Wal, Buffers, _control, options, Counters, recycler, _logger, state.EndOfLog, _metrics, Panic);
        if (newTimeline != null)
            _checkpointer.NewTimeline = (newTimeline.Timeline, newTimeline.Previous);
        Recovery = state.Result;
        if (state.Result.CrashRecovery || state.Result.ArchiveRecovery)
        {
            if (state.AbortedRecord.IsValid)
            {
                _logger.LogInformation("overwriting a missing contrecord at {Missing} (aborted record at {Aborted})", state.MissingContinuation, state.AbortedRecord);
                Wal.InsertOverwriteContrecord(state.AbortedRecord, PgTimestamp.FromDateTimeOffset(DateTimeOffset.UtcNow));
            }
            var checkpoint = _checkpointer.Run(CheckpointKind.EndOfRecovery)!;
            Recovery = state.Result with { EndOfRecoveryCheckpoint = checkpoint.Location };
            if (newTimeline != null)
                FinishArchiveRecovery(newTimeline, archiveRecovery, checkpoint.Redo, geometry);
        }
        else
        {
            _control.Update(c => c with { State = DatabaseState.InProduction });
        }
        _checkpointer.StartBackground();
        _archiver?.Start();
        if (options.WalSender != null)
            StartWalSender(options.WalSender);
    }

    // A read-only open: only a directory shut down cleanly (no recovery, which writes); the
    // checkpoint record is read and checked; no engine, no checkpointer, nothing written.
    private void OpenForReading(IDataDirectoryStorage storage, ControlFileData stored, WalGeometry geometry, WalInstanceOptions options)
    {
        var startup = new StartupRecovery(storage.Wal, storage.Relations, geometry, stored, options.ResourceManagers, Buffers, options.RecoveryMode, _logger, _metrics);
        var state = startup.Run(() => throw NeedsRecovery(storage.Location, stored), _ => throw NeedsRecovery(storage.Location, stored));
        _readOnlyEndOfWal = state.EndOfLog;
        Buffers.EndOfWal = () => _readOnlyEndOfWal;
        Recovery = state.Result;
    }

    private static RecoveryException NeedsRecovery(string location, ControlFileData control)
        => new($"data directory \"{location}\" was not shut down cleanly (state: {ControlDataText.StateText(control.State)}): it needs crash recovery, which writes; run \"pgwal recover -D {location}\" (or open it for writing) first");

    /// <summary>Opens the data directory at <paramref name="directory"/>, recovering it when needed.</summary>
    public static WalInstance Open(string directory, WalInstanceOptions? options = null)
        => Open(new FileSystemDataDirectory(directory), options);

    /// <summary>
    /// Opens the data directory at <paramref name="directory"/> for reading only: nothing is created
    /// or written (no lock file, no checkpoint), so it works without write permission or free space.
    /// Readers share the directory; a writer cannot open it meanwhile.
    /// </summary>
    /// <exception cref="DirectoryNotFoundException">The directory does not exist.</exception>
    /// <exception cref="RecoveryException">The directory was not shut down cleanly: it needs crash recovery (which writes) first.</exception>
    /// <exception cref="IOException">A writer has the directory open.</exception>
    public static WalInstance OpenReadOnly(string directory, WalInstanceOptions? options = null)
    {
        if (!Directory.Exists(directory))
            throw new DirectoryNotFoundException($"could not open data directory \"{directory}\": No such file or directory");
        return OpenReadOnly(new FileSystemDataDirectory(directory, zeroFillWal: true, readOnly: true), options);
    }

    /// <summary>Opens <paramref name="storage"/> for reading only (see <see cref="OpenReadOnly(string, WalInstanceOptions?)"/>).</summary>
    public static WalInstance OpenReadOnly(IDataDirectoryStorage storage, WalInstanceOptions? options = null)
    {
        options ??= new WalInstanceOptions();
        options.Validate();
        if (storage.Control.Read(new byte[1]) < 0)
            throw new FileNotFoundException($"could not open file \"{Path.Combine(storage.Location, "global", "pg_control")}\": No such file or directory (is \"{storage.Location}\" a data directory?)");
        var directoryLock = storage.LockShared();
        try
        {
            return new WalInstance(storage, options, directoryLock, readOnly: true);
        }
        catch
        {
            directoryLock?.Dispose();
            throw;
        }
    }

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
            return new WalInstance(storage, options, directoryLock, readOnly: false);
        }
        catch
        {
            directoryLock?.Dispose();
            throw;
        }
    }

    /// <summary>The WAL engine: insert records, flush them.</summary>
    /// <exception cref="InvalidOperationException">The instance is read-only.</exception>
    public WalEngine Wal => Volatile.Read(ref _wal) ?? throw ReadOnlyError();
    private WalEngine? _wal;                 // null when read-only, and on a standby until promoted
    private Lsn _readOnlyEndOfWal;           // set once by OpenForReading

    /// <summary>Opened with <see cref="OpenReadOnly(string, WalInstanceOptions?)"/>: nothing can be written.</summary>
    public bool IsReadOnly { get; }

    /// <summary>The end of the WAL: the insert position, or for a read-only instance the end of the shutdown checkpoint.</summary>
    public Lsn EndOfWal => _wal?.InsertedUpTo ?? _readOnlyEndOfWal;

    private InvalidOperationException ReadOnlyError() => IsStandby
        ? new StandbyReadOnlyException($"data directory \"{Location}\" is a read-only standby (in recovery, following its primary): writes go to the primary, or promote this standby first")
        : new($"data directory \"{Location}\" is open read-only");

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
    public long CheckpointsCompleted => _checkpointer?.Completed ?? 0;

    /// <summary>
    /// Checkpoints that failed since the last one completed (a failed page write, say; the
    /// background checkpointer retries with a back-off). A PANIC (a failed fsync) faults
    /// <see cref="Wal"/> instead: then the instance must be reopened.
    /// </summary>
    public int ConsecutiveCheckpointFailures => _checkpointer?.ConsecutiveFailures ?? 0;

    /// <summary>The last completed checkpoint.</summary>
    public CheckpointResult? LastCheckpoint => _checkpointer?.Last;

    /// <summary>Inserts a record (see <see cref="WalEngine.Insert(RecordBuilder)"/>); images of registered pages follow full_page_writes.</summary>
    public Lsn Insert(RecordBuilder builder) => Wal.Insert(builder);

    /// <summary>Assigns a new transaction id (for xl_xid and commit records).</summary>
    public uint AssignTransactionId()
    {
        if (IsReadOnly)
            throw ReadOnlyError();
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
        => (_checkpointer ?? throw ReadOnlyError()).Run(CheckpointKind.Requested) ?? throw new InvalidOperationException("checkpoint skipped");

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
        var checkpointer = _checkpointer ?? throw ReadOnlyError();
        checkpointer.StartGate.Enter();
        return new CheckpointDelay(checkpointer.StartGate);
    }

    /// <summary>Asks the background checkpointer for a checkpoint without waiting.</summary>
    public void RequestCheckpoint() => _checkpointer?.Request();
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
