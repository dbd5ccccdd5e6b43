// TornTailTests: the ordinary crash the damage checks must never stop — a power loss tears the last
// WAL write (only some of its 512-byte sectors land). Both workloads on the simulated disk, with
// the tear forced to keep a prefix (valid records may then follow the torn one, as when sectors
// land out of order) and at random: recovery runs on its own, keeps every acknowledged op, and
// reports a kept copy only when valid records followed the tear. The damage matrix's "torn tail"
// row; the 1,000+ point power-loss tests cover the same at random.
using PgWal.Kv;
using PgWal.Recovery;
using PgWal.Tests.Crash;
using PgWal.Tests.Infrastructure;
using PgWal.Tests.Kv;

namespace PgWal.Tests.Durability;

[Collection(CrashCollection.Name)]
public sealed class TornTailTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(null)]
    public void KvStore_TornLastWalWrite_RecoversOnItsOwn_KeepingEveryAcknowledgedOp(int? keepSectors)
    {
        int crashes = 0;
        for (int seed = 1; seed <= 12; seed++)
        {
            var harness = new KvCrashHarness(seed, new KvModel(seed, keySpace: 200, longKeyPercent: 2));
            var store = harness.OpenAndVerify();
            harness.Disk.TearKeepSectors = keepSectors;
            harness.Disk.ArmCrash(new Random(seed).Next(5, 60), DiskOp.WalWrite);
            int ops = 0;
            if (harness.RunUntilCrash(store, () => ++ops > 2000 ? null : harness.Model.Next()))
            {
                crashes++;
                harness.Disk.PowerCycle();
            }
            else
            {
                store.Dispose();
            }
            using var recovered = harness.OpenAndVerify();      // throws on any loss or on a refused recovery
            Assert.True(recovered.Instance.Recovery.Damage is null or { Certain: false });
        }
        Assert.True(crashes >= 10, $"only {crashes} torn writes");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(null)]
    public void PageTest_TornLastWalWrite_RecoversOnItsOwn_KeepingEveryAcknowledgedOp(int? keepSectors)
    {
        int crashes = 0;
        for (int seed = 1; seed <= 12; seed++)
        {
            var harness = new PageTestHarness(seed);
            var instance = harness.OpenAndVerify();
            harness.Disk.TearKeepSectors = keepSectors;
            harness.Disk.ArmCrash(new Random(seed).Next(5, 60), DiskOp.WalWrite);
            if (harness.RunUntilCrash(instance, 3000))
            {
                crashes++;
                harness.Disk.PowerCycle();
            }
            else
            {
                instance.Dispose();
            }
            using var recovered = harness.OpenAndVerify();
            Assert.True(harness.LastRecovery?.Damage is null or { Certain: false });
        }
        Assert.True(crashes >= 10, $"only {crashes} torn writes");
    }
}

// A damaged record in the last segment with valid records after it, decided by proof: without a
// data page written beyond it (nothing proves the WAL there was ever durable: a torn write looks the
// same) recovery ends there and keeps a copy; with one (the WAL rule flushed the WAL there before
// the page was written) it is damage, and the open stops with every file as it was.
public sealed class LastSegmentDamageTests
{
    private static byte[] K(string s) => System.Text.Encoding.UTF8.GetBytes(s);

    private static KvOptions Options() => new()
    {
        Instance = new WalInstanceOptions { BackgroundCheckpointer = false, SharedBuffers = 4096 },
        Init = new WalInitOptions { SegmentSize = 1 << 20 },
    };

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void DamagedRecordFollowedByValidOnes(bool pageWrittenAfterIt)
    {
        using var dir = new TempDirectory("lastseg");
        var store = KvStore.Open(dir.Path, Options());
        for (int i = 0; i < 400; i++)
            store.Put(K($"k{i:D4}"), K($"value {i}"));
        Lsn middle = store.Instance.Wal.InsertedUpTo;
        for (int i = 400; i < 800; i++)
            store.Put(K($"k{i:D4}"), K($"value {i}"));
        if (pageWrittenAfterIt)
            store.Instance.Buffers.WriteDirtyForCheckpoint(null);   // as evictions would: after the WAL rule's flush
        store.Abandon();

        // Damage the first record that starts after `middle`.
        var geometry = new Format.WalGeometry(1 << 20);
        using (var reader = new Read.WalReader(new Storage.SegmentDirectorySource(Path.Combine(dir.Path, "pg_wal"), geometry.SegmentSize),
                   new Read.WalReaderOptions { SegmentSize = geometry.SegmentSize }))
        {
            Lsn target = reader.FindNextRecord(middle, out _);
            string file = Path.Combine(dir.Path, "pg_wal", Format.SegmentFileName.Format(TimelineId.First, geometry.SegmentOf(target), geometry));
            WalDamageMatrixTests.FlipByte(file, geometry.OffsetInSegment(target) + 20);
        }
        var before = DamageOracle.Hashes(dir.Path);
        if (pageWrittenAfterIt)
        {
            var error = Assert.Throws<WalDamagedException>(() => KvStore.Open(dir.Path, Options()));
            Assert.True(error.Report.Certain);
            Assert.Contains("data page(s) on disk carry LSNs", error.Report.Evidence);
            Assert.True(error.Report.Beyond.Commits > 100);
            Assert.Equal(before, DamageOracle.Hashes(dir.Path));
            return;
        }
        using var recovered = KvStore.Open(dir.Path, Options());
        var damage = recovered.Instance.Recovery.Damage!;
        Assert.False(damage.Certain);
        Assert.True(damage.Beyond.Commits > 100, damage.Describe());
        Assert.NotNull(damage.QuarantineDirectory);
        string name = Assert.Single(damage.Quarantined);
        Assert.Equal(before[Path.Combine("pg_wal", name)], DamageOracle.Hashes(Path.Combine(dir.Path, damage.QuarantineDirectory!))[name]);
        Assert.Equal(K("value 10"), recovered.Get(K("k0010")));
        Assert.Null(recovered.Get(K("k0790")));                     // lost with the tail, as PostgreSQL loses it
        Assert.Empty(recovered.CheckTree().Problems);
    }
}
