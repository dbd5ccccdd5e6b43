// TortureCommand: `pgwal torture` — the kill loop: run the kv workload in a worker process, SIGKILL
// it at a random moment, recover, check (a) acknowledged commits, (b) atomic batches, (c) tree
// invariants; repeat. Exits 2 at the first failed check, 0 after the iterations.
using System.CommandLine;
using System.Diagnostics;
using PgWal.Cli.DataDir;

namespace PgWal.Cli.Kv;

internal static class TortureCommand
{
    public static Command Create()
    {
        var dir = new Option<string>("--pgdata", "-D") { Description = "a new directory for the run (data directory and acknowledgement log)", Required = true };
        var iterations = new Option<int>("--iterations", "-n") { Description = "kill/recover/verify iterations", DefaultValueFactory = _ => 100 };
        var clients = new Option<int>("--clients", "-c") { Description = "concurrent clients", DefaultValueFactory = _ => 8 };
        var minMs = new Option<int>("--min-run-ms") { Description = "shortest run before the kill (after the first commit)", DefaultValueFactory = _ => 100 };
        var maxMs = new Option<int>("--max-run-ms") { Description = "longest run before the kill", DefaultValueFactory = _ => 2000 };
        var seed = new Option<int>("--seed") { Description = "workload and kill-time seed", DefaultValueFactory = _ => 1 };
        var command = new Command("torture", "Kill the kv workload at random moments, recover and verify, again and again")
        {
            dir, iterations, clients, minMs, maxMs, seed,
        };
        command.SetAction(p => DataDirCommands.Guard("torture", () =>
        {
            string root = p.GetValue(dir)!;
            if (Directory.Exists(root) && Directory.EnumerateFileSystemEntries(root).Any())
                throw new IOException($"directory \"{root}\" is not empty; torture needs a new one");
            Directory.CreateDirectory(root);
            int n = p.GetValue(iterations), s = p.GetValue(seed);
            var loop = new KvKillLoop(root, p.GetValue(clients), s);
            var random = new Random(s);
            var clock = Stopwatch.StartNew();
            ulong acknowledged = 0;
            long records = 0, discarded = 0;
            for (int i = 1; i <= n; i++)
            {
                var o = loop.Iterate(TimeSpan.FromMilliseconds(p.GetValue(minMs)), TimeSpan.FromMilliseconds(p.GetValue(maxMs)), random, null);
                if (o.Problem != null)
                {
                    Console.Error.WriteLine($"pgwal torture: iteration {i} FAILED: {o.Problem}");
                    return 2;
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
