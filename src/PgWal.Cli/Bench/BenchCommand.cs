// BenchCommand: `pgwal bench -D DIR --workers N --record-size BYTES --flush none|each|async
// (--records N | --duration SECONDS) [--sync-method M] [--json] ...`. Creates and initialises DIR
// when it holds no WAL, else continues its WAL after the last valid record; runs the workload with
// live progress on a terminal; prints rates, flush latency and pg_stat_wal-like statistics, and
// with --json ends with one JSON object. SIGINT/SIGTERM end the run early: the summary covers what
// ran, and the directory is shut down cleanly.
using System.CommandLine;
using System.Diagnostics;
using PgWal.Cli.Common;
using PgWal.Cli.DataDir;
using PgWal.Format;
using PgWal.Read;
using PgWal.Storage;
using PgWal.Write;

namespace PgWal.Cli.Bench;

internal static class BenchCommand
{
    public static Command Create()
    {
        var dataDir = CliOptions.DataDirectory("data directory (created and initialised if it holds no WAL)");
        var workers = CliOptions.Int("--workers", "-c", "concurrent inserting/committing workers", 1, 4096, 1);
        var recordSize = CliOptions.Int("--record-size", null, "payload bytes per record (a LogicalMessage record, like pg_logical_emit_message)", 0, 64 << 20, 100);
        var flush = CliOptions.Choice("--flush", null, "none: insert only; each: every record is a durable commit; async: asynchronous commits", "none", "none", "each", "async");
        var records = CliOptions.OptionalLong("--records", "-n", "stop after this many records in all", 1, long.MaxValue);
        var duration = CliOptions.OptionalSeconds("--duration", "-T", "stop after this many seconds", 0.001, 86400);
        var syncMethod = CliOptions.Choice("--sync-method", null, "how a flush makes the WAL durable", "fdatasync", "fdatasync", "fsync", "open_datasync");
        var directIo = new Option<bool>("--direct-io") { Description = "open segments with O_DIRECT" };
        var walBuffers = CliOptions.Int("--wal-buffers", null, "WAL buffer ring in MB", 1, 1024, 16);
        var locks = CliOptions.Int("--insertion-locks", null, "number of WAL insertion locks", 1, 128, 8);
        var segSize = DataDirCommands.SegmentSizeOption("segment size in MB when initialising, a power of two");
        var commitDelay = CliOptions.Int("--commit-delay", null, "commit_delay in microseconds", 0, 100_000, 0);
        var writerDelay = CliOptions.Int("--wal-writer-delay", null, "wal_writer_delay in milliseconds", 1, 10_000, 200);
        var json = new Option<bool>("--json") { Description = "end the output with one JSON object" };
        var initZero = CliOptions.Choice("--wal-init-zero", null, "on: new segments are written full of zeros (PostgreSQL's default); off: created sparse", "on", "on", "off");
        var maxWal = CliOptions.Int("--max-wal-size", null, "max_wal_size in MB: WAL between checkpoints, and the most recycled segments kept", 2, 1 << 20, 1024);
        var minWal = CliOptions.Int("--min-wal-size", null, "min_wal_size in MB: recycled segments kept at least (at least twice --wal-segsize)", 2, 1 << 20, 80);
        var discard = new Option<bool>("--discard") { Description = "write the WAL to nowhere (not durable!): measures the insert path without the disk" };
        var command = new Command("bench", "Measure WAL insert and commit rates on a data directory (SIGINT/SIGTERM end the run early, with its summary)")
        {
            dataDir, workers, recordSize, flush, records, duration, syncMethod, directIo, walBuffers, locks, segSize, commitDelay, writerDelay, json, discard, initZero, maxWal, minWal,
        };
        command.SetAction(parse => CommandBoundary.Run("bench", () =>
        {
            var settings = new BenchSettings
            {
                DataDirectory = parse.GetValue(dataDir)!,
                Workers = parse.GetValue(workers),
                RecordSize = parse.GetValue(recordSize),
                Flush = Enum.Parse<FlushMode>(parse.GetValue(flush)!, ignoreCase: true),
                Records = parse.GetValue(records),
                Seconds = parse.GetValue(duration),
                SyncMethod = parse.GetValue(syncMethod) switch { "fsync" => WalSyncMethod.Fsync, "open_datasync" => WalSyncMethod.OpenDatasync, _ => WalSyncMethod.Fdatasync },
                DirectIo = parse.GetValue(directIo),
                WalBuffersMb = parse.GetValue(walBuffers),
                InsertionLocks = parse.GetValue(locks),
                SegmentSizeMb = parse.GetValue(segSize),
                CommitDelayMicroseconds = parse.GetValue(commitDelay),
                WalWriterDelayMs = parse.GetValue(writerDelay),
                Json = parse.GetValue(json),
                Discard = parse.GetValue(discard),
                InitZero = parse.GetValue(initZero) == "on",
                MaxWalSizeMb = parse.GetValue(maxWal),
                MinWalSizeMb = parse.GetValue(minWal),
            };
            Validate(settings);
            return Run(settings);
        }));
        return command;
    }

    // What the options cannot check one by one.
    private static void Validate(BenchSettings s)
    {
        if (s.Records is null == s.Seconds is null)
            throw new UsageException("give exactly one of --records and --duration");
        if (s.MinWalSizeMb < 2 * s.SegmentSizeMb)
            throw new UsageException($"--min-wal-size ({s.MinWalSizeMb} MB) must be at least twice --wal-segsize ({s.SegmentSizeMb} MB)");
        if (s.MaxWalSizeMb < s.MinWalSizeMb)
            throw new UsageException($"--max-wal-size ({s.MaxWalSizeMb} MB) must be at least --min-wal-size ({s.MinWalSizeMb} MB)");
    }

