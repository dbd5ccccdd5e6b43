// BaseBackupReceiver: pg_basebackup 15's core (reference §5). Main connection: SHOW
// data_directory_mode, SHOW wal_segment_size, IDENTIFY_SYSTEM, BASE_BACKUP; after the start
// position and tablespace list, -X stream starts a WalReceiver on a second connection that makes
// a temporary slot "pg_basebackup_<its pid>" (or uses/creates -S), checks the system identifier
// and streams from the start segment into pg_wal (plain: the backup's own pg_wal, full-size files
// without .partial, .done for complete segments; tar: a scratch directory packed into pg_wal.tar
// at the end). Once the archives and the end position arrived, the streamer stops when it has
// received up to that position. Then everything is fsynced and backup_manifest.tmp is renamed.
using System.Formats.Tar;
using PgWal.Format;
using PgWal.Storage;

namespace PgWal.Replication.Client;

/// <summary>-F: how the backup is written.</summary>
public enum BackupFormat
{
    /// <summary>Extracted into the target directory (-Fp).</summary>
    Plain,
    /// <summary>base.tar, pg_wal.tar, backup_manifest (-Ft).</summary>
    Tar,
}

/// <summary>-X: how the WAL the backup needs is included.</summary>
public enum BackupWalMethod
{
    /// <summary>Not at all.</summary>
    None,
    /// <summary>In base.tar, by the server at the end (WAL option).</summary>
    Fetch,
    /// <summary>Streamed over a second connection while the backup runs.</summary>
    Stream,
}

/// <summary>Options of one base backup.</summary>
public sealed record BaseBackupOptions
{
    /// <summary>Where to connect.</summary>
    public required ConnectionSettings Connection { get; init; }
    /// <summary>The output directory (must be missing or empty).</summary>
    public required string TargetDirectory { get; init; }
    /// <summary>-F.</summary>
    public BackupFormat Format { get; init; } = BackupFormat.Plain;
    /// <summary>-X.</summary>
    public BackupWalMethod WalMethod { get; init; } = BackupWalMethod.Stream;
    /// <summary>-c fast.</summary>
    public bool FastCheckpoint { get; init; }
    /// <summary>-l.</summary>
    public string Label { get; init; } = "pg_basebackup base backup";
    /// <summary>--manifest-checksums (null: the server's default, CRC32C).</summary>
    public string? ManifestChecksums { get; init; }
    /// <summary>-S: a permanent slot for streaming (else a temporary one).</summary>
    public string? Slot { get; init; }
    /// <summary>-C: create <see cref="Slot"/> first.</summary>
    public bool CreateSlot { get; init; }
    /// <summary>-R: standby.signal and primary_conninfo (in base.tar with tar format).</summary>
    public bool WriteRecoveryConfig { get; init; }
    /// <summary>Ask the server for size estimates (PROGRESS).</summary>
    public bool EstimateSize { get; init; } = true;
    /// <summary>fsync the result (false: --no-sync).</summary>
    public bool Sync { get; init; } = true;
    /// <summary>Verbose messages.</summary>
    public Action<string>? Verbose { get; init; }
    /// <summary>Progress, as the server reports it ('p' messages).</summary>
    public Action<BackupProgress>? Progress { get; init; }
}

/// <summary>How far a base backup is.</summary>
/// <param name="BytesDone">Archive bytes received.</param>
/// <param name="BytesEstimated">The server's estimate of the total (0: none).</param>
/// <param name="ArchivesDone">Tablespace archives completed.</param>
/// <param name="ArchiveCount">Tablespace archives in the backup.</param>
public readonly record struct BackupProgress(long BytesDone, long BytesEstimated, int ArchivesDone, int ArchiveCount);

