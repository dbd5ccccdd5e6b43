// KvWorker: `pgwal kv worker` — the workload process `pgwal demo` and `pgwal torture` run and kill.
// Opens the store (recovering it), then N client threads commit the torture workload's batches,
// each durable before its (client, op) is appended to the acknowledgement file, which lives
// outside the data directory. Prints one JSON line when ready and one every 250 ms with the
// counters the demo displays. Runs until killed (or --duration). Started with --parent-pid, it
// dies with that parent however the parent ends (ParentWatch). With --listen it serves its WAL
// (password from PGWAL_REPLICATION_PASSWORD) and with --synchronous-standby-names a commit is
// acknowledged only once the standbys that rule names confirm it (the failover rounds).
using System.CommandLine;
using System.Diagnostics;
using PgWal.Cli.Common;
using PgWal.Cli.PageTest;
using PgWal.Kv;

namespace PgWal.Cli.Kv;

internal static class KvWorker
{
    public static Command Create(Option<string> dir)
    {
        var clients = CliOptions.Int("--clients", "-c", "client threads", 1, MaxClients, 8);
        var seed = CliOptions.Int("--seed", null, "workload seed", int.MinValue, int.MaxValue, 1);
        var ackFile = CliOptions.Path("--ack-file", null, "acknowledgement log (keep it outside the data directory)");
        ackFile.Required = true;
        var duration = CliOptions.Seconds("--duration", "-T", "seconds to run (0 = until killed)", 0, 365 * 86400, 0);
        var listen = new Option<string?>("--listen") { Description = "serve the WAL here (address:port; password from PGWAL_REPLICATION_PASSWORD)" };
        var syncNames = new Option<string?>("--synchronous-standby-names") { Description = "synchronous_standby_names (with --listen)" };
        var parent = CliOptions.Int("--parent-pid", null, "die with this process: the parent that started the worker (0 = none)", 0, int.MaxValue, 0);
        parent.Hidden = true;
        var command = new Command("worker", "Run the demo/torture workload until killed (used by `pgwal demo` and `pgwal torture`)")
        {
            clients, seed, ackFile, duration, parent, listen, syncNames,
        };
        command.SetAction(p => CommandBoundary.Run("kv worker", () =>
        {
            if (p.GetValue(parent) is > 0 and var parentPid)
                ParentWatch.DieWithParent(parentPid);
            string path = p.GetValue(dir)!, acks = p.GetValue(ackFile)!;
            PathChecks.DataDirectory(path);
            PathChecks.FileToWrite(acks, "acknowledgement file");
            var options = Options(path);
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
            return Run(path, options, p.GetValue(clients), p.GetValue(seed), acks, p.GetValue(duration));
        }));
        return command;
    }

    /// <summary>Clients are named c00..c99 in the keys (KvTortureWorkload).</summary>
    public const int MaxClients = 99;

    /// <summary>The instance settings demo, torture and their verifier share: small enough that checkpoints and evictions happen in seconds.</summary>
    /// <remarks>Archiving follows the data directory's postgresql.conf (archive_mode, archive_command, archive_timeout).</remarks>
    public static KvOptions Options(string dataDirectory) => new()
    {
        Instance = Recovery.RecoveryConfigFile.ApplyArchiveSettings(dataDirectory, new WalInstanceOptions
        {
            SharedBuffers = 2048,
            CheckpointTimeout = TimeSpan.FromSeconds(3),
            MaxWalSize = 64L << 20,
            MinWalSize = 32L << 20,
        }),
    };

    private static int Run(string path, KvOptions options, int clients, int seed, string ackPath, double seconds)
    {
        using var store = KvStore.Open(path, options);
        using var acks = new AckFile(ackPath);
        var r = store.Instance.Recovery;
        Emit(new Dictionary<string, object?> { ["event"] = "ready", ["pid"] = Environment.ProcessId, ["crash_recovery"] = r.CrashRecovery, ["records"] = r.Records });
        var clock = Stopwatch.StartNew();
        var threads = new Thread[clients];
        long acknowledged = 0;
        Exception? failure = null;
        for (int c = 0; c < clients; c++)
        {
            int client = c;
            threads[c] = new Thread(() =>
            {
                try
                {
                    var batch = new WriteBatch();
                    ulong seq = KvTortureWorkload.LastApplied(store, client);
                    while ((seconds <= 0 || clock.Elapsed.TotalSeconds < seconds) && Volatile.Read(ref failure) == null)
                    {
                        store.Write(KvTortureWorkload.Batch(seed, client, ++seq, batch));
                        acks.Append(client, seq);
                        Interlocked.Increment(ref acknowledged);
                    }
                }
                catch (Exception e)
                {
                    Interlocked.CompareExchange(ref failure, e, null);
                }
            }) { IsBackground = true, Name = $"kv client {client}" };
            threads[c].Start();
        }
        while (threads.Any(t => t.IsAlive))
        {
            Thread.Sleep(250);
            var wal = store.Instance.Wal.Stats;
            var buffers = store.Instance.Buffers.Counters;
            Emit(new Dictionary<string, object?>
            {
                ["event"] = "progress", ["seconds"] = Math.Round(clock.Elapsed.TotalSeconds, 3), ["commits"] = store.Counters.Commits,
                ["wal_bytes"] = wal.Bytes, ["fsyncs"] = wal.Syncs, ["checkpoints"] = store.Instance.CheckpointsCompleted,
                ["buffer_hits"] = buffers.Hits, ["buffer_reads"] = buffers.Reads, ["flush_lsn"] = store.Instance.Wal.FlushedUpTo.ToString(),
                ["acknowledged"] = Interlocked.Read(ref acknowledged),
            });
        }
        if (failure != null)
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
        return 0;
    }

    private static void Emit(Dictionary<string, object?> line)
    {
        Console.Out.WriteLine(CliJson.Line(line));
        Console.Out.Flush();
    }
}
