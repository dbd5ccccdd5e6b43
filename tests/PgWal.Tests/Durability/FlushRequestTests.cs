// FlushRequestTests: asking to flush WAL that was never inserted is an error, as PostgreSQL's
// "xlog flush request … is not satisfied" — never a silent clamp; and a data page whose LSN lies
// beyond the end of the WAL (its changes are in WAL that no longer exists) is refused when read.
using PgWal.Format;
using PgWal.Insert;
using PgWal.Kv;
using PgWal.Pages;
using PgWal.Storage;
using PgWal.Tests.Infrastructure;
using PgWal.Write;

namespace PgWal.Tests.Durability;

public sealed class FlushRequestTests
{
    [Fact]
    public async Task FlushBeyondTheInsertedWal_IsAnError()
    {
        using var dir = new TempDirectory("flushreq");
        var geometry = new WalGeometry(WalGeometry.MinSegmentSize);
        using var engine = new WalEngine(new FileSystemWalStorage(dir.Path), new WalOptions { SegmentSize = geometry.SegmentSize, SystemIdentifier = 9 },
            WalStartPoint.AtSegment(new SegmentNumber(1), geometry));
        Lsn end = engine.Insert(BuiltinRecords.Noop(new RecordBuilder(), new byte[10]));
        engine.Flush(end);
        var error = Assert.Throws<InvalidOperationException>(() => engine.Flush(end + 4096));
        Assert.Equal($"WAL flush request {end + 4096} is not satisfied --- WAL inserted only up to {end}", error.Message);
        await Assert.ThrowsAsync<InvalidOperationException>(async () => await engine.FlushAsync(end + 8));
        Assert.Equal(end, engine.FlushedUpTo);
    }

    [Fact]
    public void PageWithAnLsnBeyondTheEndOfWal_IsRefusedWhenRead_NamingThePage()
    {
        using var dir = new TempDirectory("pagefuture");
        var options = new KvOptions { Instance = new WalInstanceOptions { BackgroundCheckpointer = false }, Init = new WalInitOptions { SegmentSize = 1 << 20 } };
        using (var store = KvStore.Open(dir.Path, options))
            store.Put("a"u8, "1"u8);
        // Stamp the root leaf (block 1) with an LSN far past the end of the WAL, as a page written
        // back from WAL that was later lost would carry.
        string relation = dir.Combine("base", "5", "16384");
        using (var file = new FileStream(relation, FileMode.Open, FileAccess.ReadWrite))
        {
            var page = new byte[8192];
            file.Position = 8192;
            file.ReadExactly(page);
            DataPageHeader.WriteLsn(page, new Lsn(0x7_0000_0000));
            file.Position = 8192;
            file.Write(page);
        }
        using var reopened = KvStore.Open(dir.Path, options);
        var error = Assert.Throws<PageCorruptedException>(() => reopened.Get("a"u8));
        Assert.Contains("block 1 of relation base/5/16384", error.Message);
        Assert.Contains("page LSN 7/0 is beyond the end of WAL", error.Message);
    }
}
