// KvBench: `pgwal kv bench` — YCSB-style workloads on a PgWal.Kv store. load inserts keys 0..N-1
// in batches; commit updates one random key per durable commit; read looks up random keys; A/B/C
// are YCSB's 50/50, 95/5 and read-only mixes. Keys are the zero-padded decimal of their number
// (16 bytes by default, as bench/compare-kv.sh gives SQLite and PostgreSQL), chosen uniformly or
// by a scrambled zipfian (YCSB's, theta 0.99). Live progress on stderr; a summary (ops/s, latency
// percentiles, WAL MB/s, fsyncs/s, checkpoints), and with --json one JSON object as the last line.
// SIGINT/SIGTERM end the run early: the summary covers what ran, the store is closed cleanly.
using System.CommandLine;
using System.Diagnostics;
using System.Text;
using PgWal.Cli.Bench;
using PgWal.Cli.Common;
using PgWal.Kv;

namespace PgWal.Cli.Kv;

internal static class KvBench
{
    public static Command Create(Option<string> dir)
    {
        var workload = CliOptions.Choice("--workload", "-w", "load | commit | read | A (50% reads, 50% updates) | B (95/5) | C (reads only)", "A", "load", "commit", "read", "A", "B", "C");
        var keys = CliOptions.Long("--keys", "-k", "keys in the store (load inserts them)", 1, 1_000_000_000_000, 100_000);
        var keySize = CliOptions.Int("--key-size", null, "key length in bytes (zero-padded decimal)", 1, KvStore.MaxKeyLength, 16);
        var valueSize = CliOptions.Int("--value-size", null, "value length in bytes", 0, KvStore.MaxValueLength, 100);
        var batch = CliOptions.Int("--batch", null, "keys per commit when loading", 1, 1_000_000, 1000);
        var clients = CliOptions.Int("--clients", "-c", "concurrent clients (threads)", 1, 1024, 16);
        var duration = CliOptions.Seconds("--duration", "-T", "seconds to run (not for load)", 0.001, 86400, 10);
        var distribution = CliOptions.Choice("--distribution", null, "key popularity", "uniform", "uniform", "zipfian");
        var async = new Option<bool>("--async-commit") { Description = "asynchronous commit (returns before the WAL is durable)" };
        var buffers = CliOptions.Int("--shared-buffers", null, "buffer pool size in 8 kB pages", 16, PageTest.PageTestCommand.MaxSharedBuffers, 32768);
        var json = new Option<bool>("--json") { Description = "print the result as one JSON object (last line)" };
        var listen = new Option<string?>("--listen") { Description = "serve the WAL here while benchmarking (address:port; password from PGWAL_REPLICATION_PASSWORD)" };
        var syncNames = new Option<string?>("--synchronous-standby-names") { Description = "with --listen: commits wait for these standbys" };
        var syncLevel = new Option<string?>("--synchronous-commit") { Description = "off, local, remote_write, on, remote_apply (default on; --async-commit is off)" };
        var standbys = CliOptions.Int("--wait-for-standbys", null, "with --listen: start only once this many standbys stream", 0, 100, 0);
        var command = new Command("bench", "YCSB-style benchmark of the key-value store (SIGINT/SIGTERM end the run early, with its summary)")
        {
            workload, keys, keySize, valueSize, batch, clients, duration, distribution, async, buffers, json, listen, syncNames, syncLevel, standbys,
        };
        command.SetAction(p => CommandBoundary.Run("kv bench", () =>
        {
            var s = new Settings(p.GetValue(workload)!, p.GetValue(keys), p.GetValue(keySize), p.GetValue(valueSize), p.GetValue(batch),
                p.GetValue(clients), p.GetValue(duration), p.GetValue(distribution) == "zipfian", p.GetValue(json));
            s.Validate();
            string path = p.GetValue(dir)!;
            PathChecks.DataDirectory(path);
            var options = new KvOptions
            {
                SynchronousCommit = p.GetValue(async) ? PgWal.Replication.Sync.SynchronousCommitLevel.Off : PgWal.Replication.Sync.SynchronousCommitLevel.On,
                Instance = Recovery.RecoveryConfigFile.ApplyArchiveSettings(path, new WalInstanceOptions { SharedBuffers = p.GetValue(buffers) }),
            };
            if (p.GetValue(syncLevel) is { } levelName)
            {
                if (!PgWal.Replication.Sync.SynchronousCommitLevels.TryParse(levelName, out var level))
                    throw new UsageException($"invalid --synchronous-commit \"{levelName}\": expected one of {PgWal.Replication.Sync.SynchronousCommitLevels.AvailableValues}");
                options = options with { SynchronousCommit = level };
            }
            if (p.GetValue(listen) is { } address)
            {
                options = options with
                {
                    Instance = options.Instance with
                    {
                        WalSender = KvServeCommand.SenderOptions(address, null, "replication", null, null, null),
                        SynchronousStandbyNames = p.GetValue(syncNames) ?? "",
                    },
                };
            }
            using var signals = new StopSignals();
            using var store = KvStore.Open(path, options);
            WaitForStandbys(store, p.GetValue(standbys), signals.Token);
            return Run(store, s, signals);
        }));
        return command;
    }

