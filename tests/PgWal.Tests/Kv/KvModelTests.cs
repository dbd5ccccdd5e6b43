// KvModelTests: PgWal.Kv against the sorted-dictionary model on the real file system — every step
// compared (gets, forward and backward scans with random bounds), across clean reopens and
// abandoned (crash-like) reopens, with a buffer pool small enough that pages are evicted all the time.
using PgWal.Kv;
using PgWal.Tests.Crash;
using PgWal.Tests.Infrastructure;

namespace PgWal.Tests.Kv;

// Thousands of durable commits: run alone with the crash tests, not beside the timing-sensitive ones.
[Collection(CrashCollection.Name)]
public sealed class KvModelTests
{
    private static KvOptions SmallOptions() => new()
    {
        Instance = new WalInstanceOptions { SharedBuffers = 256, BackgroundCheckpointer = false },
        Init = new WalInitOptions { SegmentSize = 1 << 20 },
    };

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void RandomOperations_AgreeWithASortedDictionary_AtEveryStep_AcrossReopens(int seed)
    {
        using var dir = new TempDirectory();
        var model = new KvModel(seed, keySpace: 400, longKeyPercent: 5);
        var random = new Random(seed);
        var store = KvStore.Open(dir.Path, SmallOptions());
        try
        {
            for (int step = 0; step < 3000; step++)
            {
                var op = model.Next();
                KvModel.Execute(store, op);
                model.Acknowledge(op);
                foreach (var (key, _) in op.Changes)
                {
                    var expected = model.State.GetValueOrDefault(key);
                    var actual = store.Get(key);
                    Assert.True(expected == null ? actual == null : actual != null && actual.AsSpan().SequenceEqual(expected), $"step {step}: Get({KvModel.Show(key)})");
                }
                if (step % 97 == 0)
                    CheckScans(store, model, random, step);
                if (step % 500 == 499)
                {
                    if (random.Next(2) == 0)
                        store.Dispose();
                    else
                        store.Abandon();   // crash-like: recovery must bring back every commit
                    store = KvStore.Open(dir.Path, SmallOptions());
                    Assert.Null(model.Verify(store, null));
                }
                else if (step % 211 == 0)
                {
                    store.Instance.Checkpoint();
                }
            }
            Assert.Null(model.Verify(store, null));
        }
        finally
        {
            store.Dispose();
        }
        var control = Format.ControlFileData.Decode(File.ReadAllBytes(Path.Combine(dir.Path, "global", "pg_control")));
        Assert.Contains("rmgr: custom140", WaldumpWalk.AssertWalks(Path.Combine(dir.Path, "pg_wal"), control));
    }

    private static void CheckScans(KvStore store, KvModel model, Random random, int step)
    {
        var keys = model.State.Keys.ToList();
        byte[]? Bound() => random.Next(4) == 0 || keys.Count == 0 ? null
            : random.Next(2) == 0 ? keys[random.Next(keys.Count)] : model.Key(random.Next(400));
        for (int i = 0; i < 4; i++)
        {
            var from = Bound();
            var to = Bound();
            bool reverse = random.Next(2) == 0;
            var expected = model.State.Where(e => (from == null || ByteComparer.Instance.Compare(e.Key, from) >= 0) && (to == null || ByteComparer.Instance.Compare(e.Key, to) < 0)).ToList();
            if (reverse)
                expected.Reverse();
            var actual = store.Scan(from, to, reverse, chunk: random.Next(1, 40)).ToList();
            Assert.True(expected.Count == actual.Count, $"step {step}: scan [{(from == null ? "-" : KvModel.Show(from))}, {(to == null ? "-" : KvModel.Show(to))}) reverse={reverse}: {actual.Count} entries, expected {expected.Count}");
            for (int k = 0; k < expected.Count; k++)
            {
                Assert.True(expected[k].Key.AsSpan().SequenceEqual(actual[k].Key), $"step {step}: scan entry {k}");
                Assert.True(expected[k].Value.AsSpan().SequenceEqual(actual[k].Value), $"step {step}: scan value {k}");
            }
        }
    }

