// ProcessKillTests: `pgwal pagetest` in a child process (4 workers committing durably, 1 MB
// segments, checkpoints every second and by WAL volume) is killed with SIGKILL at random moments;
// after each kill the data directory is reopened (crash recovery) and every worker is checked
// against the model and the acknowledgements the child wrote before each commit returned.
// PGWAL_KILL_ITERATIONS overrides the count (bench/crash-loop.sh runs a longer loop).
using System.Diagnostics;
using PgWal.Cli.PageTest;
using PgWal.Recovery;
using PgWal.Tests.Infrastructure;

namespace PgWal.Tests.Crash;

[Collection(CrashCollection.Name)]
public sealed class ProcessKillTests
{
    [Fact]
    public async Task Sigkill_AtRandomMoments_LosesNoAcknowledgedOp()
    {
        int iterations = int.TryParse(Environment.GetEnvironmentVariable("PGWAL_KILL_ITERATIONS"), out int n) ? n : 30;
        using var dir = new TempDirectory("kill");
        string data = Path.Combine(dir.Path, "data"), acks = Path.Combine(dir.Path, "acks");
        var random = new Random(4242);
        long recovered = 0;
        ulong lastTotal = 0;
        for (int i = 0; i < iterations; i++)
        {
            var psi = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "pgwal.dll"), "pagetest", "-D", data, "--workers", "4", "--pages", "64",
                         "--ack-file", acks, "--duration", "60", "--wal-segsize", "1", "--max-wal-size", "4", "--checkpoint-timeout", "1", "--shared-buffers", "48" })
                psi.ArgumentList.Add(a);
            using (var child = Process.Start(psi)!)
            {
                _ = child.StandardOutput.ReadToEndAsync();
                var stderr = child.StandardError.ReadToEndAsync();
                // Kill at a random moment after the child has recovered and committed something new.
                long before = File.Exists(acks) ? new FileInfo(acks).Length : 0;
                for (int waited = 0; (File.Exists(acks) ? new FileInfo(acks).Length : 0) == before && !child.HasExited; waited += 20)
                {
                    if (waited > 60_000)
                        Assert.Fail("pagetest committed nothing within 60 s");
                    await Task.Delay(20);
                }
                await Task.Delay(random.Next(0, 1500));
                if (child.HasExited)
                    Assert.Fail($"pagetest exited early: {await stderr}");
                child.Kill();              // SIGKILL
                await child.WaitForExitAsync();
            }
            var conf = PageTestConfig.LoadOrCreate(data, 0, 0, 0);
            var acked = AckFile.Read(acks, conf.Workers);
            var options = new WalInstanceOptions
            {
                ResourceManagers = new ResourceManagerRegistry().Register(PageTestResourceManager.Instance),
                BackgroundCheckpointer = false,
                SharedBuffers = 512,
            };
            using var instance = WalInstance.Open(data, options);
            if (instance.Recovery.CrashRecovery)
                recovered++;
            var workload = new PageTestWorkload(instance, conf.Seed, conf.Pages);
            for (int w = 0; w < conf.Workers; w++)
            {
                if (workload.Verify(w, acked[w]) is { } problem)
                    Assert.Fail($"iteration {i}: {problem}; recovery {instance.Recovery}");
            }
            lastTotal = acked.Aggregate(0UL, (a, b) => a + b);
        }
        Assert.Equal(iterations, recovered);   // every kill hit a running workload
        var bytes = new byte[Format.ControlFileData.FileSize];
        new Storage.FileSystemDataDirectory(data).Control.Read(bytes);
        WaldumpWalk.AssertWalks(Path.Combine(data, "pg_wal"), Format.ControlFileData.Decode(bytes));
        Assert.True(lastTotal > (ulong)iterations * 10, $"only {lastTotal} acknowledged ops over {iterations} runs");
    }
}
