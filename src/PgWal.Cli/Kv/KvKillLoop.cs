// KvKillLoop: one kill-and-recover iteration of `pgwal demo` / `pgwal torture`. Starts the worker
// process, lets it commit for a while, SIGKILLs it at a random moment, then opens the store here
// (crash recovery) and checks (a) every acknowledged batch is present, (b) no batch is partially
// visible — each client's keys equal the model after exactly the op the store says committed
// last, which is the acknowledged one or the one in flight — and (c) the tree's invariants.
// The worker dies with this process (ParentWatch: --parent-pid, PR_SET_PDEATHSIG, a stdin pipe it
// watches for EOF); Interrupt, for SIGINT/SIGTERM, kills it and starts no other. Iterate must run
// on a thread that lives as long as the process (the main thread): PR_SET_PDEATHSIG fires when the
// thread that started the worker exits.
using System.Diagnostics;
using System.Text.Json;
using PgWal.Cli.Common;
using PgWal.Cli.PageTest;
using PgWal.Kv;
using PgWal.Kv.Tree;
using PgWal.Recovery;

namespace PgWal.Cli.Kv;

internal sealed class KvKillLoop(string root, int clients, int seed)
{
    private readonly KvTortureWorkload.ClientModel[] _models = Enumerable.Range(0, clients).Select(c => new KvTortureWorkload.ClientModel(seed, c)).ToArray();

    private readonly Lock _gate = new();
    private Process? _worker;      // the running worker; guarded by _gate
    private bool _interrupted;     // no worker may start any more; guarded by _gate

    public string DataDirectory { get; } = Path.Combine(root, "data");
    public string AckFile { get; } = Path.Combine(root, "acks.log");

    /// <summary>What the worker reported last before it was killed.</summary>
    public sealed record Progress(double Seconds, long Commits, long WalBytes, long Fsyncs, long Checkpoints, long BufferHits, long BufferReads);

    public sealed record Outcome(Progress LastProgress, TimeSpan KilledAfter, RecoveryResult Recovery, ulong Acknowledged, ulong CommittedUnacknowledged, KvTreeReport Tree, string? Problem, int SegmentSize);

    /// <summary>Runs the worker until a random moment in [minRun, maxRun] after it first committed, kills it, recovers, verifies.</summary>
    public Outcome Iterate(TimeSpan minRun, TimeSpan maxRun, Random random, Action<Progress>? onProgress)
    {
        var start = SelfProcess.StartInfo(["kv", "worker", "-D", DataDirectory, "--clients", clients.ToString(), "--seed", seed.ToString(), "--ack-file", AckFile,
                                           "--parent-pid", Environment.ProcessId.ToString()]);
        start.RedirectStandardInput = start.RedirectStandardOutput = start.RedirectStandardError = true;
        Process? child = null;
        lock (_gate)
        {
            if (!_interrupted)
                child = _worker = Process.Start(start) ?? throw new InvalidOperationException("could not start the worker process");
        }
        if (child == null)
            WaitForExit();   // interrupted: the signal handler ends the process
        using var started = child;
        var stderr = child.StandardError.ReadToEndAsync();
        var last = new Progress(0, 0, 0, 0, 0, 0, 0);
        var killAt = TimeSpan.Zero;
        var clock = Stopwatch.StartNew();
        TimeSpan runFor = minRun + TimeSpan.FromMilliseconds(random.NextDouble() * (maxRun - minRun).TotalMilliseconds);
        while (child.StandardOutput.ReadLine() is { } line)
        {
            using var json = JsonDocument.Parse(line);
            var e = json.RootElement;
            if (e.GetProperty("event").GetString() != "progress")
                continue;
            last = new Progress(e.GetProperty("seconds").GetDouble(), e.GetProperty("commits").GetInt64(), e.GetProperty("wal_bytes").GetInt64(),
                e.GetProperty("fsyncs").GetInt64(), e.GetProperty("checkpoints").GetInt64(), e.GetProperty("buffer_hits").GetInt64(), e.GetProperty("buffer_reads").GetInt64());
            onProgress?.Invoke(last);
            if (last.Commits > 0 && killAt == TimeSpan.Zero)
                killAt = clock.Elapsed + runFor;   // count from the first commit: every kill hits a running workload
            if (killAt != TimeSpan.Zero && clock.Elapsed >= killAt)
                break;
        }
        bool interrupted;
        lock (_gate)
        {
            interrupted = _interrupted;
            _worker = null;
        }
        if (interrupted)
            WaitForExit();   // the signal handler killed the worker and ends the process
        if (child.HasExited)
            throw new InvalidOperationException($"the worker exited on its own (status {child.ExitCode}): {stderr.Result.Trim().ReplaceLineEndings(" ")}");
        child.Kill();   // SIGKILL
        child.WaitForExit();
        var killedAfter = clock.Elapsed;
        return Verify(last, killedAfter);
    }

