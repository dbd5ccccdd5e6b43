// BenchCommand: `pgwal bench -D DIR --workers N --record-size BYTES --flush none|each|async
// (--records N | --duration SECONDS) [--sync-method M] [--json] ...`. Creates and initialises DIR
// when it holds no WAL, else continues its WAL after the last valid record; runs the workload with
// live progress on a terminal; prints rates, flush latency and pg_stat_wal-like statistics, and
// with --json ends with one JSON object.
using System.CommandLine;
using System.Diagnostics;
using PgWal.Format;
using PgWal.Read;
using PgWal.Storage;
using PgWal.Write;

namespace PgWal.Cli.Bench;

internal static class BenchCommand
{
    public static Command Create()
    {
        var dataDir = new Option<string>("--pgdata", "-D") { Description = "data directory (created and initialised if it holds no WAL)", Required = true };
        var workers = new Option<int>("--workers", "-c") { Description = "concurrent inserting/committing workers", DefaultValueFactory = _ => 1 };
        var recordSize = new Option<int>("--record-size") { Description = "payload bytes per record (a LogicalMessage record, like pg_logical_emit_message)", DefaultValueFactory = _ => 100 };
        var flush = new Option<string>("--flush") { Description = "none: insert only; each: every record is a durable commit; async: asynchronous commits", DefaultValueFactory = _ => "none" };
        flush.AcceptOnlyFromAmong("none", "each", "async");
        var records = new Option<long?>("--records", "-n") { Description = "stop after this many records in all" };
        var duration = new Option<double?>("--duration", "-T") { Description = "stop after this many seconds" };
        var syncMethod = new Option<string>("--sync-method") { Description = "fdatasync, fsync or open_datasync", DefaultValueFactory = _ => "fdatasync" };
        syncMethod.AcceptOnlyFromAmong("fdatasync", "fsync", "open_datasync");
        var directIo = new Option<bool>("--direct-io") { Description = "open segments with O_DIRECT" };
        var walBuffers = new Option<int>("--wal-buffers") { Description = "WAL buffer ring in MB", DefaultValueFactory = _ => 16 };
        var locks = new Option<int>("--insertion-locks") { Description = "number of WAL insertion locks", DefaultValueFactory = _ => 8 };
        var segSize = new Option<int>("--wal-segsize") { Description = "segment size in MB when initialising", DefaultValueFactory = _ => 16 };
        var commitDelay = new Option<int>("--commit-delay") { Description = "commit_delay in microseconds", DefaultValueFactory = _ => 0 };
        var writerDelay = new Option<int>("--wal-writer-delay") { Description = "wal_writer_delay in milliseconds", DefaultValueFactory = _ => 200 };
        var json = new Option<bool>("--json") { Description = "end the output with one JSON object" };
        var initZero = new Option<string>("--wal-init-zero") { Description = "on: new segments are written full of zeros (PostgreSQL's default); off: created sparse", DefaultValueFactory = _ => "on" };
        initZero.AcceptOnlyFromAmong("on", "off");
        var maxWal = new Option<int>("--max-wal-size") { Description = "max_wal_size in MB: WAL between checkpoints, and the most recycled segments kept", DefaultValueFactory = _ => 1024 };
        var minWal = new Option<int>("--min-wal-size") { Description = "min_wal_size in MB: recycled segments kept at least", DefaultValueFactory = _ => 80 };
        var discard = new Option<bool>("--discard") { Description = "write the WAL to nowhere (not durable!): measures the insert path without the disk" };
        var command = new Command("bench", "Measure WAL insert and commit rates on a data directory")
        {
            dataDir, workers, recordSize, flush, records, duration, syncMethod, directIo, walBuffers, locks, segSize, commitDelay, writerDelay, json, discard, initZero, maxWal, minWal,
        };
        command.SetAction(parse =>
        {
            if (parse.GetValue(records) is null == parse.GetValue(duration) is null)
                return Fail("give exactly one of --records and --duration");
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
            return Run(settings);
        });
        return command;
    }

    private static int Fail(string message)
    {
        Console.Error.WriteLine($"pgwal bench: error: {message}");
        return 1;
    }

    private static string? Validate(BenchSettings s)
    {
        if (s.Workers is < 1 or > 4096) return $"--workers must be between 1 and 4096, got {s.Workers}";
        if (s.RecordSize is < 0 or > 64 * 1024 * 1024) return $"--record-size must be between 0 and 67108864, got {s.RecordSize}";
        if (s.Records is < 1) return $"--records must be at least 1, got {s.Records}";
        if (s.Seconds is <= 0 or > 86400) return $"--duration must be between 0 and 86400 seconds, got {s.Seconds}";
        if (s.WalBuffersMb is < 1 or > 1024) return $"--wal-buffers must be between 1 and 1024 (MB), got {s.WalBuffersMb}";
        if (s.InsertionLocks is < 1 or > 128) return $"--insertion-locks must be between 1 and 128, got {s.InsertionLocks}";
        if (!WalGeometry.IsValidSegmentSize((long)s.SegmentSizeMb * 1024 * 1024)) return $"--wal-segsize must be a power of two between 1 and 1024 (MB), got {s.SegmentSizeMb}";
        if (s.CommitDelayMicroseconds is < 0 or > 100_000) return $"--commit-delay must be between 0 and 100000 microseconds, got {s.CommitDelayMicroseconds}";
        if (s.WalWriterDelayMs is < 1 or > 10_000) return $"--wal-writer-delay must be between 1 and 10000 ms, got {s.WalWriterDelayMs}";
        if (s.MinWalSizeMb < 2 * s.SegmentSizeMb || s.MaxWalSizeMb < s.MinWalSizeMb || s.MaxWalSizeMb > 1024 * 1024)
            return $"--min-wal-size must be at least twice --wal-segsize and --max-wal-size at least --min-wal-size (at most 1048576 MB), got {s.MinWalSizeMb} and {s.MaxWalSizeMb}";
        return null;
    }

    private static int Run(BenchSettings settings)
    {
        if (Validate(settings) is { } problem)
            return Fail(problem);
        try
        {
            using var owner = Open(settings, out var engine, out string how);
            Console.WriteLine($"pgwal bench: {how}");
            Console.WriteLine($"  {settings.Workers} worker(s), {settings.RecordSize}-byte records, flush {settings.Flush.ToString().ToLowerInvariant()}, "
                              + $"sync {SyncName(settings.SyncMethod)}{(settings.DirectIo ? " + O_DIRECT" : "")}, "
                              + (settings.Records is { } n ? $"{n:N0} records" : $"{settings.Seconds} s"));
            bool live = !Console.IsErrorRedirected;
            var result = new BenchRunner(engine, settings).Run(live ? Progress(settings) : null);
            if (live)
                Console.Error.Write("\r" + new string(' ', 100) + "\r");
            engine.Flush();
            BenchReport.Print(settings, result, Console.Out);
            return 0;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException or ArgumentException)
        {
            return Fail(e.Message);
        }
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
