// KvFailureTests: the store when things go wrong in the middle of a transaction, and around one.
// A checkpoint that wants its redo point while a transaction is between its first record and its
// commit stamp waits (DELAY_CHKPT_START), so the next change of the page still logs a full-page
// image and a torn write of it is repaired. A failure half-way through a batch PANICs: neither a
// checkpoint nor a reader queued behind it ever sees the half-done batch, and reopening recovers.
// A batch whose pages cannot fit the pool is refused up front; a second open of a directory too.
using PgWal.Kv;
using PgWal.Tests.Crash;
using PgWal.Tests.Infrastructure;
using PgWal.Write;

namespace PgWal.Tests.Kv;

[Collection(CrashCollection.Name)]
public sealed class KvFailureTests
{
    private static KvOptions DiskOptions(int seed) => new()
    {
        Instance = new WalInstanceOptions
        {
            Wal = new WalOptions { WalWriterDelay = TimeSpan.Zero, PreallocateSegments = 0, WalBuffers = 256 * 1024 },
            SharedBuffers = 64,
            BackgroundCheckpointer = false,
        },
        Init = new WalInitOptions { SegmentSize = 1 << 20, DataChecksums = true, SystemIdentifier = 7200000000000000000UL + (ulong)seed },
    };

    private static KvOptions DirectoryOptions() => new()
    {
        Instance = new WalInstanceOptions { SharedBuffers = 256, BackgroundCheckpointer = false },
        Init = new WalInitOptions { SegmentSize = 1 << 20 },
    };

    private static byte[] K(string s) => System.Text.Encoding.ASCII.GetBytes(s);

    [Fact]
    public void CheckpointRequestedMidTransaction_WaitsForTheCommit_SoTheNextChangeLogsAnImage_AndATornPageIsRepaired()
    {
        var disk = new SimulatedDisk(1);
        var options = DiskOptions(1);
        var store = KvStore.Open(disk, options);
        for (int i = 0; i < 20; i++)
            store.Put(K($"key{i:D3}"), new byte[100]);
        store.Instance.Checkpoint();

        Thread? checkpoint = null;
        Lsn before = store.Instance.Wal.RedoPointer;
        bool movedMidTransaction = false;
        store.RecordLogged = _ =>
        {
            if (checkpoint != null)
                return;
            checkpoint = new Thread(() => store.Instance.Checkpoint());
            checkpoint.Start();
            movedMidTransaction = SpinWait.SpinUntil(() => store.Instance.Wal.RedoPointer != before, 300);
        };
        store.Put(K("key100"), new byte[100]);          // T1 changes the leaf; the checkpoint asks meanwhile
        store.RecordLogged = null;
        Assert.True(checkpoint!.Join(10_000));
        Assert.False(movedMidTransaction, "the redo point moved between the transaction's record and its commit");
        Assert.NotEqual(before, store.Instance.Wal.RedoPointer);

        long images = store.Instance.Wal.Stats.FullPageImages;
        store.Put(K("key101"), new byte[100]);          // T2: the leaf's first change after the redo point
        Assert.True(store.Instance.Wal.Stats.FullPageImages > images, "T2 logged no full-page image");

        disk.TearKeepSectors = 1;                       // the leaf's next write is torn by a power loss
        disk.ArmCrash(1, DiskOp.DataWrite);
        Assert.ThrowsAny<Exception>(() => store.Instance.Checkpoint());
        Assert.True(disk.Crashed);
        store.Abandon();
        disk.PowerCycle();
        using var reopened = KvStore.Open(disk, options);
        Assert.Empty(reopened.CheckTree().Problems);
        Assert.NotNull(reopened.Get(K("key100")));
        Assert.NotNull(reopened.Get(K("key101")));
    }

    [Fact]
    public void FailureMidBatch_WhileACheckpointWaits_NothingOfTheBatchReachesDisk()
    {
        for (int attempt = 0; attempt < 5; attempt++)
        {
            var disk = new SimulatedDisk(2 + attempt);
            var options = DiskOptions(2 + attempt);
            var store = KvStore.Open(disk, options);
            store.Put(K("a"), K("1"));
            store.Instance.Checkpoint();
            Thread? checkpoint = null;
            Exception? checkpointError = null;
            store.RecordLogged = _ =>
            {
                store.Instance.Wal.Flush();          // as the WAL writer would: the record is durable
                checkpoint = new Thread(() =>
                {
                    try
                    {
                        store.Instance.Checkpoint();
                    }
                    catch (Exception e)
                    {
                        checkpointError = e;
                    }
                });
                checkpoint.Start();
                Thread.Sleep(100);
                throw new IOException("simulated failure in the middle of the batch");
            };
            Assert.Throws<IOException>(() => store.Write(new WriteBatch().Put(K("b"), K("uncommitted")).Put(K("c"), K("x"))));
            Assert.True(checkpoint!.Join(10_000));
            Assert.NotNull(checkpointError);        // the PANIC stopped it
            var after = Assert.Throws<InvalidOperationException>(() => store.Get(K("a")));
            Assert.Contains("must be reopened", after.Message);
            using var reopened = KvStore.Open(disk, options);   // the process lives on: no power loss
            Assert.Null(reopened.Get(K("b")));
            Assert.Null(reopened.Get(K("c")));
            Assert.Equal(K("1"), reopened.Get(K("a")));
            Assert.Empty(reopened.CheckTree().Problems);
        }
    }

