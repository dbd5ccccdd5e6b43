// WalInstance.Recovery: archive recovery at open (recovery.signal): settings from the options or
// the directory's configuration files, WAL restored from the archive, replay to the target; then
// either a new timeline (promote), or — for recovery_target_action shutdown, and pause, which
// without hot standby is shutdown — the replayed pages written, pg_control "shut down in recovery"
// and the open refused with the stop point named (the next open replays to the target again).
using Microsoft.Extensions.Logging;
using PgWal.Archive;
using PgWal.Format;
using PgWal.Read;
using PgWal.Recovery;
using PgWal.Storage;
using PgWal.Timelines;

namespace PgWal;

public sealed partial class WalInstance
{
    private const string RecoverySignal = "recovery.signal";

    /// <summary>The settings archive recovery runs with, or null when the directory has no recovery.signal.</summary>
    private static ArchiveRecoveryOptions? ArchiveRecoverySettings(IDataDirectoryStorage storage, WalInstanceOptions options, bool readOnly)
    {
        if (readOnly || storage.ReadFile(RecoverySignal) == null)
            return null;
        if (storage.ReadFile("recovery.conf") != null)
            throw new RecoveryException($"using recovery command file \"recovery.conf\" is not supported: put the settings into postgresql.conf (\"{storage.Location}\")");
        var settings = options.ArchiveRecovery ?? RecoveryConfigFile.Read(storage.Location);
        if (settings.RestorerFor(storage.Location) == null)
            throw new RecoveryException($"must specify restore_command when standby mode is not enabled: \"{storage.Location}\" has recovery.signal but no restore_command (or archive restorer) is set");
        return settings;
    }

    // The archive (through the restorer, when there is one) and pg_wal, as archive recovery and standbys read them.
    private ArchiveWalSource NewArchiveSource(IDataDirectoryStorage storage, WalGeometry geometry, Archive.IWalRestorer? restorer, TimelineId timeline)
        => new(Path.Combine(storage.Location, "pg_wal"), geometry, restorer, storage.ArchiveStatus, TimelineHistory.Single(timeline), _logger);

    // Replays from the archive; returns the state to continue from and the new timeline.
    private (StartupRecovery.State State, TimelineSwitch.Result Switch) RecoverFromArchive(IDataDirectoryStorage storage, ControlFileData control,
        WalGeometry geometry, WalInstanceOptions options, ArchiveRecoveryOptions settings)
    {
        using var source = NewArchiveSource(storage, geometry, settings.RestorerFor(storage.Location), control.CheckPointCopy.ThisTimeline);
        if (control.State is DatabaseState.InProduction or DatabaseState.InCrashRecovery or DatabaseState.ShuttingDown && !control.BackupStartPoint.IsValid)
        {
            // A directory that crashed: what its pg_wal holds was acknowledged, so it is only
            // consistent once all of it is replayed (PostgreSQL does crash recovery first, then
            // sets minRecoveryPoint to the end of pg_wal). A target before that is refused.
            Lsn localEnd = EndOfLocalWal(storage, geometry, control);
            _logger.LogInformation("the data directory was not shut down cleanly: consistent only once its pg_wal is replayed, up to {End}", localEnd);
            _control.Update(c => c with { MinRecoveryPoint = Lsn.Max(c.MinRecoveryPoint, localEnd), MinRecoveryPointTimeline = c.CheckPointCopy.ThisTimeline });
        }
        if (_control.Current.State != DatabaseState.InArchiveRecovery)
            _control.Update(c => c with { State = DatabaseState.InArchiveRecovery });
        var recovery = new ArchiveRecovery(source, geometry, _control.Current, settings, options.ResourceManagers, Buffers, _logger, _metrics);
        // UpdateMinRecoveryPoint: a page written during replay may hold changes up to the replay
        // position; a restart must not be able to stop (be called consistent) before it.
        var walFlush = Buffers.WalFlush;
        Buffers.WalFlush = lsn =>
        {
            if (lsn > _control.Current.MinRecoveryPoint)
                _control.Update(c => c with { MinRecoveryPoint = Lsn.Max(lsn, recovery.ReplayedUpTo), MinRecoveryPointTimeline = recovery.ReplayTimeline });
        };
        ArchiveRecovery.Outcome outcome;
        try
        {
            outcome = recovery.Run();
        }
        finally
        {
            Buffers.WalFlush = walFlush;
        }
        if (outcome.StopMessage != null && settings.Action != RecoveryTargetAction.Promote)
            ShutDownAtTarget(outcome, settings);
        // The end-of-recovery checkpoint (the checkpointer's NewTimeline) is the first record of the
        // new timeline and what puts it into pg_control; until it is durable pg_control still
        // names the old checkpoint on the old timeline, and recovery.signal stays.
        var result = TimelineSwitch.Begin(storage, geometry, source, outcome, options.ArchiveMode != ArchiveMode.Off, _logger);
        outcome.State.Result = outcome.State.Result with { NewTimeline = result.Timeline };
        return (outcome.State, result);
    }