/// <summary>Takes a base backup as pg_basebackup 15 does.</summary>
public static class BaseBackupReceiver
{
    /// <summary>Runs the backup; returns its start and end positions.</summary>
    public static async Task<(Lsn Start, Lsn End, TimelineId Timeline)> RunAsync(BaseBackupOptions options, CancellationToken cancellation = default)
    {
        string target = Path.GetFullPath(options.TargetDirectory);
        if (Directory.Exists(target) && Directory.EnumerateFileSystemEntries(target).Any())
            throw new IOException($"directory \"{target}\" exists but is not empty");
        Directory.CreateDirectory(target);

        await using var main = await ReplicationClient.ConnectAsync(options.Connection, cancellation).ConfigureAwait(false);
        var mode = await main.ShowDataDirectoryModeAsync(cancellation).ConfigureAwait(false);
        var geometry = new WalGeometry(await main.ShowWalSegmentSizeAsync(cancellation).ConfigureAwait(false));
        var system = await main.IdentifySystemAsync(cancellation).ConfigureAwait(false);
        bool groupRead = (mode & UnixFileMode.GroupRead) != 0;
        var fileMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | (groupRead ? UnixFileMode.GroupRead : 0);
        var directoryMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | (groupRead ? UnixFileMode.GroupRead | UnixFileMode.GroupExecute : 0);
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(target, directoryMode);

        string command = ReplicationClient.BaseBackupCommand(options.Label, options.EstimateSize, options.FastCheckpoint,
            includeWal: options.WalMethod == BackupWalMethod.Fetch, waitForArchive: options.WalMethod == BackupWalMethod.None,
            tablespaceMap: options.Format == BackupFormat.Tar, options.ManifestChecksums);
        options.Verbose?.Invoke($"initiating base backup, waiting for checkpoint to complete");
        var start = await main.StartBaseBackupAsync(command, cancellation).ConfigureAwait(false);
        options.Verbose?.Invoke("checkpoint completed");
        options.Verbose?.Invoke($"write-ahead log start point: {start.StartLsn} on timeline {start.Timeline}");
        long total = start.Tablespaces.Sum(t => t.SizeKilobytes ?? 0) * 1024;

        WalReceiver? streamer = null;
        Task<WalReceiverOutcome>? streaming = null;
        using var stopStreaming = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        string walDirectory = options.Format == BackupFormat.Plain ? Path.Combine(target, "pg_wal") : Path.Combine(target, ".pg_wal.streaming");
        if (options.WalMethod == BackupWalMethod.Stream)
        {
            Directory.CreateDirectory(Path.Combine(walDirectory, "archive_status"));
            options.Verbose?.Invoke("starting background WAL receiver");
            streamer = new WalReceiver(new WalReceiverOptions
            {
                Connection = options.Connection,
                NoLoop = true,
                StartPosition = (start.Timeline, geometry.SegmentStart(geometry.SegmentOf(start.StartLsn))),
                ExpectedSystemIdentifier = system.SystemIdentifier,
                PrepareConnection = (client, token) => PrepareStreamingSlotAsync(client, options, token),
                CreateTarget = (g, _) => new DirectoryWalTarget(walDirectory, g, options.Sync, fileMode, partialSuffix: "", markDone: options.Format == BackupFormat.Plain),
                Verbose = options.Verbose,
                Warning = options.Verbose,
            });
            streaming = Task.Run(() => streamer.RunAsync(stopStreaming.Token), CancellationToken.None);
        }

        int archives = start.Tablespaces.Count;
        BackupSinkBase? sink = null;
        long lastDone = 0;
        void Report(long done) => options.Progress?.Invoke(new BackupProgress(lastDone = done, total, sink!.ArchivesDone, archives));
        sink = options.Format == BackupFormat.Plain
            ? new PlainBackupSink(target, fileMode, directoryMode, Report)
            : new TarBackupSink(target, fileMode, Report);
        (Lsn EndLsn, TimelineId Timeline) end;
        try
        {
            end = await main.ReadBaseBackupAsync(sink, cancellation).ConfigureAwait(false);
        }
        catch
        {
            await stopStreaming.CancelAsync().ConfigureAwait(false);
            if (streaming != null)
                await streaming.ConfigureAwait(false);
            throw;
        }
        finally
        {
            sink.CloseManifest();
        }
        options.Progress?.Invoke(new BackupProgress(lastDone, total, sink.ArchivesDone, archives));   // the final line, as pg_basebackup's
        options.Verbose?.Invoke($"write-ahead log end point: {end.EndLsn}");

        if (streamer != null && streaming != null)
        {
            options.Verbose?.Invoke("waiting for background process to finish streaming ...");
            streamer.SetStopPosition(end.EndLsn);
            var outcome = await streaming.ConfigureAwait(false);
            if (outcome != WalReceiverOutcome.EndPositionReached)
                throw new IOException("background WAL receiver ended before the end of the backup");
            if (options.Format == BackupFormat.Tar)
                PackWal(walDirectory, Path.Combine(target, "pg_wal.tar"), geometry, sink);
        }
        if (!sink.HasManifest)
            throw new IOException("the server sent no backup manifest");
        if (options.WriteRecoveryConfig && options.Format == BackupFormat.Plain)
            WriteRecoveryConfig(target, options, sink);
        else if (options.WriteRecoveryConfig)
            InjectRecoveryConfig(Path.Combine(target, "base.tar"), RecoveryConfig(options), sink.FileMode);
        if (options.Sync)
        {
            options.Verbose?.Invoke("syncing data to disk ...");
            SyncTree(target);
        }
        options.Verbose?.Invoke("renaming backup_manifest.tmp to backup_manifest");
        File.Move(sink.ManifestTemp, Path.Combine(target, "backup_manifest"));
        if (options.Sync)
            FileSystemWalStorage.SyncDirectory(target);
        options.Verbose?.Invoke("base backup completed");
        return (start.StartLsn, end.EndLsn, end.Timeline);
    }

    // pg_basebackup's streamer: a temporary slot named for this connection's walsender, or -S (created with -C).
    private static async Task<string?> PrepareStreamingSlotAsync(ReplicationClient client, BaseBackupOptions options, CancellationToken cancellation)
    {
        if (options.Slot == null)
        {
            string name = $"pg_basebackup_{client.ProcessId}";
            await client.CreateReplicationSlotAsync(name, temporary: true, reserveWal: true, cancellation).ConfigureAwait(false);
            options.Verbose?.Invoke($"created temporary replication slot \"{name}\"");
            return name;
        }
        if (options.CreateSlot)
        {
            await client.CreateReplicationSlotAsync(options.Slot, temporary: false, reserveWal: true, cancellation).ConfigureAwait(false);
            options.Verbose?.Invoke($"created replication slot \"{options.Slot}\"");
        }
        return options.Slot;
    }

