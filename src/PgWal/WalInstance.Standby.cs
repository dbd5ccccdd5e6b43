// WalInstance.Standby: a data directory with standby.signal opens as a hot standby — its replay
// (StandbyReplay) follows the primary through streaming and the archive, restartpoints take the
// place of checkpoints, reads are served (under the hot-standby lock) once the state is
// consistent, writes are refused. Promote() (or a "promote" file in the directory) ends recovery
// on a new timeline and the same instance opens for writes.
using Microsoft.Extensions.Logging;
using PgWal.Archive;
using PgWal.Format;
using PgWal.Recovery;
using PgWal.Standby;
using PgWal.Storage;
using PgWal.Timelines;

namespace PgWal;

public sealed partial class WalInstance
{
    private const string StandbySignal = "standby.signal";
    private StandbyReplay? _standby;             // set while a standby; null once promoted (then _wal is set)
    private Restartpoints? _restartpoints;
    private StandbyOptions? _standbyOptions;
    private readonly object _promoteLock = new();

    /// <summary>A standby in recovery (standby.signal): reads only, until <see cref="Promote"/>.</summary>
    public bool IsStandby => Volatile.Read(ref _standby) != null;

    /// <summary>
    /// On a standby: the hot-standby lock. Replay holds its write side while it applies a record;
    /// a reader that needs a state that does not change under it (several pages that must agree)
    /// holds its read side. Null when not a standby.
    /// </summary>
    public ReaderWriterLockSlim? HotStandbyLock => Volatile.Read(ref _standby)?.ReplayLock;

    /// <summary>On a standby: the end of the last record replayed (pg_last_wal_replay_lsn); otherwise the end of the WAL.</summary>
    public Lsn ReplayedUpTo => Volatile.Read(ref _standby) is { } s ? s.ReplayedUpTo : EndOfWal;

    /// <summary>On a standby: what its walreceiver made durable (pg_last_wal_receive_lsn), or Invalid.</summary>
    public Lsn ReceivedUpTo => Volatile.Read(ref _standby)?.Feed?.Flushed.UpTo ?? Lsn.Invalid;

    /// <summary>On a standby: the timeline replay is on.</summary>
    public TimelineId ReplayTimeline => Volatile.Read(ref _standby)?.ReplayTimeline ?? ControlFile.CheckPointCopy.ThisTimeline;

    /// <summary>On a standby: whether WAL is streaming in from the primary now.</summary>
    public bool IsStreaming => Volatile.Read(ref _standby)?.Feed?.IsStreaming == true;

    /// <summary>Restartpoints completed on this standby since open.</summary>
    public long RestartpointsCompleted => _restartpoints?.Completed ?? 0;

    /// <summary>Waits until a standby replayed up to <paramref name="upTo"/> (at once on a primary).</summary>
    public ValueTask WaitForReplayAsync(Lsn upTo, CancellationToken cancellationToken = default)
        => Volatile.Read(ref _standby) is { } s ? s.WaitForReplayAsync(upTo, cancellationToken) : default;

    /// <summary>pg_wal_replay_pause: replay stops after the current record (streaming goes on) until <see cref="ResumeReplay"/>.</summary>
    public void PauseReplay() => (Volatile.Read(ref _standby) ?? throw NotStandby()).Pause();

    /// <summary>pg_wal_replay_resume.</summary>
    public void ResumeReplay() => (Volatile.Read(ref _standby) ?? throw NotStandby()).Resume();

    /// <summary>pg_is_wal_replay_paused.</summary>
    public bool IsReplayPaused => Volatile.Read(ref _standby)?.IsPaused == true;

    /// <summary>Runs a restartpoint now when replay passed a checkpoint newer than pg_control's; returns whether it did.</summary>
    public bool Restartpoint() => (_restartpoints ?? throw NotStandby()).Run();

    /// <summary>
    /// Follows another primary from now on (primary_conninfo changed and reloaded): the walreceiver
    /// reconnects there; with recovery_target_timeline latest, replay follows its timeline (a
    /// promoted standby's), unless this standby already replayed past the point where it forked.
    /// </summary>
    public void ChangePrimary(string? primaryConnInfo, string? primarySlotName = null)
    {
        var replay = Volatile.Read(ref _standby) ?? throw NotStandby();
        var settings = _standbyOptions! with { PrimaryConnInfo = primaryConnInfo, PrimarySlotName = primarySlotName };
        settings.Connection();   // a bad string is refused before anything changes
        _standbyOptions = settings;
        replay.ChangePrimary(settings);
    }

    /// <summary>On a standby: the walreceiver's last connection error, if any.</summary>
    public string? StandbyStreamError => Volatile.Read(ref _standby)?.Feed?.LastError;

    private InvalidOperationException NotStandby() => new($"data directory \"{Location}\" is not a standby (recovery is not in progress)");

