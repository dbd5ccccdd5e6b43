// FullPageWriteDecisionTests: the engine's image decisions (XLogRecordAssemble + XLogInsertRecord):
// the first change of a page after a redo point carries its image, later ones do not, nothing
// does with full_page_writes off, and the redo point only moves under BeginRedoPoint.
using PgWal.Format;
using PgWal.Insert;
using PgWal.Read;
using PgWal.Storage;
using PgWal.Tests.Infrastructure;
using PgWal.Write;

namespace PgWal.Tests.Unit;

public sealed class FullPageWriteDecisionTests
{
    private static readonly RelFileLocator Rel = new(1663, 5, 16384);

    private static (Lsn End, bool Image) Change(WalEngine engine, string dir, byte[] page)
    {
        var builder = new RecordBuilder().Begin(200, 0x10).RegisterData([1, 2, 3]);
        builder.RegisterBlock(0, Rel, ForkNumber.Main, new BlockNumber(7), BlockRegistration.Standard, page);
        Lsn end = engine.Insert(builder, out Lsn start);
        DataPageHeader.WriteLsn(page, end);        // PageSetLSN
        engine.Flush(end);
        using var reader = new WalReader(new SegmentDirectorySource(dir, engine.Geometry.SegmentSize),
            new WalReaderOptions { SegmentSize = engine.Geometry.SegmentSize, SystemIdentifier = engine.Options.SystemIdentifier });
        reader.BeginRead(start);
        var record = reader.ReadRecord().Record!;
        return (end, record.Block(0).HasImage);
    }

    [Fact]
    public void FirstChangeAfterRedoPoint_CarriesImage_LaterChangesDoNot_AndOffMeansNever()
    {
        using var dir = new TempDirectory("fpw");
        var geometry = new WalGeometry(1 << 20);
        var options = new WalOptions { SegmentSize = geometry.SegmentSize, SystemIdentifier = 42, WalWriterDelay = TimeSpan.Zero };
        using var engine = new WalEngine(new FileSystemWalStorage(dir.Path), options, WalStartPoint.AtSegment(new SegmentNumber(1), geometry));
        var page = new byte[StandardPage.Size];
        StandardPage.Init(page);
        DataPageHeader.WriteLsn(page, new Lsn(1));           // older than any redo point

        engine.BeginRedoPoint();
        Assert.True(Change(engine, dir.Path, page).Image);    // page LSN <= redo pointer
        Assert.False(Change(engine, dir.Path, page).Image);   // page LSN now newer than the redo pointer
        engine.BeginRedoPoint();
        Assert.True(Change(engine, dir.Path, page).Image);    // first change after the new redo point
        Assert.False(Change(engine, dir.Path, page).Image);
        engine.FullPageWrites = false;
        engine.BeginRedoPoint();
        Assert.False(Change(engine, dir.Path, page).Image);
    }
}