    private void ShutDownAtTarget(ArchiveRecovery.Outcome outcome, ArchiveRecoveryOptions settings)
    {
        // minRecoveryPoint first, then the pages replayed up to it (a restartpoint's order).
        _control.Update(c => c with
        {
            MinRecoveryPoint = Lsn.Max(c.MinRecoveryPoint, outcome.State.EndOfLog), MinRecoveryPointTimeline = outcome.EndOfLogTimeline,
            BackupStartPoint = Lsn.Invalid, BackupEndPoint = Lsn.Invalid, BackupEndRequired = false,
        });
        Buffers.WriteDirtyForCheckpoint(null);
        Buffers.SyncWrittenFiles();
        _control.Update(c => c with { State = DatabaseState.ShutDownInRecovery });
        string action = settings.Action == RecoveryTargetAction.Pause ? "pause (which without hot standby is shutdown)" : "shutdown";
        throw new RecoveryTargetReachedException(
            $"shutdown at recovery target: {outcome.StopMessage}; replayed up to {outcome.State.EndOfLog}. recovery_target_action is {action}: " +
            $"the data directory stays in archive recovery and the next open stops at the same target; set recovery_target_action = 'promote' to open it on a new timeline",
            outcome.State.Result);
    }

    // Where the WAL in pg_wal ends, read from the checkpoint's redo point on its timeline.
    private static Lsn EndOfLocalWal(IDataDirectoryStorage storage, WalGeometry geometry, ControlFileData control)
    {
        using var reader = new WalReader(new WalStoragePageSource(storage.Wal, geometry), new WalReaderOptions
        {
            SegmentSize = geometry.SegmentSize, Timeline = control.CheckPointCopy.ThisTimeline, SystemIdentifier = control.SystemIdentifier,
        });
        reader.BeginRead(control.CheckPointCopy.Redo);
        while (reader.ReadRecord().IsRecord)
        {
        }
        return reader.EndRecPtr;
    }

    // After the end-of-recovery checkpoint: recovery.signal, .partial, the old timeline's later
    // segments (TimelineSwitch.Finish); the history file is archived first; then recovery_end_command.
    private void FinishArchiveRecovery(TimelineSwitch.Result result, ArchiveRecoveryOptions? settings, Lsn redo, WalGeometry geometry)
    {
        NotifyArchive(result.HistoryFile);
        if (TimelineSwitch.Finish(_storage, geometry, result, _archiver != null, _logger) is { } partial)
            NotifyArchive(partial);
        if (string.IsNullOrEmpty(settings?.RecoveryEndCommand))
            return;
        string oldest = SegmentFileName.Format(result.Timeline, geometry.SegmentOf(redo), geometry);
        // Only %r and %% are replaced in recovery_end_command, as in PostgreSQL.
        string command = PercentCommand.Expand(settings.RecoveryEndCommand, c => c == 'r' ? oldest : null);
        var start = new System.Diagnostics.ProcessStartInfo("/bin/sh") { WorkingDirectory = Location, UseShellExecute = false };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(command);
        using var process = System.Diagnostics.Process.Start(start);
        process?.WaitForExit();
        if (process == null || process.ExitCode != 0)
            _logger.LogWarning("recovery_end_command \"{Command}\" failed with exit code {Code}", command, process?.ExitCode);
    }
}

/// <summary>
/// Archive recovery reached its target and, as recovery_target_action says (shutdown, or pause
/// without hot standby), stopped there: the directory stays in recovery and is not opened.
/// </summary>
public sealed class RecoveryTargetReachedException(string message, RecoveryResult result) : RecoveryException(message)
{
    /// <summary>What recovery did.</summary>
    public RecoveryResult Result { get; } = result;
}
