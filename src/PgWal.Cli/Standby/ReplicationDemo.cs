// ReplicationDemo: `pgwal demo --replication` (one failover round with a live display of the three
// nodes' positions and lags) and `pgwal torture --replication` (rounds again and again, with the
// failover times' median and worst). Both stop at the first failed check (exit 3).
using System.Diagnostics;
using PgWal.Cli.Common;

namespace PgWal.Cli.Standby;

internal static class ReplicationDemo
{
    public static int Demo(string root, int clients, double seconds, int seed, string synchronousStandbyNames)
    {
        var round = new FailoverRound(root, clients, seed, synchronousStandbyNames);
        Console.WriteLine($"pgwal demo --replication: a kv primary (worker process, {clients} clients, synchronous_standby_names = '{synchronousStandbyNames}') and two hot standbys s1, s2 on 127.0.0.1");
        Console.WriteLine($"  every commit is acknowledged (in {round.AckFile}) only once a synchronous standby flushed it; the primary will be killed (SIGKILL) within {seconds:F0} s (seed {seed})");
        var display = new Display();
        var o = round.Run(TimeSpan.FromSeconds(seconds / 2), TimeSpan.FromSeconds(seconds), new Random(seed), display.Show);
        display.End();
        Console.WriteLine($"SIGKILL: primary killed after {o.KilledAfterSeconds:F1} s, {o.Commits:N0} commits");
        Console.WriteLine($"failover: promoted {o.Promoted} (its WAL reaches {o.PromotedFlush}; the other's {o.OtherFlush}) in {o.FailoverTime.TotalMilliseconds:F0} ms from the kill to accepting writes; timeline 2 begins at {o.SwitchPoint}");
        if (o.Problem != null)
        {
            CommandBoundary.Error("pgwal demo", $"VERIFICATION FAILED: {o.Problem}");
            return ExitCodes.Runtime;
        }
        Console.WriteLine($"verify:   all {o.Acknowledged:N0} acknowledged commits are on the new primary ({o.InFlightCommitted} more committed just before the kill); no partial batch; tree sound ({o.Tree.Keys:N0} keys)");
        Console.WriteLine($"follow:   the other standby followed the new primary onto timeline 2 in {o.FollowTime.TotalMilliseconds:F0} ms and holds exactly its content");
        Console.WriteLine("pgwal demo --replication: OK. Look around:");
        Console.WriteLine($"  pgwal controldata {Path.Combine(root, o.Promoted)}");
        Console.WriteLine($"  cat {Path.Combine(root, o.Promoted, "pg_wal", "00000002.history")}");
        return ExitCodes.Success;
    }

    public static int Torture(string root, int rounds, int clients, TimeSpan minRun, TimeSpan maxRun, int seed, string synchronousStandbyNames)
    {
        var random = new Random(seed);
        var times = new List<double>();
        var clock = Stopwatch.StartNew();
        ulong acknowledged = 0;
        for (int i = 1; i <= rounds; i++)
        {
            var o = new FailoverRound(root, clients, seed + i, synchronousStandbyNames).Run(minRun, maxRun, random, null);
            if (o.Problem != null)
            {
                CommandBoundary.Error("pgwal torture", $"round {i} FAILED: {o.Problem}");
                return ExitCodes.Runtime;
            }
            times.Add(o.FailoverTime.TotalMilliseconds);
            acknowledged += o.Acknowledged;
            Console.WriteLine($"round {i}/{rounds}: primary killed after {o.KilledAfterSeconds:F2} s; promoted {o.Promoted} in {o.FailoverTime.TotalMilliseconds:F0} ms; " +
                $"{o.Acknowledged:N0} acknowledged commits present (+{o.InFlightCommitted} unacknowledged); the other standby followed in {o.FollowTime.TotalMilliseconds:F0} ms: ok");
        }
        times.Sort();
        Console.WriteLine($"pgwal torture --replication: {rounds} failovers survived in {clock.Elapsed.TotalSeconds:F0} s under '{synchronousStandbyNames}': {acknowledged:N0} acknowledged commits checked; " +
            $"failover time median {times[times.Count / 2]:F0} ms, worst {times[^1]:F0} ms; every check passed");
        return ExitCodes.Success;
    }

    private sealed class Display
    {
        private readonly bool _terminal = !Console.IsOutputRedirected;
        private double _lastPrinted = double.NegativeInfinity;
        private bool _printed;

        public void Show(FailoverRound.Snapshot s)
        {
            if (!_terminal && s.Seconds - _lastPrinted < 1)
                return;
            _lastPrinted = s.Seconds;
            var line = new System.Text.StringBuilder($"  [{s.Seconds,5:F1} s] commits {s.Commits,9:N0}  primary flushed {s.PrimaryFlush,-11}");
            foreach (var (name, received, replayed, streaming) in s.Standbys)
            {
                double lagKb = replayed.IsValid && s.PrimaryFlush > replayed ? (s.PrimaryFlush - replayed) / 1024.0 : 0;
                line.Append($" | {name} {(streaming ? "streaming" : "waiting  ")} received {(received.IsValid ? received.ToString() : "-"),-11} replayed {replayed,-11} lag {lagKb,7:F0} kB");
            }
            _printed = true;
            if (_terminal)
                Console.Write("\r" + line);
            else
                Console.WriteLine(line);
        }

        public void End()
        {
            if (_terminal && _printed)
                Console.WriteLine();
        }
    }
}
