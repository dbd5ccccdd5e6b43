// DemoCommand: `pgwal demo [-D DIR]` — the README's main job. Creates a data directory, runs the
// kv workload in a worker process with a live display (commits/s, WAL MB/s, fsyncs/s, checkpoints,
// buffer hit rate), SIGKILLs the worker at a random moment, recovers, verifies every acknowledged
// commit against the acknowledgement log kept outside the store, and prints what recovery did.
// SIGINT/SIGTERM kill the worker and end the demo (InterruptKillsWorker).
using System.CommandLine;
using PgWal.Cli.Common;

namespace PgWal.Cli.Kv;

internal static class DemoCommand
{
    public static Command Create()
    {
        var dir = CliOptions.DataDirectory("where to put the demo (a new directory; a previous demo there is replaced)", defaultValue: "pgwal-demo");
        var clients = CliOptions.Int("--clients", "-c", "concurrent clients committing batches", 1, KvWorker.MaxClients, 16);
        var duration = CliOptions.Seconds("--duration", "-T", "the worker is killed at a random moment between half this and this many seconds", 1, 86400, 10);
        var seed = CliOptions.OptionalInt("--seed", null, "workload and kill-time seed (default: random)", int.MinValue, int.MaxValue);
        var pitr = new Option<bool>("--pitr") { Description = "point-in-time recovery instead: archive, base backup while clients write, restore point, an accident, restore to just before it, verify" };
        var replication = new Option<bool>("--replication") { Description = "failover instead: a primary and two hot standbys under synchronous replication, kill -9 of the primary, promotion, verification, the other standby following" };
        var syncNames = new Option<string>("--synchronous-standby-names") { Description = "with --replication: the primary's rule", DefaultValueFactory = _ => "ANY 1 (s1, s2)" };
        var command = new Command("demo", "Run a crash-safe key-value workload, kill it at a random moment, recover and verify") { dir, clients, duration, seed, pitr, replication, syncNames };
        command.SetAction(p => CommandBoundary.Run("demo", () =>
        {
            int s = p.GetValue(seed) ?? Random.Shared.Next(1, 1_000_000);
            if (p.GetValue(replication))
            {
                PathChecks.DataDirectory(p.GetValue(dir)!);
                Prepare(p.GetValue(dir)!);
                return Standby.ReplicationDemo.Demo(Path.Combine(p.GetValue(dir)!, "cluster"), p.GetValue(clients), p.GetValue(duration), s, p.GetValue(syncNames)!);
            }
            if (!p.GetValue(pitr))
                return Run(p.GetValue(dir)!, p.GetValue(clients), p.GetValue(duration), s);
            PathChecks.DataDirectory(p.GetValue(dir)!);
            Prepare(p.GetValue(dir)!);
            return PitrDemo.Run(p.GetValue(dir)!, Math.Min(p.GetValue(duration), 30), s);
        }));
        return command;
    }

