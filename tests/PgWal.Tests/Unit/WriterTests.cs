using PgWal.Format;
using PgWal.Insert;
using PgWal.Read;
using PgWal.Storage;
using PgWal.Tests.Infrastructure;

namespace PgWal.Tests.Unit;

public class WriterTests
{
    [Fact]
    public unsafe void OversizedMainData_IsRefusedBeforeAnythingIsCopiedOrWritten()
    {
        using var wal = new TestWal();
        var before = wal.Writer.InsertedUpTo;
        var builder = new RecordBuilder().Begin(128, 0x10);
        // A span longer than the 1020 MB limit; the check must fire before a byte of it is read.
        var huge = new ReadOnlySpan<byte>((void*)16, (int)RecordHeader.MaxTotalLength + 1);
        try
        {
            builder.RegisterData(huge);
            Assert.Fail("expected RecordTooLargeException");
        }
        catch (RecordTooLargeException e)
        {
            Assert.Contains("oversized WAL record", e.Message);
        }
        Assert.Equal(0, builder.MainDataLength);
        Assert.Equal(before, wal.Writer.InsertedUpTo);
    }

    [Fact]
    public void BlockDataOverUInt16_IsRefused()
    {
        var builder = new RecordBuilder().Begin(128, 0);
        builder.RegisterBlock(0, new RelFileLocator(1663, 5, 1), ForkNumber.Main, new BlockNumber(1), BlockRegistration.NoImage);
        builder.RegisterBlockData(0, new byte[65_000]);
        var e = Assert.Throws<RecordTooLargeException>(() => builder.RegisterBlockData(0, new byte[600]));
        Assert.Contains("too much WAL data", e.Message);
    }

    [Fact]
    public void BuilderMisuse_IsRejectedWithClearErrors()
    {
        var b = new RecordBuilder();
        Assert.Throws<InvalidOperationException>(() => b.RegisterData([1]));
        b.Begin(128, 0);
        Assert.Throws<ArgumentOutOfRangeException>(() => b.RegisterBlock(33, default, ForkNumber.Main, default, BlockRegistration.NoImage));
        b.RegisterBlock(3, default, ForkNumber.Main, default, BlockRegistration.NoImage);
        Assert.Throws<InvalidOperationException>(() => b.RegisterBlock(3, default, ForkNumber.Main, default, BlockRegistration.NoImage));
        Assert.Throws<InvalidOperationException>(() => b.RegisterBlockData(4, [1]));
        Assert.Throws<ArgumentException>(() => b.RegisterBlock(5, default, ForkNumber.Main, default, BlockRegistration.ForceImage));
        Assert.Throws<ArgumentOutOfRangeException>(() => b.Begin(50, 0));
        Assert.Throws<ArgumentException>(() => b.Begin(128, 0x04));
    }

    [Fact]
    public void Flush_MakesInsertedWalDurableAndReadable()
    {
        using var wal = new TestWal();
        var r = wal.Noop(500);
        Assert.True(wal.Writer.FlushedUpTo < r.End);
        wal.Writer.Flush(r.End);
        Assert.Equal(r.End, wal.Writer.FlushedUpTo);
        Assert.True(wal.Writer.WrittenUpTo >= r.End);
        using var reader = TestWal.Reader(new SegmentDirectorySource(wal.WalDirectory, wal.Geometry.SegmentSize), wal.Geometry.SegmentSize);
        reader.BeginRead(r.Start);
        Assert.True(reader.ReadRecord().IsRecord);
    }

    [Fact]
    public void Switch_ConsumesTheRestOfTheSegment()
    {
        using var wal = new TestWal();
        var a = wal.Noop(100);
        var sw = wal.Writer.SwitchSegment();
        Assert.Equal(a.End, sw.Start);
        Assert.Equal(sw.Start + 24, sw.End);
        Assert.Equal(wal.Geometry.SegmentStart(new SegmentNumber(2)), wal.Writer.InsertedUpTo);
        var again = wal.Writer.SwitchSegment();
        Assert.Equal(again.Start, again.End); // already at a segment start: nothing inserted
        var b = wal.Noop(100);
        Assert.Equal(wal.Geometry.SegmentStart(new SegmentNumber(2)) + 40, b.Start);
        wal.Flush();
        var bytes = File.ReadAllBytes(Path.Combine(wal.WalDirectory, "000000010000000000000001"));
        int afterSwitchPage = (int)(WalGeometry.PageStart(sw.Start).Value % (ulong)wal.Geometry.SegmentSize) + 8192;
        Assert.False(bytes.AsSpan(afterSwitchPage).ContainsAnyExcept((byte)0));
        using var reader = TestWal.Reader(new SegmentDirectorySource(wal.WalDirectory, wal.Geometry.SegmentSize), wal.Geometry.SegmentSize);
        reader.BeginRead(a.Start);
        Assert.True(reader.ReadRecord().IsRecord);
        var s = reader.ReadRecord();
        Assert.Equal(wal.Geometry.SegmentStart(new SegmentNumber(2)), s.Record!.NextLsn);
        Assert.Equal(b.Start, reader.ReadRecord().Record!.Lsn);
    }

    [Fact]
    public void SegmentFiles_AreCreatedAtFullSize_WithPostgresNames()
    {
        using var wal = new TestWal();
        while (wal.Geometry.SegmentOf(wal.Writer.NextRecordLsn).Value < 3)
            wal.Noop(8000);
        wal.Flush();
        var files = Directory.GetFiles(wal.WalDirectory).Select(f => Path.GetFileName(f)).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(new[] { "000000010000000000000001", "000000010000000000000002", "000000010000000000000003" }, files);
        Assert.All(files, f => Assert.Equal(wal.Geometry.SegmentSize, new FileInfo(Path.Combine(wal.WalDirectory, f)).Length));
    }

    [Fact]
    public void PagesCarryPostgres15Headers()
    {
        using var wal = new TestWal();
        wal.PadTo(8000);
        wal.Noop(1000);
        wal.Flush();
        var bytes = File.ReadAllBytes(Path.Combine(wal.WalDirectory, "000000010000000000000001"));
        var first = PageHeader.Read(bytes);
        Assert.Equal(PageHeader.MagicPg15, first.Magic);
        Assert.Equal(PageInfo.LongHeader | PageInfo.BackupRemovable, first.Info);
        Assert.Equal(TestWal.SystemId, first.SystemIdentifier);
        var cont = PageHeader.Read(bytes.AsSpan(8192 * (int)(WalGeometry.PageStart(wal.Records[^1].Start).Value / 8192 % 128 + 1)));
        Assert.Equal(PageInfo.FirstIsContRecord | PageInfo.BackupRemovable, cont.Info);
        Assert.Equal(808u, cont.RemainingLength);
    }
}
