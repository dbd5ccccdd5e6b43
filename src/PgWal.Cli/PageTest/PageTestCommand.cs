// PageTestCommand: `pgwal pagetest` — the page-level crash workload as a process, for kill -9
// tests, the crash loop script and the recovery benchmark. Opens (recovering) or initialises the
// data directory, continues every worker after its last durable op, appends (worker, op) to the
// acknowledgement file after each durable commit, and exits with a shutdown checkpoint — or
// without one (--crash). `--verify` instead checks the pages against the model and the acks.
// Parameters (seed, workers, pages) are kept in DIR/pagetest.conf so later runs agree.
using System.CommandLine;
using System.Diagnostics;
using PgWal.Cli.Common;
using PgWal.Cli.DataDir;
using PgWal.Insert;
using PgWal.Recovery;

namespace PgWal.Cli.PageTest;

internal static class PageTestCommand
{
    /// <summary>Largest --shared-buffers: PostgreSQL's shared_buffers limit (INT_MAX / 2 pages).</summary>
    public static readonly int MaxSharedBuffers = WalInstanceOptions.MaxSharedBuffers;

    public static Command Create()
    {
        var dir = CliOptions.DataDirectory("data directory (initialised if missing)");
        var workers = CliOptions.Int("--workers", "-c", "concurrent workers (each owns one relation)", 1, 1024, 4);
        var seed = CliOptions.Int("--seed", null, "op stream seed", int.MinValue, int.MaxValue, 1);
        var pages = CliOptions.Int("--pages", null, "pages per worker", 4, 1 << 20, 256);
        var ops = CliOptions.Long("--ops", "-n", "ops per worker (0 = until --duration or --wal-mb)", 0, long.MaxValue, 0);
        var duration = CliOptions.Seconds("--duration", "-T", "seconds to run (0 = no limit)", 0, 365 * 86400, 0);
        var walMb = CliOptions.Long("--wal-mb", null, "stop after this much WAL in MB (0 = no limit)", 0, 1L << 30, 0);
        var flush = CliOptions.Choice("--flush", null, "each: every op is a durable commit; none: flush only at the end", "each", "each", "none");
        var ackFile = CliOptions.Path("--ack-file", null, "append (worker, op) after each durable commit");
        var crash = new Option<bool>("--crash") { Description = "exit without a shutdown checkpoint (the next open runs crash recovery)" };
        var verify = new Option<bool>("--verify") { Description = "check the data directory against the model and the ack file instead of running" };
        var segSize = DataDirCommands.SegmentSizeOption("WAL segment size in MB for a new directory, a power of two");
        var maxWal = CliOptions.Long("--max-wal-size", null, "max_wal_size in MB", 2, 1 << 20, 1024);
        var timeout = CliOptions.Seconds("--checkpoint-timeout", null, "checkpoint_timeout in seconds", 0.01, 86400, 300);
        var buffers = CliOptions.Int("--shared-buffers", null, "buffer pool size in 8 kB pages", 16, MaxSharedBuffers, 16384);
        var command = new Command("pagetest", "Run (or verify) the page-level crash test workload on a data directory")
        {
            dir, workers, seed, pages, ops, duration, walMb, flush, ackFile, crash, verify, segSize, maxWal, timeout, buffers,
        };
        command.SetAction(p => CommandBoundary.Run("pagetest", () =>
        {
            string path = p.GetValue(dir)!;
            string? acks = p.GetValue(ackFile);
            PathChecks.DataDirectory(path);
            if (acks != null)
                PathChecks.FileToWrite(acks, "acknowledgement file");
            var conf = PageTestConfig.LoadOrCreate(path, p.GetValue(seed), p.GetValue(workers), p.GetValue(pages));
            var options = new WalInstanceOptions
            {
                ResourceManagers = new ResourceManagerRegistry().Register(PageTestResourceManager.Instance),
                SharedBuffers = p.GetValue(buffers),
                MaxWalSize = p.GetValue(maxWal) << 20,
                CheckpointTimeout = TimeSpan.FromSeconds(p.GetValue(timeout)),
            };
            if (!File.Exists(Path.Combine(path, "global", "pg_control")))
                WalInstance.Initialize(path, new WalInitOptions { SegmentSize = p.GetValue(segSize) << 20, DataChecksums = true });
            if (p.GetValue(verify))
                return Verify(path, options, conf, acks);
            return RunWorkload(path, options, conf, p.GetValue(ops), p.GetValue(duration), p.GetValue(walMb), p.GetValue(flush) != "none",
                acks, p.GetValue(crash));
        }));
        return command;
    }

    private static int Verify(string path, WalInstanceOptions options, PageTestConfig conf, string? ackFile)
    {
        var acked = AckFile.Read(ackFile, conf.Workers);
        using var instance = WalInstance.Open(path, options with { BackgroundCheckpointer = false });
        var workload = new PageTestWorkload(instance, conf.Seed, conf.Pages);
        int failures = 0;
        for (int w = 0; w < conf.Workers; w++)
        {
            if (workload.Verify(w, acked[w]) is { } problem)
            {
                CommandBoundary.Error("pgwal pagetest", $"verification failed: {problem}");
                failures++;
            }
            else
            {
                Console.WriteLine($"worker {w}: ok, {workload.LastApplied(w)} ops applied, {acked[w]} acknowledged");
            }
        }
        var r = instance.Recovery;
        Console.WriteLine(r.CrashRecovery
            ? $"recovery replayed {r.Records} records ({r.Bytes / 1048576.0:F1} MB) from {r.RedoStart} to {r.EndOfWal}; {r.EndReason}"
            : "no crash recovery was needed");
        return failures == 0 ? ExitCodes.Success : ExitCodes.Runtime;
    }

