// LargeBufferPoolTests: a buffer pool of 2 GB and more (262,144 pages and up) works: the pool is
// allocated in chunks, since one .NET array cannot hold it (this overflowed before).
using PgWal.Kv;
using PgWal.Tests.Infrastructure;

namespace PgWal.Tests.Durability;

public sealed class LargeBufferPoolTests
{
    [Fact]
    public void TwoGigabytePool_Opens_AndItsLastBufferIsItsOwnMemory()
    {
        using var dir = new TempDirectory("bigpool");
        const int buffers = 262_144 + 7;                     // just over 2 GB
        var options = new KvOptions { Instance = new WalInstanceOptions { SharedBuffers = buffers, BackgroundCheckpointer = false }, Init = new WalInitOptions { SegmentSize = 1 << 20 } };
        using var store = KvStore.Open(dir.Path, options);
        var pool = store.Instance.Buffers;
        Assert.Equal(buffers, pool.Count);
        var last = pool.PageMemory(buffers - 1).Span;
        var boundary = pool.PageMemory(65_536).Span;         // first page of the second chunk
        last.Fill(0xA5);
        boundary.Fill(0x5A);
        Assert.True(pool.PageMemory(65_535).Span.IndexOf((byte)0x5A) < 0);
        Assert.Equal(0xA5, pool.PageMemory(buffers - 1).Span[8191]);
        store.Put("k"u8, "v"u8);
        Assert.Equal("v"u8.ToArray(), store.Get("k"u8));
        Assert.Throws<ArgumentOutOfRangeException>(() => KvStore.Open(dir.Combine("other"), options with { Instance = options.Instance with { SharedBuffers = WalInstanceOptions.MaxSharedBuffers + 1 } }));
    }
}
