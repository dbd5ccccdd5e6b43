// FullPageWriteTests: a data page torn by a crash during a checkpoint's write-back. With
// full_page_writes the first change after the previous checkpoint carried the page's image, so
// recovery restores it; without, the torn page is read during redo and its checksum exposes it.
using PgWal.Cli.PageTest;
using PgWal.Insert;
using PgWal.Pages;
using PgWal.Tests.Infrastructure;

namespace PgWal.Tests.Crash;

public sealed class FullPageWriteTests
{
    // Checkpoint; change pages (durable commits); then a checkpoint whose first page write is torn
    // by a power loss: its first sector (header, LSN, checksum) new, the rest old.
    private static PageTestHarness TearOnePage(bool fullPageWrites)
    {
        var harness = new PageTestHarness(77, fullPageWrites) { CheckpointEvery = 1_000_000 };
        var instance = harness.OpenAndVerify();
        Assert.False(harness.RunUntilCrash(instance, 200));    // init every page and change them for a while
        instance.Checkpoint();
        var workload = new PageTestWorkload(instance, 77, PageTestHarness.Pages);
        ulong next = workload.LastApplied(0) + 1;
        for (int i = 0; i < 30; i++, next++)
        {
            instance.Wal.Flush(workload.Execute(new RecordBuilder(), 0, next));
            harness.Acknowledge(0, next);
        }
        Assert.True(instance.Buffers.DirtyCount >= 1);
        harness.Disk.TearKeepSectors = 1;
        harness.Disk.ArmCrash(1, DiskOp.DataWrite);
        Assert.ThrowsAny<IOException>(() => instance.Checkpoint());
        instance.Abandon();
        harness.Disk.PowerCycle();
        return harness;
    }

    [Fact]
    public void TornDataPage_IsRepairedFromItsFullPageImage()
    {
        var harness = TearOnePage(fullPageWrites: true);
        using (var instance = harness.OpenAndVerify())         // every page equals the model
            Assert.True(instance.Recovery.ImagesRestored >= 1);

        // pg_waldump 15 walks the WAL, full-page images and the end-of-recovery checkpoint included.
        string output = WaldumpWalk.AssertWalks(harness.Disk);
        Assert.Contains("FPW", output, StringComparison.Ordinal);
    }

    [Fact]
    public void TornDataPage_WithoutFullPageWrites_IsDetectedByItsChecksum()
    {
        var harness = TearOnePage(fullPageWrites: false);
        var e = Assert.Throws<PageCorruptedException>(() => harness.OpenAndVerify());
        Assert.Matches(@"invalid page in block \d+ of relation base/5/16384: page verification failed, calculated checksum \d+ but expected \d+", e.Message);
    }
}