    private static StandbyOptions? StandbySettings(IDataDirectoryStorage storage, WalInstanceOptions options, bool readOnly)
    {
        if (readOnly || storage.ReadFile(StandbySignal) == null)
            return null;
        if (storage.ReadFile("recovery.conf") != null)
            throw new RecoveryException($"using recovery command file \"recovery.conf\" is not supported: put the settings into postgresql.conf (\"{storage.Location}\")");
        return options.Standby ?? StandbyOptions.FromConfiguration(storage.Location);
    }

    private void OpenStandby(IDataDirectoryStorage storage, WalGeometry geometry, WalInstanceOptions options, StandbyOptions settings)
    {
        if (_control.Current.State != DatabaseState.InArchiveRecovery)
            _control.Update(c => c with { State = DatabaseState.InArchiveRecovery });
        _standbyOptions = settings;
        var replay = new StandbyReplay(storage, geometry, _control, options.ResourceManagers, Buffers, settings, _logger, _metrics);
        // UpdateMinRecoveryPoint instead of the WAL-before-data rule: a page written holds changes up
        // to the replay position, and a restart must not call itself consistent before it.
        Buffers.WalFlush = lsn =>
        {
            if (lsn > _control.Current.MinRecoveryPoint)
                _control.Update(c => c with { MinRecoveryPoint = Lsn.Max(lsn, replay.ReplayedUpTo), MinRecoveryPointTimeline = replay.ReplayTimeline });
        };
        Buffers.EndOfWal = () => Lsn.Max(replay.ReplayedUpTo, _control.Current.MinRecoveryPoint);
        _standby = replay;
        _restartpoints = new Restartpoints(replay, _control, Buffers, storage, geometry, settings.RestartpointInterval ?? options.CheckpointTimeout, options.WalKeepSize, _logger);
        replay.PromoteFileFound = () =>
        {
            try
            {
                Promote();
            }
            catch (Exception e)
            {
                _logger.LogError("promotion (trigger file) failed: {Message}", e.Message);
            }
        };
        Recovery = new RecoveryResult { ArchiveRecovery = true, Checkpoint = _control.Current.CheckPointLocation, RedoStart = _control.Current.CheckPointCopy.Redo };
        replay.Start();
        _restartpoints.Start();
        replay.WaitUntilConsistent(settings.ConsistencyTimeout);
        _logger.LogInformation("database system is ready to accept read-only connections (standby of {Primary})", replay.Feed?.Primary ?? "the archive");
    }

    /// <summary>
    /// Promotes this standby (pg_promote): streaming stops, the WAL in pg_wal is replayed to its
    /// end, a new timeline begins there (history file, end-of-recovery checkpoint), standby.signal
    /// goes, and the instance opens for writes. Returns what recovery did.
    /// </summary>
    /// <exception cref="InvalidOperationException">Not a standby.</exception>
    /// <exception cref="RecoveryException">Replay failed, or the standby is not consistent yet.</exception>
    public RecoveryResult Promote()
    {
        lock (_promoteLock)
        {
            var replay = Volatile.Read(ref _standby) ?? throw NotStandby();
            _logger.LogInformation("received promote request");
            var outcome = replay.Promote();
            _restartpoints!.Dispose();
            var geometry = new WalGeometry((int)_control.Current.WalSegmentSize);
            using var source = NewArchiveSource(_storage, geometry, _standbyOptions!.RestorerFor(Location), outcome.TargetTimeline);
            var result = TimelineSwitch.Begin(_storage, geometry, source, outcome, _options.ArchiveMode != ArchiveMode.Off, _logger);
            outcome.State.Result = outcome.State.Result with { NewTimeline = result.Timeline };
            SyncWal(geometry, outcome.EndOfLogTimeline);
            StartEngine(_storage, _options, _control.Current, geometry, result.Timeline, outcome.State, result, archiveRecovery: null);
            Volatile.Write(ref _standby, null);
            replay.Dispose();
            _logger.LogInformation("standby promoted: timeline {Timeline} begins at {Lsn}; database system is ready to accept connections", result.Timeline.Value, result.SwitchPoint);
            return Recovery;
        }
    }

    // A clean close of a standby: replay and streaming stop, a last restartpoint writes every page,
    // pg_control says "shut down in recovery".
    private void CloseStandby(bool clean)
    {
        var replay = Volatile.Read(ref _standby);
        if (replay == null)
            return;
        replay.Dispose();
        _restartpoints?.Dispose();
        if (clean && replay.Failure == null)
            _restartpoints?.Shutdown();
    }
}

/// <summary>A write was attempted on a standby: it is read-only until promoted.</summary>
public sealed class StandbyReadOnlyException(string message) : InvalidOperationException(message);