    [Fact]
    public async Task Values_UpToSixteenMegabytes_RoundTrip_AndTheirPagesAreReused()
    {
        using var dir = new TempDirectory();
        using (var store = KvStore.Open(dir.Path))
        {
            var random = new Random(5);
            var big = new byte[1 << 20];
            random.NextBytes(big);
            store.Put("big"u8, big);
            Assert.Equal(big, store.Get("big"u8));
            Assert.Equal(big, await store.GetAsync("big"u8.ToArray()));
            await store.PutAsync("async"u8.ToArray(), big);
            Assert.True(await store.DeleteAsync("async"u8.ToArray()));
            var largest = new byte[KvStore.MaxValueLength];
            random.NextBytes(largest);
            store.Put("largest"u8, largest);
            Assert.Equal(largest, store.Get("largest"u8));
            Assert.True(store.Delete("largest"u8));
            long blocks = store.CheckTree().Blocks;
            var other = new byte[(1 << 20) - 77];
            random.NextBytes(other);
            store.Put("big"u8, other);         // replaces: the old chain goes to the free list ...
            store.Put("big2"u8, big);          // ... and is reused
            var report = store.CheckTree();
            Assert.Empty(report.Problems);
            Assert.True(report.Blocks < blocks + 140, $"{report.Blocks} blocks after reuse, {blocks} before");
            Assert.Equal(other, store.Get("big"u8));
            Assert.True(store.Delete("big2"u8));
            Assert.False(store.Delete("big2"u8));
            Assert.Null(store.Get("big2"u8));
        }
        using (var store = KvStore.Open(dir.Path))
        {
            Assert.Equal((1 << 20) - 77, store.Get("big"u8)!.Length);
            Assert.Empty(store.CheckTree().Problems);
        }
    }

    [Fact]
    public void AsynchronousCommit_DoesNotWaitForFsyncs_AndTheWalWriterMakesItDurableInTime()
    {
        using var dir = new TempDirectory();
        var delay = TimeSpan.FromMilliseconds(100);
        var options = SmallOptions() with
        {
            SynchronousCommit = PgWal.Replication.Sync.SynchronousCommitLevel.Off,
            DurableReads = false,
            Instance = SmallOptions().Instance with { Wal = new Write.WalOptions { WalWriterDelay = delay } },
        };
        using var store = KvStore.Open(dir.Path, options);
        long syncs = store.Instance.Wal.Stats.Syncs;
        for (int i = 0; i < 500; i++)
            store.Put(System.Text.Encoding.ASCII.GetBytes($"k{i}"), "v"u8);
        Lsn last = store.Instance.Wal.InsertedUpTo;
        Assert.True(store.Instance.Wal.Stats.Syncs - syncs < 100, $"{store.Instance.Wal.Stats.Syncs - syncs} syncs for 500 asynchronous commits");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (store.Instance.Wal.FlushedUpTo < last && clock.Elapsed < 3 * delay + TimeSpan.FromSeconds(1))
            Thread.Sleep(5);
        Assert.True(store.Instance.Wal.FlushedUpTo >= last, $"not durable {clock.Elapsed.TotalMilliseconds:F0} ms after the last commit");
    }

    [Fact]
    public void BadKeysAndValues_AreRefused_BeforeAnythingChanges()
    {
        using var dir = new TempDirectory();
        using var store = KvStore.Open(dir.Path);
        Assert.Throws<ArgumentException>(() => store.Put([], "v"u8));
        Assert.Throws<ArgumentException>(() => store.Put(new byte[KvStore.MaxKeyLength + 1], "v"u8));
        Assert.Throws<ArgumentException>(() => new WriteBatch().Put("k"u8, new byte[KvStore.MaxValueLength + 1]));
        store.Put("k"u8, "v"u8);
        Assert.Equal("v"u8.ToArray(), store.Get("k"u8));
    }
}
