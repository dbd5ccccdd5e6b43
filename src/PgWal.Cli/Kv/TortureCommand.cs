// TortureCommand: `pgwal torture` — the kill loop: run the kv workload in a worker process, SIGKILL
// it at a random moment, recover, check (a) acknowledged commits, (b) atomic batches, (c) tree
// invariants; repeat. Exits 3 at the first failed check, 0 after the iterations. SIGINT/SIGTERM
// kill the worker and end the run (InterruptKillsWorker).
using System.CommandLine;
using System.Diagnostics;
using PgWal.Cli.Common;

namespace PgWal.Cli.Kv;

internal static class TortureCommand
{
    public static Command Create()
    {
        var dir = CliOptions.DataDirectory("a new directory for the run (data directory and acknowledgement log)");
        var iterations = CliOptions.Int("--iterations", "-n", "kill/recover/verify iterations", 1, int.MaxValue, 100);
        var clients = CliOptions.Int("--clients", "-c", "concurrent clients", 1, KvWorker.MaxClients, 8);
        var minMs = CliOptions.Int("--min-run-ms", null, "shortest run before the kill (after the first commit)", 0, 3_600_000, 100);
        var maxMs = CliOptions.Int("--max-run-ms", null, "longest run before the kill", 0, 3_600_000, 2000);
        var seed = CliOptions.Int("--seed", null, "workload and kill-time seed", int.MinValue, int.MaxValue, 1);
        var replication = new Option<bool>("--replication") { Description = "failover rounds instead: a primary and two hot standbys, kill -9 of the primary, promotion, verification, the other standby following" };
        var syncNames = new Option<string>("--synchronous-standby-names") { Description = "with --replication: the primary's rule", DefaultValueFactory = _ => "ANY 1 (s1, s2)" };
        var command = new Command("torture", "Kill the kv workload at random moments, recover and verify, again and again")
        {
            dir, iterations, clients, minMs, maxMs, seed, replication, syncNames,
        };
        command.SetAction(p => CommandBoundary.Run("torture", () =>
        {
            string root = p.GetValue(dir)!;
            if (p.GetValue(minMs) > p.GetValue(maxMs))
                throw new UsageException($"--min-run-ms ({p.GetValue(minMs)}) must not be more than --max-run-ms ({p.GetValue(maxMs)})");
            PathChecks.DataDirectory(root);
            if (Directory.Exists(root) && Directory.EnumerateFileSystemEntries(root).Any())
                throw new IOException($"directory \"{root}\" is not empty; torture needs a new one");
            Directory.CreateDirectory(root);
            int n = p.GetValue(iterations), s = p.GetValue(seed);
            if (p.GetValue(replication))
                return Standby.ReplicationDemo.Torture(Path.Combine(root, "cluster"), n, p.GetValue(clients), TimeSpan.FromMilliseconds(p.GetValue(minMs)), TimeSpan.FromMilliseconds(p.GetValue(maxMs)), s, p.GetValue(syncNames)!);
            var loop = new KvKillLoop(root, p.GetValue(clients), s);
            using var interrupts = new InterruptKillsWorker("pgwal torture", loop);
            var random = new Random(s);
            var clock = Stopwatch.StartNew();
            ulong acknowledged = 0;
            long records = 0, discarded = 0;
            for (int i = 1; i <= n; i++)
            {
                var o = loop.Iterate(TimeSpan.FromMilliseconds(p.GetValue(minMs)), TimeSpan.FromMilliseconds(p.GetValue(maxMs)), random, null);
                if (o.Problem != null)
                {
                    CommandBoundary.Error("pgwal torture", $"iteration {i} FAILED: {o.Problem}");
                    return ExitCodes.Runtime;
                }
                acknowledged = o.Acknowledged;
                records += o.Recovery.Records;
                discarded += o.Recovery.TransactionsDiscarded;
                Console.WriteLine($"iteration {i}/{n}: killed after {o.LastProgress.Seconds:F2} s; recovered {o.Recovery.Records:N0} records in {o.Recovery.Elapsed.TotalMilliseconds:F0} ms; "
                    + $"{o.Acknowledged:N0} acknowledged commits present (+{o.CommittedUnacknowledged} unacknowledged), {o.Recovery.TransactionsDiscarded} unfinished discarded; tree {o.Tree.Levels} levels, {o.Tree.Keys} keys: ok");
            }
            Console.WriteLine($"pgwal torture: {n} kills survived in {clock.Elapsed.TotalSeconds:F0} s: {acknowledged:N0} acknowledged commits, {records:N0} records replayed, {discarded} unfinished transactions discarded; every check passed");
            return 0;
        }));
        return command;
    }
}
