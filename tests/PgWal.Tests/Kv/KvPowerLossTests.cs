// KvPowerLossTests: PgWal.Kv on the simulated disk at ≥ 500 seeded crash points (any disk op, some
// aimed at checkpoints, control-file writes, segment renames and page write-backs); after each
// recovery the store equals the model — every acknowledged op, no partial batch — and the tree is
// sound. Then: a tree driven to four levels and back to one with crashes aimed inside splits,
// unlinks and root collapses; and the WAL of it all read end to end by pg_waldump 15.
using PgWal.Kv.Tree;
using PgWal.Tests.Crash;
using PgWal.Tests.Infrastructure;

namespace PgWal.Tests.Kv;

[Collection(CrashCollection.Name)]
public sealed class KvPowerLossTests
{
    private const int Seeds = 12;
    private const int CrashesPerSeed = 45;

    [Fact]
    public void PowerLoss_AtFiveHundredCrashPoints_KeepsEveryAcknowledgedOpAndNoPartialBatch()
    {
        var kinds = new System.Collections.Concurrent.ConcurrentDictionary<string, int>();
        int crashes = 0, batchesInFlight = 0;
        SimulatedDisk? walked = null;
        Parallel.For(1, Seeds + 1, new ParallelOptions { MaxDegreeOfParallelism = 2 }, seed =>
        {
            var harness = new KvCrashHarness(seed, new KvModel(seed * 31, keySpace: 300, longKeyPercent: 3));
            var random = new Random(seed * 7919);
            for (int c = 0; c < CrashesPerSeed; c++)
            {
                var store = harness.OpenAndVerify();
                int pick = random.Next(10);
                DiskOp? kind = pick switch { 0 => DiskOp.ControlWrite, 1 => DiskOp.Rename, 2 => DiskOp.DataSync, 3 => DiskOp.DataWrite, _ => null };
                harness.Disk.ArmCrash(kind == null ? random.Next(1, 300) : random.Next(1, 4), kind);
                int ops = 0;
                if (!harness.RunUntilCrash(store, () => ++ops > 3000 ? null : harness.Model.Next()))
                {
                    store.Dispose();
                    continue;
                }
                Interlocked.Increment(ref crashes);
                if (harness.InFlightRecords.Count > 1)
                    Interlocked.Increment(ref batchesInFlight);
                kinds.AddOrUpdate(harness.Disk.CrashedDuring + (harness.CrashedInCheckpoint ? " in checkpoint" : ""), 1, (_, n) => n + 1);
                harness.Disk.PowerCycle();
            }
            harness.OpenAndVerify().Dispose();
            if (seed == 1)
                walked = harness.Disk;
        });
        string summary = string.Join(", ", kinds.OrderBy(k => k.Key).Select(k => $"{k.Key}: {k.Value}")) + $"; multi-record ops in flight: {batchesInFlight}";
        Assert.True(crashes >= 500, $"only {crashes} crash points: {summary}");
        Assert.True(kinds.Where(k => k.Key.EndsWith("in checkpoint")).Sum(k => k.Value) >= 50, summary);
        Assert.True(batchesInFlight >= 20, summary);

        string output = WaldumpWalk.AssertWalks(walked!);   // the WAL of a whole crash chain, read by pg_waldump 15
        Assert.Contains("rmgr: custom140", output);
    }

    [Fact]
    public void TreeGrowsToFourLevelsAndShrinksBack_WithCrashesInsideSplitsUnlinksAndCollapses()
    {
        const int Keys = 700;
        var model = new KvModel(77, keySpace: Keys, longKeyPercent: 100);   // ~1 kB keys: few per page
        var harness = new KvCrashHarness(77, model, sharedBuffers: 64) { CheckpointEvery = 150 };
        var random = new Random(77);
        var order = Enumerable.Range(0, Keys).OrderBy(_ => random.Next()).ToList();
        int maxLevels = 0, structuralCrashes = 0, position = 0;
        var structural = new HashSet<byte> { KvRecords.Split, KvRecords.NewRoot, KvRecords.Unlink, KvRecords.Collapse };
        foreach (bool growing in new[] { true, false })
        {
            position = 0;
            var keys = growing ? order : order.OrderBy(_ => random.Next()).ToList();
            while (position < keys.Count)
            {
                var store = harness.OpenAndVerify();
                maxLevels = Math.Max(maxLevels, store.CheckTree().Levels);
                int armAfter = random.Next(1, 12);   // crash in the disk op after the n-th structural record
                store.RecordLogged = info =>
                {
                    harness.InFlightRecords.Add(info);
                    if (structural.Contains(info) && --armAfter == 0)
                        harness.Disk.ArmCrash(random.Next(1, 4));
                };
                bool crashed = harness.RunUntilCrash(store, () =>
                {
                    if (position >= keys.Count)
                        return null;
                    var key = model.Key(keys[position++]);
                    return new KvOp([(key, growing ? model.Value() : null)]);
                });
                if (!crashed)
                {
                    maxLevels = Math.Max(maxLevels, store.CheckTree().Levels);
                    store.Dispose();
                    break;
                }
                if (harness.InFlightRecords.Any(structural.Contains))
                    structuralCrashes++;
                position--;   // the op in flight is retried (idempotent)
                harness.Disk.PowerCycle();
            }
            if (growing)
                Assert.True(maxLevels >= 4, $"the tree reached only {maxLevels} levels");
        }
        using (var store = harness.OpenAndVerify())
        {
            var report = store.CheckTree();
            Assert.Equal(0, report.Keys);
            Assert.Equal(1, report.Levels);
            Assert.Equal(report.Blocks - 2, report.FreePages);   // every page but the meta page and the root leaf is free again
        }
        Assert.True(structuralCrashes >= 30, $"only {structuralCrashes} crashes inside structural changes");

        string output = WaldumpWalk.AssertWalks(harness.Disk);
        Assert.Contains("rmgr: custom140", output);
        Assert.Contains("desc: COMMIT", output);
    }
}
