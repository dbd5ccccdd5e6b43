// SegmentRecyclingTests: under a long workload with max_wal_size = 4 segments, checkpoints
// triggered by WAL volume remove or recycle old segments, so the number of segment files stays
// bounded while the WAL written is twelve times max_wal_size. The bound: during a checkpoint the
// WAL since the previous redo point is still needed (up to max_wal_size plus what arrives while
// the checkpoint spreads its writes) and up to max_wal_size of recycled segments wait ahead — so
// at most twice max_wal_size plus the two segments being written and created.
using PgWal.Cli.PageTest;
using PgWal.Format;
using PgWal.Insert;
using PgWal.Tests.Infrastructure;

namespace PgWal.Tests.Crash;

[Collection(CrashCollection.Name)]
public sealed class SegmentRecyclingTests
{
    [Fact]
    public void LongWorkload_KeepsSegmentCountBounded()
    {
        var harness = new PageTestHarness(5);
        var options = harness.Options with { BackgroundCheckpointer = true, MaxWalSize = 4 << 20, MinWalSize = 2 << 20 };
        using var instance = WalInstance.Open(harness.Disk, options);
        var workload = new PageTestWorkload(instance, 5, PageTestHarness.Pages);
        var builder = new RecordBuilder();
        Lsn start = instance.Wal.InsertedUpTo;
        var geometry = new WalGeometry(1 << 20);
        int most = 0;
        ulong[] next = [1, 1];
        for (int i = 0; instance.Wal.InsertedUpTo - start < 48UL << 20; i++)
        {
            int w = i % 2;
            instance.Wal.Flush(workload.Execute(builder, w, next[w]++));
            if (i % 50 == 0)
                most = Math.Max(most, harness.Disk.Wal.ListFiles().Count(f => SegmentFileName.TryParse(f, geometry, out _, out _)));
        }
        Assert.True(instance.CheckpointsCompleted >= 5, $"{instance.CheckpointsCompleted} checkpoints");
        Assert.True(most <= 10, $"{most} segment files for max_wal_size of 4 segments");
        Assert.True(harness.Disk.Counts[DiskOp.Rename] > 0, "no segment was recycled");
    }
}
