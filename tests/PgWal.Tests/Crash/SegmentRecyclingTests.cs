// SegmentRecyclingTests: under a long workload with max_wal_size = 8 segments, checkpoints
// triggered by WAL volume remove or recycle old segments, so the number of segment files stays
// bounded while the WAL written is six times max_wal_size. The bound: during a checkpoint the
// WAL since the previous redo point is still needed (up to max_wal_size plus what arrives while
// the checkpoint spreads its writes) and up to max_wal_size of recycled segments wait ahead — so
// at most twice max_wal_size plus the two segments being written and created.
// Whether a given background checkpoint recycles or removes depends on how far insertion has run
// past its redo point when it ends (as in PostgreSQL), so recycling itself — renamed to future
// names, then written over and read back through — is checked with explicit checkpoints.
using PgWal.Cli.PageTest;
using PgWal.Format;
using PgWal.Insert;
using PgWal.Tests.Infrastructure;

namespace PgWal.Tests.Crash;

[Collection(CrashCollection.Name)]
public sealed class SegmentRecyclingTests
{
    private static readonly WalGeometry Geometry = new(1 << 20);

    [Fact]
    public void LongWorkload_KeepsSegmentCountBounded()
    {
        var harness = new PageTestHarness(5);
        var options = harness.Options with { BackgroundCheckpointer = true, MaxWalSize = 8 << 20, MinWalSize = 2 << 20 };
        using var instance = WalInstance.Open(harness.Disk, options);
        var workload = new PageTestWorkload(instance, 5, PageTestHarness.Pages);
        var builder = new RecordBuilder();
        Lsn start = instance.Wal.InsertedUpTo;
        int most = 0;
        ulong[] next = [1, 1];
        for (int i = 0; instance.Wal.InsertedUpTo - start < 48UL << 20; i++)
        {
            int w = i % 2;
            instance.Wal.Flush(workload.Execute(builder, w, next[w]++));
            if (i % 50 == 0)
                most = Math.Max(most, SegmentsOnDisk(harness).Count);
        }
        Assert.True(instance.CheckpointsCompleted >= 5, $"{instance.CheckpointsCompleted} checkpoints");
        Assert.True(most <= 18, $"{most} segment files for max_wal_size of 8 segments");
    }

    [Fact]
    public void Checkpoint_RecyclesOldSegmentsIntoFutureNames_ThatTheWalThenOverwrites()
    {
        var harness = new PageTestHarness(6);
        var options = harness.Options with { MaxWalSize = 8 << 20, MinWalSize = 4 << 20 };
        var instance = WalInstance.Open(harness.Disk, options);
        var workload = new PageTestWorkload(instance, 6, PageTestHarness.Pages);
        var builder = new RecordBuilder();
        ulong[] next = [1, 1];
        void Run(ulong bytes)
        {
            Lsn from = instance.Wal.InsertedUpTo;
            for (int i = 0; instance.Wal.InsertedUpTo - from < bytes; i++)
            {
                int w = i % 2;
                instance.Wal.Flush(workload.Execute(builder, w, next[w]));
                harness.Acknowledge(w, next[w]++);
            }
        }

        Run(6UL << 20);
        var before = SegmentsOnDisk(harness);
        long renames = harness.Disk.Counts[DiskOp.Rename];
        var result = instance.Checkpoint();
        ulong redoSegment = Geometry.SegmentOf(result.Redo).Value;
        var after = SegmentsOnDisk(harness);

        Assert.True(result.SegmentsRecycled >= 2, $"recycled {result.SegmentsRecycled}, removed {result.SegmentsRemoved}");
        Assert.Equal((long)result.SegmentsRecycled, harness.Disk.Counts[DiskOp.Rename] - renames);
        Assert.Equal(before.Count - result.SegmentsRemoved, after.Count);
        Assert.All(after, s => Assert.True(s >= redoSegment, $"segment {s} before the redo segment {redoSegment} survived"));
        var future = after.Where(s => s > Geometry.SegmentOf(instance.Wal.InsertedUpTo).Value).ToList();
        Assert.Equal(result.SegmentsRecycled, future.Count);
        Assert.All(future, s => Assert.True(s <= redoSegment + 7, $"recycled into {s}, beyond max_wal_size from redo segment {redoSegment}"));

        // The WAL runs on into the recycled files (their old contents are stale WAL of earlier
        // segments), and recovery reads it back through them.
        Run((ulong)(future.Count + 1) << 20);
        instance.Abandon();
        harness.Disk.PowerCycle();
        harness.OpenAndVerify().Dispose();
        Assert.True(harness.LastRecovery!.Records > 0);

        // PostgreSQL's pg_waldump walks it too, across the recycled files.
        string output = WaldumpWalk.AssertWalks(harness.Disk);
        Assert.Contains("CHECKPOINT_SHUTDOWN", output, StringComparison.Ordinal);
    }

    private static List<ulong> SegmentsOnDisk(PageTestHarness harness) =>
        harness.Disk.Wal.ListFiles()
            .Select(f => SegmentFileName.TryParse(f, Geometry, out _, out var s) ? (ulong?)s.Value : null)
            .OfType<ulong>().Order().ToList();
}