    private static int RunWorkload(string path, WalInstanceOptions options, PageTestConfig conf, long ops, double seconds, long walMb,
        bool flushEach, string? ackFile, bool crash)
    {
        var instance = WalInstance.Open(path, options);
        var workload = new PageTestWorkload(instance, conf.Seed, conf.Pages);
        using var acks = ackFile != null ? new AckFile(ackFile) : null;
        Lsn startLsn = instance.Wal.InsertedUpTo;
        var clock = Stopwatch.StartNew();
        long done = 0;
        Exception? failure = null;   // the first worker's error stops every worker and is reported
        bool Stop(long count) =>
            Volatile.Read(ref failure) != null || (ops > 0 && count >= ops) || (seconds > 0 && clock.Elapsed.TotalSeconds >= seconds)
            || (walMb > 0 && instance.Wal.InsertedUpTo - startLsn >= (ulong)walMb << 20);
        var threads = new Thread[conf.Workers];
        for (int w = 0; w < conf.Workers; w++)
        {
            int worker = w;
            threads[w] = new Thread(() =>
            {
                try
                {
                    var builder = new RecordBuilder();
                    ulong seq = workload.LastApplied(worker);
                    for (long count = 0; !Stop(count); count++)
                    {
                        Lsn end = workload.Execute(builder, worker, ++seq);
                        if (flushEach)
                        {
                            instance.Wal.Flush(end);
                            acks?.Append(worker, seq);
                        }
                        Interlocked.Increment(ref done);
                    }
                }
                catch (Exception e)
                {
                    Interlocked.CompareExchange(ref failure, e, null);
                }
            }) { IsBackground = true, Name = $"pagetest worker {worker}" };
            threads[w].Start();
        }
        var progress = Stopwatch.StartNew();
        while (threads.Any(t => t.IsAlive))
        {
            Thread.Sleep(100);
            if (progress.Elapsed.TotalSeconds >= 1)
            {
                progress.Restart();
                Console.Error.WriteLine($"pagetest: {Interlocked.Read(ref done):N0} ops, {(instance.Wal.InsertedUpTo - startLsn) / 1048576.0:F0} MB WAL, {instance.CheckpointsCompleted} checkpoints, {clock.Elapsed.TotalSeconds:F0} s");
            }
        }
        foreach (var t in threads)
            t.Join();
        if (failure != null)
        {
            try
            {
                instance.Abandon();   // no shutdown checkpoint after a failure: the next open recovers
            }
            catch (Exception)
            {
                // the workers' failure is the one to report
            }
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
        }
        double mb = (instance.Wal.InsertedUpTo - startLsn) / 1048576.0;
        Console.WriteLine($"pagetest: {done:N0} ops by {conf.Workers} workers, {mb:F1} MB of WAL in {clock.Elapsed.TotalSeconds:F1} s ({done / clock.Elapsed.TotalSeconds:F0} ops/s, {mb / clock.Elapsed.TotalSeconds:F0} MB/s), {instance.CheckpointsCompleted} checkpoints");
        if (crash)
        {
            instance.Wal.Flush();
            instance.Abandon();
            Console.WriteLine("pagetest: exited without a shutdown checkpoint (next open runs crash recovery)");
        }
        else
        {
            instance.Dispose();
        }
        return 0;
    }
}

internal sealed record PageTestConfig(int Seed, int Workers, int Pages)
{
    public static PageTestConfig LoadOrCreate(string dir, int seed, int workers, int pages)
    {
        string file = Path.Combine(dir, "pagetest.conf");
        if (File.Exists(file))
        {
            var values = new Dictionary<string, int>();
            foreach (string line in File.ReadAllLines(file))
            {
                string[] pair = line.Split('=', 2);
                if (pair.Length == 2 && int.TryParse(pair[1].Trim(), System.Globalization.CultureInfo.InvariantCulture, out int value))
                    values[pair[0].Trim()] = value;
            }
            if (!values.TryGetValue("seed", out int s) || !values.TryGetValue("workers", out int w) || !values.TryGetValue("pages", out int p) || w < 1 || p < 4)
                throw new InvalidDataException($"\"{file}\" is damaged: it must hold seed=, workers= (at least 1) and pages= (at least 4)");
            return new PageTestConfig(s, w, p);
        }
        Directory.CreateDirectory(dir);
        File.WriteAllText(file, $"seed={seed}\nworkers={workers}\npages={pages}\n");
        return new PageTestConfig(seed, workers, pages);
    }
}

/// <summary>Acknowledgements kept outside the data directory: 12-byte (worker, op) entries, appended with write(2).</summary>
internal sealed class AckFile(string path) : IDisposable
{
    private readonly FileStream _stream = new(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite, bufferSize: 0);

    public void Append(int worker, ulong op)
    {
        Span<byte> entry = stackalloc byte[12];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(entry, worker);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(entry[4..], op);
        lock (_stream)
            _stream.Write(entry);
    }

    public static ulong[] Read(string? path, int workers)
    {
        var acked = new ulong[workers];
        if (path == null || !File.Exists(path))
            return acked;
        var bytes = File.ReadAllBytes(path);
        for (int at = 0; at + 12 <= bytes.Length; at += 12)
        {
            int worker = System.Buffers.Binary.BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(at));
            ulong op = System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(at + 4));
            if ((uint)worker < (uint)workers)
                acked[worker] = Math.Max(acked[worker], op);
        }
        return acked;
    }

    public void Dispose() => _stream.Dispose();
}