    internal sealed record Settings(string Workload, long Keys, int KeySize, int ValueSize, int Batch, int Clients, double Seconds, bool Zipfian, bool Json)
    {
        /// <summary>What the options cannot check one by one.</summary>
        public void Validate()
        {
            int digits = (Keys - 1).ToString(System.Globalization.CultureInfo.InvariantCulture).Length;
            if (KeySize < digits)
                throw new UsageException($"--key-size ({KeySize}) must hold the largest key number, {Keys - 1}, in decimal: at least {digits} bytes");
        }

        /// <summary>The read share of the mix (load/commit: 0).</summary>
        public int ReadPercent => Workload switch { "read" or "C" => 100, "A" => 50, "B" => 95, _ => 0 };
    }

    // A benchmark of synchronous commits starts once its standbys stream (until then commits only wait).
    private static void WaitForStandbys(KvStore store, int count, CancellationToken stop)
    {
        if (count == 0)
            return;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(120);
        Console.Error.WriteLine($"pgwal kv bench: waiting for {count} standby(s) to stream from {store.Instance.WalSender?.EndPoint}");
        while (store.Instance.WalSender!.Snapshot().Count(w => w.State == "streaming") < count)
        {
            if (DateTime.UtcNow > deadline || stop.IsCancellationRequested)
                throw new TimeoutException($"only {store.Instance.WalSender.Snapshot().Count(w => w.State == "streaming")} of {count} standbys stream after 120 s");
            Thread.Sleep(100);
        }
    }

    internal static byte[] Key(long i, int size) => Encoding.ASCII.GetBytes(i.ToString().PadLeft(size, '0'));

