// CrashWalInteropTests: the WAL left by crash chains — recycled segments, overwritten torn
// records, end-of-recovery checkpoints — must be walked by PostgreSQL 15's pg_waldump from the
// oldest record still present to the last with exit status 0, seeing the records our reader sees.
using PgWal.Tests.Infrastructure;

namespace PgWal.Tests.Crash;

[Collection(CrashCollection.Name)]
public sealed class CrashWalInteropTests
{
    // With tearFirstHalf a multi-page WAL write keeps its first page only, so a record crossing
    // pages loses its continuation: recovery must overwrite it (XLOG_OVERWRITE_CONTRECORD), and
    // the chain stops at the first such recovery so the overwrite is still in the WAL we check.
    [Theory]
    [InlineData(101, false)]
    [InlineData(102, true)]
    public void PgWaldump_WalksWalWrittenAcrossCrashes(int seed, bool tearFirstHalf)
    {
        var harness = new PageTestHarness(seed) { CheckpointEvery = 400 };
        harness.Disk.TearKeepSectors = tearFirstHalf ? 16 : null;   // multi-page writes keep their first page
        var random = new Random(seed);
        bool overwritten = false;
        for (int c = 0; c < 200 && !(tearFirstHalf && overwritten); c++)
        {
            var instance = harness.OpenAndVerify();
            overwritten |= harness.LastRecovery!.AbortedRecord.IsValid;
            if (tearFirstHalf && overwritten)
            {
                instance.Dispose();
                break;
            }
            harness.Disk.ArmCrash(random.Next(1, 60), random.Next(2) == 0 ? DiskOp.WalWrite : null);
            if (harness.RunUntilCrash(instance, 1000))
                harness.Disk.PowerCycle();
            else
                instance.Dispose();
        }
        harness.OpenAndVerify().Dispose();

        string output = WaldumpWalk.AssertWalks(harness.Disk);
        if (tearFirstHalf)
        {
            Assert.True(overwritten, "no torn multi-page record was ever recovered");
            Assert.Contains("OVERWRITE_CONTRECORD", output, StringComparison.Ordinal);
        }
        Assert.Contains("custom200", output, StringComparison.Ordinal);
    }
}
