using PgWal.Format;
using PgWal.Insert;
using PgWal.Read;
using PgWal.Storage;
using PgWal.Tests.Infrastructure;
using PgWal.Write;

namespace PgWal.Tests.Unit;

// The README's quickstart, verbatim apart from the directory, must compile and behave as described.
public class ReadmeQuickstartTests
{
    [Fact]
    public void Quickstart_WritesAndReadsBack()
    {
        using var dir = new TempDirectory("readme");
        string walDir = dir.Combine("data", "pg_wal");

        var options = new WalOptions { SystemIdentifier = 7300000000000000001, Compression = WalCompression.Lz4 };
        Lsn end;
        using (var wal = new WalEngine(new FileSystemWalStorage(walDir), options, WalStartPoint.AtSegment(new SegmentNumber(1), WalGeometry.Default)))
        {
            var page = new byte[8192];
            var record = new RecordBuilder()
                .Begin(rmgrId: 128, info: 0x10, xid: 1000)
                .RegisterBlock(0, new RelFileLocator(1663, 5, 16384), ForkNumber.Main, new BlockNumber(7),
                               BlockRegistration.Standard | BlockRegistration.ForceImage, page)
                .RegisterBlockData(0, "tuple bytes"u8)
                .RegisterData("main data"u8);
            end = wal.Insert(record);                          // the record's end LSN; Insert(record, out start) gives its start too
            wal.Flush(end);                                    // durable (fdatasync) when this returns; FlushAsync for async code
            Assert.Equal(end, wal.FlushedUpTo);
        }

        using var reader = new WalReader(new SegmentDirectorySource(walDir, WalGeometry.DefaultSegmentSize), new WalReaderOptions());
        reader.BeginRead(new Lsn(0x1000028));
        var lines = new List<string>();
        ReadOutcome outcome;
        while ((outcome = reader.ReadRecord()) is { IsRecord: true })
        {
            DecodedRecord r = outcome.Record!;
            lines.Add($"{r.Lsn} rmgr {r.RmgrId} len {r.TotalLength} blocks {r.MaxBlockId + 1}");
            Assert.True(r.Block(0).IsImageCompressed);
            Assert.Equal("main data"u8.ToArray(), r.MainData.ToArray());
        }
        Assert.Equal(end, reader.EndRecPtr);
        Assert.Single(lines);
        Assert.Equal(ReadStatus.EndOfWal, outcome.Status);
        Assert.Equal(EndOfWalReason.ZeroedSpace, outcome.Error!.EndOfWal);
    }
}