    /// <summary>
    /// For SIGINT/SIGTERM: no worker starts any more, the running one (if any) is SIGKILLed and
    /// waited for. Returns its process id, or 0 when none was running. The caller ends the process.
    /// </summary>
    public int Interrupt()
    {
        Process? worker;
        lock (_gate)
        {
            _interrupted = true;
            worker = _worker;
        }
        if (worker == null)
            return 0;
        try
        {
            int pid = worker.Id;
            worker.Kill();
            worker.WaitForExit(TimeSpan.FromSeconds(10));
            return pid;
        }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            return 0;   // it had exited already
        }
    }

    // The process is being ended by Interrupt's caller: this thread must not start or report anything.
    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private static void WaitForExit()
    {
        while (true)
            Thread.Sleep(Timeout.Infinite);
    }

    private Outcome Verify(Progress last, TimeSpan killedAfter)
    {
        var acked = PageTest.AckFile.Read(AckFile, clients);
        var options = KvWorker.Options(DataDirectory);
        using var store = KvStore.Open(DataDirectory, options with { Instance = options.Instance with { BackgroundCheckpointer = false } });
        var (problem, total, inFlightCommitted, tree) = Check(store, acked, _models);
        return new Outcome(last, killedAfter, store.Instance.Recovery, total, inFlightCommitted, tree, problem, (int)store.Instance.ControlFile.WalSegmentSize);
    }

    /// <summary>
    /// The verdict on a store after its writer died: (a) every acknowledged batch is there, (b) each
    /// client's keys equal its model after exactly the op the store holds (the acknowledged one or the
    /// one in flight), (c) the tree's invariants hold. Returns the first problem (or null), the
    /// acknowledged total, the in-flight ops that committed, and the tree report.
    /// </summary>
    public static (string? Problem, ulong Acknowledged, ulong InFlightCommitted, KvTreeReport Tree) Check(KvStore store, ulong[] acked, KvTortureWorkload.ClientModel[] models)
    {
        string? problem = null;
        ulong inFlightCommitted = 0;
        for (int c = 0; c < acked.Length && problem == null; c++)
        {
            ulong applied = KvTortureWorkload.LastApplied(store, c);
            if (applied < acked[c])
                problem = $"(a) client {c}: op {acked[c]} was acknowledged but the store holds only up to op {applied}";
            else if (applied > acked[c] + 1)
                problem = $"client {c}: the store holds op {applied}, but only op {acked[c]} was acknowledged and one more can be in flight";
            else
            {
                inFlightCommitted += applied - acked[c];
                models[c].AdvanceTo(applied);
                problem = models[c].Compare(store) is { } difference ? "(b) " + difference : null;
            }
        }
        var tree = store.CheckTree();
        if (problem == null && tree.Problems.Count > 0)
            problem = "(c) tree: " + string.Join("; ", tree.Problems);
        ulong total = 0;
        foreach (var a in acked)
            total += a;
        return (problem, total, inFlightCommitted, tree);
    }
}
