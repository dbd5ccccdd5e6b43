// PowerLossTests: ≥ 1,000 seeded crash points on the simulated disk. Each seed runs a chain of
// crashes — crash, power-cycle, recover, verify against the model, continue, crash again — with
// crash points drawn over every kind of disk operation, and some aimed at control-file writes,
// segment renames (recycling) and data-file syncs (checkpoints). After each recovery every
// acknowledged op is present and every page equals the model (nothing half-applied); at the end
// of each chain pg_waldump 15 walks the WAL it left.
using PgWal.Tests.Infrastructure;

namespace PgWal.Tests.Crash;

[Collection(CrashCollection.Name)]
public sealed class PowerLossTests
{
    private const int Seeds = 24;
    private const int CrashesPerSeed = 48;

    [Fact]
    public void PowerLoss_AtOverAThousandCrashPoints_RecoversEveryAcknowledgedOpAndMatchesTheModel()
    {
        var kinds = new System.Collections.Concurrent.ConcurrentDictionary<string, int>();
        int crashes = 0;
        Parallel.For(1, Seeds + 1, new ParallelOptions { MaxDegreeOfParallelism = 2 }, seed =>
        {
            var harness = new PageTestHarness(seed);
            var random = new Random(seed * 7919);
            for (int c = 0; c < CrashesPerSeed; c++)
            {
                var instance = harness.OpenAndVerify();
                int pick = random.Next(10);
                DiskOp? kind = pick switch { 0 => DiskOp.ControlWrite, 1 => DiskOp.Rename, 2 => DiskOp.DataSync, 3 => DiskOp.DataWrite, _ => null };
                harness.Disk.ArmCrash(kind == null ? random.Next(1, 400) : random.Next(1, 4), kind);
                if (!harness.RunUntilCrash(instance, 2000))
                {
                    instance.Dispose();
                    continue;
                }
                Interlocked.Increment(ref crashes);
                kinds.AddOrUpdate(harness.Disk.CrashedDuring + (harness.CrashedInCheckpoint ? " in checkpoint" : ""), 1, (_, n) => n + 1);
                harness.Disk.PowerCycle();
            }
            harness.OpenAndVerify().Dispose();

            // PostgreSQL's pg_waldump walks what the chain of crashes left, end to end.
            WaldumpWalk.AssertWalks(harness.Disk);
        });
        string summary = string.Join(", ", kinds.OrderBy(k => k.Key).Select(k => $"{k.Key}: {k.Value}"));
        Assert.True(crashes >= 1000, $"only {crashes} crash points: {summary}");
        Assert.True(kinds.Where(k => k.Key.EndsWith("in checkpoint")).Sum(k => k.Value) >= 100, summary);
        Assert.True(kinds.GetValueOrDefault("ControlWrite in checkpoint") >= 20, summary);
        Assert.True(kinds.GetValueOrDefault("Rename in checkpoint") >= 20, summary);
    }
}
