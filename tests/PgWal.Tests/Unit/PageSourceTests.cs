using PgWal.Format;
using PgWal.Read;
using PgWal.Storage;
using PgWal.Tests.Infrastructure;

namespace PgWal.Tests.Unit;

public class PageSourceTests
{
    [Fact]
    public void SegmentFileList_ReadsSegmentsSpreadOverDirectories()
    {
        using var wal = new TestWal();
        while (wal.Geometry.SegmentOf(wal.Writer.NextRecordLsn).Value < 3)
            wal.Noop(3000);
        wal.Flush();
        using var elsewhere = new TempDirectory("list");
        var files = Directory.GetFiles(wal.WalDirectory).Order(StringComparer.Ordinal).ToList();
        string moved = Path.Combine(elsewhere.Path, Path.GetFileName(files[1]) + ".partial");
        File.Copy(files[1], moved);
        var list = new[] { files[0], moved, files[2] };

        using var reader = new WalReader(new SegmentFileListSource(list, wal.Geometry.SegmentSize),
            new WalReaderOptions { SegmentSize = wal.Geometry.SegmentSize });
        reader.BeginRead(wal.Records[0].Start);
        int n = 0;
        while (reader.ReadRecord().IsRecord)
            n++;
        Assert.Equal(wal.Records.Count, n);
    }

    [Fact]
    public void SegmentFileList_RejectsBadNamesAndDuplicates()
    {
        Assert.Throws<ArgumentException>(() => new SegmentFileListSource(["/tmp/not-a-segment"], WalGeometry.MinSegmentSize));
        Assert.Throws<ArgumentException>(() => new SegmentFileListSource(
            ["/a/000000010000000000000001", "/b/000000010000000000000001.partial"], WalGeometry.MinSegmentSize));
    }

    [Fact]
    public void SegmentFileList_ReportsMissingSegments()
    {
        using var source = new SegmentFileListSource([], WalGeometry.MinSegmentSize);
        var r = source.Read(TimelineId.First, new Lsn(0x100000), new byte[8192]);
        Assert.Equal(PageReadStatus.SegmentMissing, r.Status);
        Assert.Equal("could not find file \"000000010000000000000001\": No such file or directory", r.Message);
    }
}