    private static int Run(string root, int clients, double seconds, int seed)
    {
        PathChecks.DataDirectory(root);
        Prepare(root);
        var loop = new KvKillLoop(root, clients, seed);
        using var interrupts = new InterruptKillsWorker("pgwal demo", loop);
        Console.WriteLine($"pgwal demo: {clients} clients commit atomic batches (1-4 puts/deletes, values 8 B-300 kB) to a PgWal.Kv store in {loop.DataDirectory}");
        Console.WriteLine($"  every commit is durable (fdatasync, group commit) before it is logged to {loop.AckFile}; the worker process will be killed (SIGKILL) within {seconds:F0} s (seed {seed})");
        var display = new ProgressDisplay();
        var outcome = loop.Iterate(TimeSpan.FromSeconds(seconds / 2), TimeSpan.FromSeconds(seconds), new Random(seed), display.Show);
        display.End();
        var p = outcome.LastProgress;
        Console.WriteLine($"SIGKILL: worker killed after {p.Seconds:F1} s of work, {p.Commits:N0} commits, {p.WalBytes / 1048576.0:F1} MB of WAL, {p.Checkpoints} checkpoints");
        var r = outcome.Recovery;
        Console.WriteLine($"recovery: redo from {r.RedoStart} (checkpoint {r.Checkpoint}) to {r.EndOfWal}: {r.Records:N0} records, {r.Bytes / 1048576.0:F1} MB in {r.Elapsed.TotalMilliseconds:F0} ms ({r.MegabytesPerSecond:F0} MB/s), {r.ImagesRestored:N0} full-page images restored");
        Console.WriteLine($"          {r.TransactionsCommitted:N0} commits replayed, {r.TransactionsDiscarded} unfinished transaction(s) discarded; WAL ended: {r.EndReason}");
        var t = outcome.Tree;
        if (outcome.Problem != null)
        {
            CommandBoundary.Error("pgwal demo", $"VERIFICATION FAILED: {outcome.Problem}");
            return ExitCodes.Runtime;
        }
        Console.WriteLine($"verify:   all {outcome.Acknowledged:N0} acknowledged commits present ({outcome.CommittedUnacknowledged} more committed just before the kill, not yet acknowledged); no partial batch");
        Console.WriteLine($"          tree sound: {t.Levels} levels, {t.Keys:N0} keys, {t.LeafPages} leaf + {t.InternalPages} internal + {t.OverflowPages} overflow + {t.FreePages} free pages, every block accounted for");
        // The segment where replay ended still holds the last records before the kill (older ones may be recycled).
        var geometry = new Format.WalGeometry(outcome.SegmentSize);
        string segment = Format.SegmentFileName.Format(TimelineId.First, geometry.SegmentOf(r.EndOfWal), geometry);
        Console.WriteLine("pgwal demo: OK. Look around:");
        Console.WriteLine($"  pgwal kv -D {loop.DataDirectory} scan --limit 10");
        Console.WriteLine($"  pgwal controldata {loop.DataDirectory}");
        Console.WriteLine($"  pgwal waldump -p {loop.DataDirectory}/pg_wal -r kv -n 20 {segment}       (or PostgreSQL's pg_waldump: rmgr custom140)");
        return 0;
    }

    // A fresh directory: refuse to touch anything that is not a previous demo.
    private static void Prepare(string root)
    {
        string marker = Path.Combine(root, "PGWAL_DEMO");
        if (Directory.Exists(root) && Directory.EnumerateFileSystemEntries(root).Any())
        {
            if (!File.Exists(marker))
                throw new IOException($"directory \"{root}\" exists and is not a pgwal demo directory; choose another with -D");
            Directory.Delete(root, recursive: true);
        }
        Directory.CreateDirectory(root);
        File.WriteAllText(marker, "created by pgwal demo; removed by the next pgwal demo run here\n");
    }

    /// <summary>Live progress: one rewritten line on a terminal, a line per second otherwise.</summary>
    internal sealed class ProgressDisplay
    {
        private KvKillLoop.Progress? _previous;
        private double _lastPrinted = double.NegativeInfinity;
        private readonly bool _terminal = !Console.IsOutputRedirected;

        public void Show(KvKillLoop.Progress p)
        {
            var prev = _previous;
            _previous = p;
            if (prev == null || p.Seconds <= prev.Seconds || (!_terminal && p.Seconds - _lastPrinted < 1))
                return;
            _lastPrinted = p.Seconds;
            double dt = p.Seconds - prev.Seconds;
            long lookups = p.BufferHits + p.BufferReads;
            string line = $"  [{p.Seconds,5:F1} s] commits/s {(p.Commits - prev.Commits) / dt,8:N0}  WAL {(p.WalBytes - prev.WalBytes) / dt / 1048576.0,6:F1} MB/s  fsyncs/s {(p.Fsyncs - prev.Fsyncs) / dt,7:N0}  checkpoints {p.Checkpoints,3}  buffer hits {(lookups == 0 ? 100 : 100.0 * p.BufferHits / lookups),5:F1}%  commits {p.Commits,10:N0}";
            if (_terminal)
                Console.Write("\r" + line);
            else
                Console.WriteLine(line);
        }

        public void End()
        {
            if (_terminal && _previous != null)
                Console.WriteLine();
        }
    }
}
