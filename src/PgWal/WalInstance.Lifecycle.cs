// WalInstance.Lifecycle: creating a data directory (BootStrapXLOG), where the engine restarts
// after recovery, and closing (shutdown checkpoint) or abandoning (a simulated crash) an instance.
using Microsoft.Extensions.Logging;
using PgWal.Checkpoint;
using PgWal.Format;
using PgWal.Recovery;
using PgWal.Storage;
using PgWal.Write;

namespace PgWal;

public sealed partial class WalInstance
{
    /// <summary>
    /// Creates a data directory (initdb's BootStrapXLOG): the layout, the first segment with a
    /// shutdown checkpoint at its start, and the control file. Fails when one already exists.
    /// </summary>
    public static ControlFileData Initialize(IDataDirectoryStorage storage, WalInitOptions? options = null)
    {
        options ??= new WalInitOptions();
        var geometry = new WalGeometry(options.SegmentSize);
        if (storage.Control.Read(new byte[1]) >= 0)
            throw new IOException($"directory \"{storage.Location}\" already holds a data directory (global/pg_control exists)");
        storage.CreateLayout();
        // Under the directory's lock, and checked again: two processes creating the same directory
        // at once must not both write a first segment and a control file.
        using var directoryLock = storage.Lock();
        if (storage.Control.Read(new byte[1]) >= 0)
            throw new IOException($"directory \"{storage.Location}\" already holds a data directory (global/pg_control exists)");
        ulong sysid = options.SystemIdentifier != 0 ? options.SystemIdentifier : NewSystemIdentifier();
        long now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        Lsn redo = geometry.SegmentStart(new SegmentNumber(1)) + (ulong)PageHeader.LongSize;   // 0/1000028 with 16 MB segments
        var checkPoint = new CheckPoint
        {
            Redo = redo, ThisTimeline = TimelineId.First, PrevTimeline = TimelineId.First, FullPageWrites = true, WalLevel = 1,
            NextXid = 3, NextOid = 10000, NextMulti = 1, NextMultiOffset = 0, OldestXid = 3, OldestXidDb = 1,
            OldestMulti = 1, OldestMultiDb = 1, Time = now,
        };
        var control = new ControlFileData
        {
            SystemIdentifier = sysid, State = DatabaseState.ShutDown, Time = now, CheckPointLocation = redo,
            CheckPointCopy = checkPoint, WalSegmentSize = (uint)geometry.SegmentSize, DataChecksumVersion = options.DataChecksums ? 1u : 0u,
            MockAuthenticationNonce = new MockAuthNonce(System.Security.Cryptography.RandomNumberGenerator.GetBytes(MockAuthNonce.Length)),
        };
        WalReset.WriteStartingCheckpoint(storage, control);
        return control;
    }

    /// <summary>Creates a data directory at <paramref name="directory"/>.</summary>
    public static ControlFileData Initialize(string directory, WalInitOptions? options = null)
        => Initialize(new FileSystemDataDirectory(directory), options);

    // initdb's system identifier: seconds in the high half, microseconds and the pid below.
    private static ulong NewSystemIdentifier()
    {
        var now = DateTimeOffset.UtcNow;
        ulong seconds = (ulong)now.ToUnixTimeSeconds();
        ulong micros = (ulong)(now.Ticks / 10 % 1_000_000);
        return (seconds << 32) | (micros << 12) | ((ulong)Environment.ProcessId & 0xFFF);
    }

