// SignalTests: processes and signals. A kv worker never outlives the `pgwal demo` / `pgwal torture`
// that started it: SIGTERM of the parent kills the worker and ends the parent with 143, SIGKILL of
// the parent ends the worker through PR_SET_PDEATHSIG and its stdin pipe — checked by the worker's
// pid. A worker whose stdin pipe closes, or whose parent is not the one it was told, ends at once.
// SIGINT/SIGTERM of `pgwal bench` and `pgwal kv bench` end the run early with the summary (and the
// --json object) and exit 0. Runs alone (the workloads commit at full speed).
using System.Text.Json;
using PgWal.Tests.Crash;
using PgWal.Tests.Infrastructure;

namespace PgWal.Tests.Cli;

[Collection(CrashCollection.Name)]
public sealed class SignalTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Theory]
    [InlineData("demo", "TERM")]
    [InlineData("demo", "KILL")]
    [InlineData("torture", "TERM")]
    [InlineData("torture", "KILL")]
    public void KillingTheParent_LeavesNoWorkerRunning(string command, string signal)
    {
        using var dir = new TempDirectory("sig");
        string[] args = command == "demo"
            ? ["demo", "-D", dir.Combine("demo"), "--duration", "120", "--clients", "2", "--seed", "5"]
            : ["torture", "-D", dir.Combine("torture"), "-n", "1000", "--clients", "2", "--min-run-ms", "60000", "--max-run-ms", "90000"];
        using var parent = new ChildProcess(args);
        int worker = 0;
        parent.WaitUntil(() => (worker = ChildProcess.Children(parent.Id, "kv worker").FirstOrDefault()) != 0, Patience, "the worker's start");
        parent.WaitUntil(() => File.Exists(Path.Combine(dir.Path, command, "acks.log")) && new FileInfo(Path.Combine(dir.Path, command, "acks.log")).Length > 0,
            Patience, "the worker's first acknowledged commit");

        parent.Signal(signal);
        int exit = parent.WaitForExit(TimeSpan.FromSeconds(15));
        if (signal == "TERM")
        {
            Assert.True(exit == 143, $"expected 128 + SIGTERM: {parent.Describe()}");
            Assert.Contains($"pgwal {command}: SIGTERM received: worker process {worker} killed", parent.Stderr);
            CliAssert.NoInternals(parent.Stderr, parent.Describe());
        }
        else
        {
            Assert.Equal(137, exit);
        }
        AssertEnds(worker, parent.Describe());
    }

    [Fact]
    public void Worker_EndsWhenItsStdinPipeCloses()
    {
        using var dir = new TempDirectory("sig");
        using var worker = new ChildProcess(["kv", "-D", dir.Combine("data"), "worker", "--clients", "1", "--ack-file", dir.Combine("acks"),
            "--parent-pid", Environment.ProcessId.ToString()], redirectStdin: true);
        worker.WaitUntil(() => worker.Stdout.Contains("\"event\":\"progress\"", StringComparison.Ordinal), Patience, "the worker's progress");
        worker.StandardInput.Close();   // what the parent's death does to the pipe
        Assert.Equal(137, worker.WaitForExit(TimeSpan.FromSeconds(10)));   // SIGKILLed itself
    }

    [Fact]
    public void Worker_EndsAtOnce_WhenItsParentIsNotTheNamedOne()
    {
        using var dir = new TempDirectory("sig");
        using var worker = new ChildProcess(["kv", "-D", dir.Combine("data"), "worker", "--ack-file", dir.Combine("acks"), "--parent-pid", "1"], redirectStdin: true);
        Assert.Equal(137, worker.WaitForExit(TimeSpan.FromSeconds(10)));   // re-parented before its prctl: gone
        Assert.DoesNotContain("ready", worker.Stdout);
        Assert.False(Directory.Exists(dir.Combine("data")));
    }

    [Theory]
    [InlineData("bench", "INT")]
    [InlineData("bench", "TERM")]
    [InlineData("kv bench", "INT")]
    [InlineData("kv bench", "TERM")]
    public void Bench_OnSignal_PrintsTheSummaryAndExitsZero(string command, string signal)
    {
        using var dir = new TempDirectory("sig");
        string data = dir.Combine("data");
        string[] args = command == "bench"
            ? ["bench", "-D", data, "--duration", "120", "--flush", "each", "--workers", "2", "--json"]
            : ["kv", "-D", data, "bench", "--workload", "commit", "--keys", "100", "--clients", "2", "--duration", "120", "--json"];
        using var run = new ChildProcess(args);
        // The handlers are in place before the data directory is opened; postmaster.pid says it is.
        run.WaitUntil(() => File.Exists(Path.Combine(data, "postmaster.pid")), Patience, "the data directory's opening");
        Thread.Sleep(300);
        run.Signal(signal);
        Assert.True(run.WaitForExit(TimeSpan.FromSeconds(20)) == 0, run.Describe());
        Assert.Contains($"SIG{signal} received: stopping the run", run.Stderr);
        CliAssert.NoInternals(run.Stderr + run.Stdout, run.Describe());
        var json = JsonDocument.Parse(run.Stdout.TrimEnd().Split('\n')[^1]).RootElement;
        Assert.Equal("SIG" + signal, json.GetProperty("stopped_by").GetString());
        Assert.True(json.GetProperty("seconds").GetDouble() < 60, run.Describe());
        Assert.False(File.Exists(Path.Combine(data, "postmaster.pid")), "the data directory was not closed");
        var recover = PgTools.Pgwal(["recover", "-D", data]);
        Assert.True(recover.ExitCode == 0, recover.Stderr);
        if (command == "bench")
            Assert.Contains("shut down cleanly", recover.StdoutText);   // the run ended with a shutdown checkpoint
    }

    private static void AssertEnds(int worker, string context)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        while (ChildProcess.IsRunning(worker, "kv worker"))
        {
            if (DateTime.UtcNow > deadline)
            {
                ChildProcess.Send(worker, "KILL");   // leave nothing behind
                Assert.Fail($"worker {worker} still running 5 s after its parent ended: {context}");
            }
            Thread.Sleep(50);
        }
    }
}