    private static int Run(KvStore store, Settings s, StopSignals signals)
    {
        var stop = signals.Token;
        var wal0 = store.Instance.Wal.Stats;
        long checkpoints0 = store.Instance.CheckpointsCompleted;
        var histograms = new LatencyHistogram[s.Clients];
        long ops = 0;
        var clock = Stopwatch.StartNew();
        var threads = new Thread[s.Clients];
        long nextLoad = 0;
        var generator = s.Zipfian ? new ScrambledZipfian(s.Keys) : null;
        Exception? failure = null;   // the first client's error stops every client and is reported
        for (int c = 0; c < s.Clients; c++)
        {
            int client = c;
            histograms[c] = new LatencyHistogram();
            threads[c] = new Thread(() =>
            {
                try
                {
                    RunClient(client);
                }
                catch (Exception e)
                {
                    Interlocked.CompareExchange(ref failure, e, null);
                }
            }) { IsBackground = true, Name = $"kv bench client {client}" };
            threads[c].Start();
        }

        void RunClient(int client)
        {
            var random = new Random(client * 7919 + 1);
            var value = new byte[s.ValueSize];
            var h = histograms[client];
            var batch = new WriteBatch();
            while (Volatile.Read(ref failure) == null && !stop.IsCancellationRequested)
            {
                long t0 = Stopwatch.GetTimestamp();
                if (s.Workload == "load")
                {
                    long first = Interlocked.Add(ref nextLoad, s.Batch) - s.Batch;
                    if (first >= s.Keys)
                        return;
                    batch.Clear();
                    for (long k = first; k < Math.Min(first + s.Batch, s.Keys); k++)
                    {
                        random.NextBytes(value);
                        batch.Put(Key(k, s.KeySize), value);
                    }
                    store.Write(batch);
                    Interlocked.Add(ref ops, batch.Count);
                }
                else
                {
                    if (clock.Elapsed.TotalSeconds >= s.Seconds)
                        return;
                    long k = generator?.Next(random) ?? random.NextInt64(s.Keys);
                    var key = Key(k, s.KeySize);
                    if (random.Next(100) < s.ReadPercent)
                    {
                        store.Get(key);
                    }
                    else
                    {
                        random.NextBytes(value);
                        store.Put(key, value);
                    }
                    Interlocked.Increment(ref ops);
                }
                h.Record((Stopwatch.GetTimestamp() - t0) * 1_000_000 / Stopwatch.Frequency);
            }
        }
        long lastOps = 0;
        var lastTime = TimeSpan.Zero;
        // A thread can end between two looks at IsAlive (a signal stops them all at once), so
        // the one to wait on is taken in a single look.
        while (threads.FirstOrDefault(t => t.IsAlive) is { } alive)
        {
            alive.Join(1000);
            var now = clock.Elapsed;
            long done = Interlocked.Read(ref ops);
            if (now - lastTime >= TimeSpan.FromSeconds(1) && !s.Json)
            {
                Console.Error.WriteLine($"kv bench {s.Workload}: {now.TotalSeconds,5:F1} s  {(done - lastOps) / (now - lastTime).TotalSeconds,10:N0} ops/s  {done,12:N0} ops  checkpoints {store.Instance.CheckpointsCompleted - checkpoints0}");
                (lastOps, lastTime) = (done, now);
            }
        }
        if (failure != null)
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
        double seconds = clock.Elapsed.TotalSeconds;
        var all = new LatencyHistogram();
        foreach (var h in histograms)
            all.Merge(h);
        var wal = store.Instance.Wal.Stats;
        double walMb = (wal.Bytes - wal0.Bytes) / 1048576.0;
        var buffers = store.Instance.Buffers.Counters;
        var result = new Dictionary<string, object?>
        {
            ["workload"] = s.Workload, ["clients"] = s.Clients, ["distribution"] = s.Zipfian ? "zipfian" : "uniform", ["ops"] = ops,
            ["seconds"] = Math.Round(seconds, 3), ["ops_per_sec"] = Math.Round(ops / seconds, 1),
            ["p50_us"] = all.Percentile(0.5), ["p99_us"] = all.Percentile(0.99), ["max_us"] = all.Max,
            ["wal_mb_per_sec"] = Math.Round(walMb / seconds, 2), ["fsyncs_per_sec"] = Math.Round((wal.Syncs - wal0.Syncs) / seconds, 1),
            ["checkpoints"] = store.Instance.CheckpointsCompleted - checkpoints0,
            ["buffer_hit_rate"] = Math.Round(buffers.Hits / (double)Math.Max(1, buffers.Hits + buffers.Reads), 4),
        };
        if (signals.Received is { } signal)
            result["stopped_by"] = signal;
        if (s.Json)
        {
            Console.WriteLine(CliJson.Line(result));
            return 0;
        }
        string unit = s.Workload == "load" ? "keys" : "ops";
        Console.WriteLine($"kv bench {s.Workload}: {ops:N0} {unit} by {s.Clients} clients in {seconds:F1} s = {ops / seconds:N0} {unit}/s");
        Console.WriteLine($"  latency per {(s.Workload == "load" ? $"batch of {s.Batch}" : "op")}: p50 {all.Percentile(0.5)} us, p99 {all.Percentile(0.99)} us, max {all.Max} us");
        Console.WriteLine($"  WAL {walMb / seconds:F1} MB/s, fsyncs {(wal.Syncs - wal0.Syncs) / seconds:N0}/s, checkpoints {result["checkpoints"]}, buffer hit rate {100 * (double)result["buffer_hit_rate"]!:F2} %");
        if (signals.Received != null)
            Console.WriteLine($"  stopped early by {signals.Received}");
        return 0;
    }
}

/// <summary>YCSB's scrambled zipfian generator (theta 0.99): popular items spread over the key space by an FNV hash.</summary>
internal sealed class ScrambledZipfian
{
    private const double Theta = 0.99;
    private readonly long _items;
    private readonly double _alpha, _zetan, _eta, _zeta2;

    public ScrambledZipfian(long items)
    {
        _items = items;
        _zeta2 = Zeta(2);
        _zetan = Zeta(items);
        _alpha = 1.0 / (1.0 - Theta);
        _eta = (1 - Math.Pow(2.0 / items, 1 - Theta)) / (1 - _zeta2 / _zetan);
    }

    private static double Zeta(long n)
    {
        double sum = 0;
        for (long i = 1; i <= n; i++)
            sum += 1 / Math.Pow(i, Theta);
        return sum;
    }

    public long Next(Random random)
    {
        double u = random.NextDouble(), uz = u * _zetan;
        long rank = uz < 1 ? 0 : uz < 1 + Math.Pow(0.5, Theta) ? 1 : (long)(_items * Math.Pow(_eta * u - _eta + 1, _alpha));
        ulong hash = 0xCBF29CE484222325UL;
        for (int b = 0; b < 8; b++)
        {
            hash ^= (ulong)(rank >> (8 * b)) & 0xFF;
            hash *= 0x100000001B3UL;
        }
        return (long)(hash % (ulong)_items);
    }
}