    // After replay: set aside what must not be lost (WalQuarantine), clean the tail, then continue
    // right after the last valid record (or at the page whose continuation was missing, where the
    // overwrite record goes).
    private WalStartPoint StartPoint(StartupRecovery.State state, WalGeometry geometry, TimelineId timeline, ulong systemIdentifier)
    {
        if (state.Result.CrashRecovery)
        {
            var disposable = WalQuarantine.Disposable(_storage.Wal, geometry, timeline, geometry.SegmentOf(state.EndOfLog), systemIdentifier, out var keep);
            var damage = state.Result.Damage;
            if (WalQuarantine.SetAside(_storage.Wal, geometry, timeline, state.EndOfLog, copyEndSegment: damage != null, keep) is var (folder, files))
            {
                string relative = $"pg_wal/{folder}";
                _logger.LogWarning("set aside {Count} WAL file(s) recovery did not replay in {Folder}: {Files}", files.Count, relative, string.Join(", ", files));
                state.Result = state.Result with
                {
                    Damage = (damage ?? new WalDamageReport
                    {
                        Kind = WalDamageKind.BadPage, Message = $"segment file(s) after the end of WAL at {state.EndOfLog} hold something other than zeros or recycled pages",
                        Lsn = state.EndOfLog, ValidUpTo = state.EndOfLog, Evidence = "not WAL of this system at its own address: kept, not removed",
                    }) with { QuarantineDirectory = relative, Quarantined = files },
                };
            }
            var (zeroed, removed) = WalTailCleaner.Clean(_storage.Wal, geometry, timeline, state.EndOfLog, disposable);
            if (zeroed > 0 || removed > 0)
                _logger.LogInformation("cleared {Bytes} bytes of stale WAL after {End} and removed {Segments} later segment(s) holding no WAL", zeroed, state.EndOfLog, removed);
        }
        var prefix = WalTailCleaner.ReadPagePrefix(_storage.Wal, geometry, timeline, state.EndOfLog);
        return WalStartPoint.After(state.LastRecord, state.EndOfLog, prefix);
    }

    private void SyncWal(WalGeometry geometry, TimelineId timeline)
    {
        foreach (var name in _storage.Wal.ListFiles())
        {
            if (SegmentFileName.TryParse(name, geometry, out var tli, out _) && tli == timeline)
            {
                using var file = _storage.Wal.Open(name);
                file.Sync();
            }
        }
        _storage.Wal.SyncDirectory();   // names a killed process renamed into place without its directory fsync
    }

    /// <summary>Writes a shutdown checkpoint (unless the instance failed) and closes everything.</summary>
    public void Dispose() => Close(shutdownCheckpoint: true);

    /// <summary>
    /// Stops without a shutdown checkpoint and without flushing, as a crash would (for tests and
    /// tools that simulate one). The next open runs crash recovery.
    /// </summary>
    public void Abandon() => Close(shutdownCheckpoint: false);

    /// <summary>
    /// PANIC: a client failed in the middle of a change it cannot undo (pages changed in memory, the
    /// change not committed). Faults the WAL engine and stops every page write, so nothing of the
    /// half-done change can reach disk; then call <see cref="Abandon"/>. The next open
    /// recovers to the last durable commit. Call it before releasing the pages' locks.
    /// </summary>
    public void Panic(Exception reason)
    {
        _logger.LogCritical(reason, "PANIC: {Message}", reason.Message);
        _wal?.Panic(reason);
        Buffers.Freeze(reason);
    }

    private void Close(bool shutdownCheckpoint)
    {
        if (Interlocked.Exchange(ref _state, 1) != 0)
            return;
        try
        {
            CloseStandby(shutdownCheckpoint);
            _checkpointer?.Dispose();
            if (shutdownCheckpoint && _checkpointer != null && _wal!.Fault == null && _checkpointer.Failure == null)
            {
                SwitchBeforeShutdown();
                _checkpointer.Run(CheckpointKind.Shutdown);
                _walSender?.Stop(drain: true);   // streaming clients get the shutdown checkpoint
                _archiver?.FinishAndStop();
            }
        }
        finally
        {
            _walSender?.Stop(drain: false);
            _syncRep?.Close();   // commits still waiting for standbys end with SyncRepWaitCanceledException
            _archiver?.Dispose();
            _wal?.Close(flush: shutdownCheckpoint);
            Buffers.Dispose();
            _metrics.Dispose();
            _directoryLock?.Dispose();
        }
    }
}