    private static int Run(BenchSettings settings)
    {
        if (!settings.Discard)
            PathChecks.DataDirectory(settings.DataDirectory);
        using var signals = new StopSignals();
        var owner = Open(settings, out var engine, out string how);
        BenchResult result;
        try
        {
            Console.WriteLine($"pgwal bench: {how}");
            Console.WriteLine($"  {settings.Workers} worker(s), {settings.RecordSize}-byte records, flush {settings.Flush.ToString().ToLowerInvariant()}, "
                              + $"sync {SyncName(settings.SyncMethod)}{(settings.DirectIo ? " + O_DIRECT" : "")}, "
                              + (settings.Records is { } n ? $"{n:N0} records" : $"{settings.Seconds} s"));
            bool live = !Console.IsErrorRedirected;
            result = new BenchRunner(engine, settings).Run(live ? Progress(settings) : null, signals.Token);
            if (live)
                Console.Error.Write("\r" + new string(' ', 100) + "\r");
            engine.Flush();
        }
        catch
        {
            try
            {
                owner.Dispose();
            }
            catch (Exception)
            {
                // The run's failure is the one to report; closing a faulted engine fails alike.
            }
            throw;
        }
        owner.Dispose();   // the shutdown checkpoint: its failure is the command's
        BenchReport.Print(settings, result, signals.Received, Console.Out);
        return 0;
    }

    private static string SyncName(WalSyncMethod m) => m switch { WalSyncMethod.Fsync => "fsync", WalSyncMethod.OpenDatasync => "open_datasync", _ => "fdatasync" };

    private static Action<BenchRunner, TimeSpan> Progress(BenchSettings settings)
    {
        long lastRecords = 0;
        TimeSpan lastTime = default;
        return (runner, elapsed) =>
        {
            if (elapsed - lastTime < TimeSpan.FromSeconds(1))
                return;
            long records = runner.RecordsSoFar;
            double rate = (records - lastRecords) / (elapsed - lastTime).TotalSeconds;
            lastRecords = records;
            lastTime = elapsed;
            string commits = settings.Flush == FlushMode.None ? "" : $", {rate:N0} commits/s";
            Console.Error.Write($"\r  {elapsed.TotalSeconds,6:F1} s  {records,14:N0} records  {rate,12:N0} records/s  {rate * settings.RecordSize / 1e6,8:F1} MB/s{commits}   ");
        };
    }

    // The engine, and what to dispose at the end: the WalInstance (shutdown checkpoint) or the bare engine (--discard).
    private static IDisposable Open(BenchSettings s, out WalEngine engine, out string how)
    {
        string walDir = Path.Combine(s.DataDirectory, "pg_wal");
        var geometry = new WalGeometry(s.SegmentSizeMb * 1024 * 1024);
        var options = new WalOptions
        {
            WalBuffers = s.WalBuffersMb * 1024 * 1024,
            InsertionLocks = s.InsertionLocks,
            SyncMethod = s.SyncMethod,
            DirectIo = s.DirectIo,
            CommitDelay = TimeSpan.FromMicroseconds(s.CommitDelayMicroseconds),
            WalWriterDelay = TimeSpan.FromMilliseconds(s.WalWriterDelayMs),
        };
        if (s.Discard)
        {
            options = options with { SegmentSize = geometry.SegmentSize, SystemIdentifier = NewSystemIdentifier() };
            how = "WAL is DISCARDED (--discard): measuring the insert path only, nothing is durable";
            return engine = new WalEngine(new DiscardingStorage(), options, WalStartPoint.AtSegment(new SegmentNumber(1), geometry));
        }
        var storage = new FileSystemDataDirectory(s.DataDirectory, s.InitZero);
        how = "";
        if (!File.Exists(Path.Combine(s.DataDirectory, "global", "pg_control")))
        {
            if (Directory.Exists(walDir) && Directory.EnumerateFiles(walDir).Any(f => SegmentFileName.IsSegmentFileName(Path.GetFileName(f))))
                throw new InvalidOperationException($"\"{walDir}\" holds segment files but \"{s.DataDirectory}\" has no global/pg_control; refusing to overwrite them (use a new directory)");
            var control = WalInstance.Initialize(storage, new WalInitOptions { SegmentSize = geometry.SegmentSize });
            how = $"initialised {s.DataDirectory} (system identifier {control.SystemIdentifier}, {geometry} segments); ";
        }
        var instance = WalInstance.Open(storage, new WalInstanceOptions
        {
            Wal = options,
            SharedBuffers = 16,
            MaxWalSize = (long)s.MaxWalSizeMb << 20,
            MinWalSize = (long)s.MinWalSizeMb << 20,
        });
        engine = instance.Wal;
        how += instance.Recovery.CrashRecovery
            ? $"recovered {s.DataDirectory} ({instance.Recovery.Records:N0} records replayed), writing after {instance.Recovery.EndOfWal}"
            : $"writing into {s.DataDirectory} after checkpoint {instance.Recovery.Checkpoint}";
        return instance;
    }

    // Like initdb: seconds and microseconds of now, and the process id.
    private static ulong NewSystemIdentifier()
    {
        long us = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1000 + Stopwatch.GetTimestamp() % 1000;
        ulong seconds = (ulong)(us / 1_000_000), micros = (ulong)(us % 1_000_000);
        return (seconds << 32) | (micros << 12) | ((ulong)Environment.ProcessId & 0xFFF);
    }
}