    // -Ft -X stream: the streamed files as pg_wal.tar (bare names, full segments), the scratch directory removed.
    private static void PackWal(string walDirectory, string tarPath, WalGeometry geometry, BackupSinkBase sink)
    {
        using (var output = File.Create(tarPath))
        using (var tar = new TarWriter(output, TarEntryFormat.Ustar, leaveOpen: true))
        {
            foreach (var path in Directory.GetFiles(walDirectory).Order(StringComparer.Ordinal))
            {
                string name = Path.GetFileName(path);
                bool history = name.Length == 16 && name.EndsWith(".history", StringComparison.Ordinal);
                if (!SegmentFileName.IsSegmentFileName(name) && !history)
                    continue;
                using var data = File.OpenRead(path);
                tar.WriteEntry(new UstarTarEntry(TarEntryType.RegularFile, name)
                {
                    DataStream = data,
                    Mode = sink.FileMode,
                    ModificationTime = File.GetLastWriteTimeUtc(path),
                    UserName = "postgres",
                    GroupName = "postgres",
                });
            }
        }
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(tarPath, sink.FileMode);
        Directory.Delete(walDirectory, recursive: true);
    }

    // What -R appends to postgresql.auto.conf: primary_conninfo (+ primary_slot_name).
    private static string RecoveryConfig(BaseBackupOptions options)
    {
        string conninfo = options.Connection.ToConnectionString(includePassword: true);
        string text = $"primary_conninfo = '{conninfo.Replace("'", "''", StringComparison.Ordinal)}'\n";
        if (options.Slot != null)
            text += $"primary_slot_name = '{options.Slot.Replace("'", "''", StringComparison.Ordinal)}'\n";
        return text;
    }

    // -R with tar format: base.tar rewritten with the settings appended to its postgresql.auto.conf
    // and an empty standby.signal before the trailer, as pg_basebackup injects them. The manifest
    // does not change: pg_verifybackup ignores both files, as it does for plain format.
    private static void InjectRecoveryConfig(string baseTar, string settings, UnixFileMode fileMode)
    {
        string temp = baseTar + ".tmp";
        using (var input = File.OpenRead(baseTar))
        using (var output = File.Create(temp))
        {
            using var reader = new TarReader(input);
            using var writer = new TarWriter(output, TarEntryFormat.Ustar, leaveOpen: true);
            bool found = false;
            while (reader.GetNextEntry() is { } entry)
            {
                if (entry.Name == "postgresql.auto.conf" && entry.EntryType == TarEntryType.RegularFile)
                {
                    var content = new MemoryStream();
                    entry.DataStream?.CopyTo(content);
                    content.Write(System.Text.Encoding.UTF8.GetBytes(settings));
                    content.Position = 0;
                    writer.WriteEntry(new UstarTarEntry(TarEntryType.RegularFile, entry.Name)
                    {
                        DataStream = content, Mode = entry.Mode, ModificationTime = entry.ModificationTime,
                        Uid = entry.Uid, Gid = entry.Gid, UserName = "postgres", GroupName = "postgres",
                    });
                    found = true;
                    continue;
                }
                writer.WriteEntry(entry);
            }
            if (!found)
                throw new InvalidDataException("base.tar has no postgresql.auto.conf to add the recovery settings to");
            writer.WriteEntry(new UstarTarEntry(TarEntryType.RegularFile, "standby.signal")
            {
                DataStream = new MemoryStream(), Mode = fileMode, ModificationTime = DateTimeOffset.UtcNow, UserName = "postgres", GroupName = "postgres",
            });
        }
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(temp, fileMode);
        File.Move(temp, baseTar, overwrite: true);
    }

    // -R, plain format: standby.signal, and the settings appended to postgresql.auto.conf.
    private static void WriteRecoveryConfig(string target, BaseBackupOptions options, BackupSinkBase sink)
    {
        File.AppendAllText(Path.Combine(target, "postgresql.auto.conf"), RecoveryConfig(options));
        string signal = Path.Combine(target, "standby.signal");
        File.WriteAllBytes(signal, []);
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(signal, sink.FileMode);
    }

    // fsync every file and directory under root (pg_basebackup's sync_pgdata).
    private static void SyncTree(string root)
    {
        foreach (var file in Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories))
        {
            if (new FileInfo(file).LinkTarget != null)
                continue;
            using var stream = new FileStream(file, FileMode.Open, FileAccess.ReadWrite);
            stream.Flush(flushToDisk: true);
        }
        foreach (var directory in Directory.EnumerateDirectories(root, "*", SearchOption.AllDirectories))
        {
            if (new DirectoryInfo(directory).LinkTarget == null)
                FileSystemWalStorage.SyncDirectory(directory);
        }
        FileSystemWalStorage.SyncDirectory(root);
    }
}
