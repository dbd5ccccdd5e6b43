// FailoverRound: one round of `pgwal demo --replication` / `pgwal torture --replication`. A kv
// primary runs in a worker process (16 clients, walsender, synchronous_standby_names) with two hot
// standbys here, made from a cold copy of it; at a random moment the worker is SIGKILLed, the
// standby with the highest flush position is promoted (the failover time is measured from the
// kill to the promoted store accepting writes), every commit the primary acknowledged is checked
// on it (no batch half there, the tree sound), and the other standby is pointed at it and must
// follow it onto the new timeline to the same content.
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;
using PgWal.Cli.Common;
using PgWal.Cli.Kv;
using PgWal.Kv;
using PgWal.Replication.Server;

namespace PgWal.Cli.Standby;

internal sealed class FailoverRound(string root, int clients, int seed, string synchronousStandbyNames)
{
    private const int SegmentSize = 4 << 20;
    private readonly string _password = Guid.NewGuid().ToString("N");

    public string PrimaryDirectory => Path.Combine(root, "primary");
    public string AckFile => Path.Combine(root, "acks.log");

    /// <summary>What the display shows while the primary runs.</summary>
    public sealed record Snapshot(double Seconds, long Commits, Lsn PrimaryFlush, IReadOnlyList<(string Name, Lsn Received, Lsn Replayed, bool Streaming)> Standbys);

    public sealed record Outcome(double KilledAfterSeconds, long Commits, ulong Acknowledged, ulong InFlightCommitted, string Promoted, Lsn PromotedFlush, Lsn OtherFlush,
        TimeSpan FailoverTime, TimeSpan FollowTime, Lsn SwitchPoint, PgWal.Kv.Tree.KvTreeReport Tree, string? Problem);

    public Outcome Run(TimeSpan minRun, TimeSpan maxRun, Random random, Action<Snapshot>? display)
    {
        if (Directory.Exists(root))
            Directory.Delete(root, recursive: true);
        Directory.CreateDirectory(root);
        // The primary, created and shut down here; the standbys start from cold copies of it.
        using (KvStore.Open(PrimaryDirectory, KvWorker.Options(PrimaryDirectory) with { Init = new WalInitOptions { SegmentSize = SegmentSize } }))
        {
        }
        string[] names = ["s1", "s2"];
        foreach (var name in names)
        {
            DirectoryCopy.Copy(PrimaryDirectory, Path.Combine(root, name));
            File.WriteAllText(Path.Combine(root, name, "standby.signal"), "");
        }
        int primaryPort = FreePort();
        var ports = names.ToDictionary(n => n, _ => FreePort());
        var start = SelfProcess.StartInfo(["kv", "worker", "-D", PrimaryDirectory, "--clients", clients.ToString(CultureInfo.InvariantCulture), "--seed", seed.ToString(CultureInfo.InvariantCulture),
            "--ack-file", AckFile, "--parent-pid", Environment.ProcessId.ToString(CultureInfo.InvariantCulture),
            "--listen", $"127.0.0.1:{primaryPort}", "--synchronous-standby-names", synchronousStandbyNames]);
        start.Environment["PGWAL_REPLICATION_PASSWORD"] = _password;
        start.RedirectStandardInput = start.RedirectStandardOutput = start.RedirectStandardError = true;
        using var worker = Process.Start(start) ?? throw new InvalidOperationException("could not start the worker process");
        var stderr = worker.StandardError.ReadToEndAsync();
        var standbys = new Dictionary<string, KvStore>();
        try
        {
            foreach (var name in names)
                standbys[name] = KvStore.Open(Path.Combine(root, name), StandbyOptions(name, primaryPort, ports[name]));
            long commits = 0;
            double seconds = 0;
            var killAt = TimeSpan.Zero;
            var clock = Stopwatch.StartNew();
            var runFor = minRun + TimeSpan.FromMilliseconds(random.NextDouble() * (maxRun - minRun).TotalMilliseconds);
            while (worker.StandardOutput.ReadLine() is { } line)
            {
                using var json = JsonDocument.Parse(line);
                var e = json.RootElement;
                if (e.GetProperty("event").GetString() != "progress")
                    continue;
                commits = e.GetProperty("commits").GetInt64();
                seconds = e.GetProperty("seconds").GetDouble();
                var flush = Lsn.Parse(e.GetProperty("flush_lsn").GetString()!);
                display?.Invoke(new Snapshot(seconds, commits, flush, [.. standbys.Select(s => (s.Key, s.Value.Instance.ReceivedUpTo, s.Value.Instance.ReplayedUpTo, s.Value.Instance.IsStreaming))]));
                // From the first acknowledged commit: every kill hits a primary whose standbys confirm.
                if (e.GetProperty("acknowledged").GetInt64() > 0 && killAt == TimeSpan.Zero)
                    killAt = clock.Elapsed + runFor;
                if (killAt != TimeSpan.Zero && clock.Elapsed >= killAt)
                    break;
            }
            if (worker.HasExited)
                throw new InvalidOperationException($"the primary's worker exited on its own (status {worker.ExitCode}): {stderr.Result.Trim().ReplaceLineEndings(" ")}");
            worker.Kill();   // SIGKILL
            var killed = Stopwatch.StartNew();
            worker.WaitForExit();
            return Failover(standbys, ports, seconds, commits, killed);
        }
        finally
        {
            if (!worker.HasExited)
                worker.Kill();
            foreach (var store in standbys.Values)
                store.Dispose();
        }
    }