    [Fact]
    public void ReaderQueuedBehindAFailingBatch_GetsAnError_NotHalfTheBatch()
    {
        using var dir = new TempDirectory();
        var store = KvStore.Open(dir.Path, DirectoryOptions());
        store.Put(K("a"), K("1"));
        Thread? reader = null;
        object? seen = null;
        store.RecordLogged = _ =>
        {
            reader = new Thread(() =>
            {
                try
                {
                    seen = store.Get(K("x"));
                }
                catch (Exception e)
                {
                    seen = e;
                }
            });
            reader.Start();
            Thread.Sleep(200);                       // the reader now waits for the read lock
            throw new IOException("simulated failure in the middle of the batch");
        };
        Assert.Throws<IOException>(() => store.Write(new WriteBatch().Put(K("x"), K("uncommitted")).Put(K("y"), K("2"))));
        Assert.True(reader!.Join(10_000));
        Assert.IsType<InvalidOperationException>(seen);
        store.Dispose();
        using var reopened = KvStore.Open(dir.Path, DirectoryOptions());
        Assert.Null(reopened.Get(K("x")));
        Assert.Equal(K("1"), reopened.Get(K("a")));
    }

    [Fact]
    public void BatchFreeingLargeValues_FitsASmallPool_AndATooLargeBatchIsRefusedUpFront()
    {
        using var dir = new TempDirectory();
        using var store = KvStore.Open(dir.Path, DirectoryOptions());
        for (int i = 0; i < 3; i++)
            store.Put(K($"big{i}"), new byte[700_000]);   // 86 overflow pages each; the pool has 256
        store.Write(new WriteBatch().Delete(K("big0")).Delete(K("big1")).Put(K("big2"), K("small")));
        Assert.Null(store.Get(K("big0")));
        Assert.Equal(K("small"), store.Get(K("big2")));
        var report = store.CheckTree();
        Assert.Empty(report.Problems);
        Assert.True(report.FreePages >= 3 * 86, $"{report.FreePages} free pages");

        var tooLarge = new WriteBatch();
        for (int i = 0; i < 3; i++)
            tooLarge.Put(K($"huge{i}"), new byte[700_000]);
        var refused = Assert.Throws<ArgumentException>(() => store.Write(tooLarge));
        Assert.Contains("buffer pool", refused.Message);
        Assert.Equal(K("small"), store.Get(K("big2")));       // refused before anything changed: still usable
        store.Put(K("after"), new byte[700_000]);             // and the freed pages are reused
        Assert.True(store.CheckTree().FreePages < report.FreePages);
    }

    [Fact]
    public void BatchOfDeletesFreeingChainsAndEmptyingLeaves_InATinyPool_IsRefusedOrRuns_NeverAPanic()
    {
        using var dir = new TempDirectory();
        var options = DirectoryOptions() with { Instance = DirectoryOptions().Instance with { SharedBuffers = 64 } };
        using var store = KvStore.Open(dir.Path, options);
        var model = new KvModel(9, keySpace: 400, longKeyPercent: 100);    // ~1 kB keys: 7 per leaf
        for (int i = 0; i < 400; i++)
            store.Put(model.Key(i), new byte[3000]);                          // out of line: one chain each
        foreach (int step in new[] { 8, 40, 100 })
        {
            var batch = new WriteBatch();
            for (int i = 0; i < 400; i += step)
                batch.Delete(model.Key(i));
            try
            {
                store.Write(batch);
            }
            catch (ArgumentException e)
            {
                Assert.Contains("buffer pool", e.Message);
            }
            Assert.NotNull(store.Get(model.Key(1)));                           // usable either way: no PANIC
            Assert.Empty(store.CheckTree().Problems);
        }
        var small = new WriteBatch();
        for (int i = 0; i < 3; i++)
            small.Delete(model.Key(i * 3 + 2));
        store.Write(small);
        Assert.Null(store.Get(model.Key(2)));
    }

    [Fact]
    public void SecondOpenOfADirectory_IsRefused_UntilTheFirstCloses()
    {
        using var dir = new TempDirectory();
        var first = KvStore.Open(dir.Path, DirectoryOptions());
        var error = Assert.Throws<IOException>(() => KvStore.Open(dir.Path, DirectoryOptions()));
        Assert.Contains("in use by another process or instance", error.Message);
        first.Dispose();
        using var second = KvStore.Open(dir.Path, DirectoryOptions());
        Assert.NotNull(second);
    }
}