    private Outcome Failover(Dictionary<string, KvStore> standbys, Dictionary<string, int> ports, double seconds, long commits, Stopwatch killed)
    {
        // The most advanced standby. Once the primary is gone each standby replays all its pg_wal
        // holds (also what its walreceiver wrote but had not yet reported flushed), so the positions
        // are compared once neither moves any more, as a failover manager compares them only when the
        // standbys are idle: promoting one that is behind another would leave that other one past
        // the fork, unable to follow.
        Lsn End(KvStore s) => Lsn.Max(s.Instance.ReceivedUpTo, s.Instance.ReplayedUpTo);
        var settle = Stopwatch.StartNew();
        var quiet = Stopwatch.StartNew();
        var last = standbys.Values.Select(End).ToArray();
        while (quiet.Elapsed < TimeSpan.FromMilliseconds(300) && settle.Elapsed < TimeSpan.FromSeconds(10))
        {
            Thread.Sleep(25);
            var now = standbys.Values.Select(End).ToArray();
            if (!now.SequenceEqual(last))
            {
                last = now;
                quiet.Restart();
            }
        }
        var (promotedName, promoted) = standbys.MaxBy(s => End(s.Value).Value);
        var (otherName, other) = standbys.First(s => s.Key != promotedName);
        Lsn promotedFlush = End(promoted), otherFlush = End(other);
        var recovery = promoted.Promote();
        var failoverTime = killed.Elapsed;
        var acked = PageTest.AckFile.Read(AckFile, clients);
        var models = Enumerable.Range(0, clients).Select(c => new KvTortureWorkload.ClientModel(seed, c)).ToArray();
        var (problem, total, inFlight, tree) = KvKillLoop.Check(promoted, acked, models);
        var follow = Stopwatch.StartNew();
        if (problem == null)
        {
            other.Instance.ChangePrimary(ConnInfo(otherName, ports[promotedName]));
            Lsn target = promoted.Instance.Wal.FlushedUpTo;
            var wait = other.Instance.WaitForReplayAsync(target).AsTask();
            if (!wait.Wait(TimeSpan.FromSeconds(60)))
                problem = $"{otherName} did not follow {promotedName}: replayed up to {other.Instance.ReplayedUpTo} on timeline {other.Instance.ReplayTimeline.Value}, the new primary is at {target}" +
                    (other.Instance.StandbyStreamError is { } error ? $" ({error})" : "");
            else if (other.Instance.ReplayTimeline != promoted.Instance.Wal.Options.Timeline)
                problem = $"{otherName} replays timeline {other.Instance.ReplayTimeline.Value}, the new primary writes timeline {promoted.Instance.Wal.Options.Timeline.Value}";
            else
                problem = SameContent(promoted, other, otherName);
        }
        return new Outcome(seconds, commits, total, inFlight, promotedName, promotedFlush, otherFlush, failoverTime, follow.Elapsed, recovery.EndOfWal, tree, problem);
    }

    private static string? SameContent(KvStore expected, KvStore actual, string name)
    {
        using var a = expected.Scan().GetEnumerator();
        using var b = actual.Scan().GetEnumerator();
        long n = 0;
        while (true)
        {
            bool more = a.MoveNext();
            if (more != b.MoveNext())
                return $"{name} has {(more ? "fewer" : "more")} keys than the new primary (after {n})";
            if (!more)
                break;
            if (!a.Current.Key.AsSpan().SequenceEqual(b.Current.Key) || !a.Current.Value.AsSpan().SequenceEqual(b.Current.Value))
                return $"{name} differs from the new primary at key {System.Text.Encoding.ASCII.GetString(a.Current.Key)}";
            n++;
        }
        var tree = actual.CheckTree();
        return tree.Problems.Count > 0 ? $"{name}'s tree: {string.Join("; ", tree.Problems)}" : null;
    }

    private string ConnInfo(string applicationName, int port)
        => $"host=127.0.0.1 port={port} user=replication password={_password} application_name={applicationName}";

    private KvOptions StandbyOptions(string name, int primaryPort, int ownPort)
    {
        var options = KvWorker.Options(Path.Combine(root, name));
        return options with
        {
            CreateIfMissing = false,
            Instance = options.Instance with
            {
                Standby = new PgWal.Standby.StandbyOptions
                {
                    PrimaryConnInfo = ConnInfo(name, primaryPort), StatusInterval = TimeSpan.FromSeconds(1), RetryInterval = TimeSpan.FromMilliseconds(200),
                    ConsistencyTimeout = TimeSpan.FromSeconds(60),
                },
                WalSender = new WalSenderOptions { Listen = new IPEndPoint(IPAddress.Loopback, ownPort) }.WithPassword("replication", _password),
                // wal_keep_size: the one promoted keeps the WAL a slower standby still needs to follow it.
                WalKeepSize = 64L << 20,
            },
        };
    }

    private static int FreePort()
    {
        using var probe = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }
}
