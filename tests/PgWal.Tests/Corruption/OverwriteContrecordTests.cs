using System.Buffers.Binary;
using PgWal.Format;
using PgWal.Insert;
using PgWal.Read;
using PgWal.Tests.Infrastructure;

namespace PgWal.Tests.Corruption;

// PostgreSQL 15 ends recovery in the middle of a record whose continuation never reached the disk by
// writing XLOG OVERWRITE_CONTRECORD at the start of the page where the continuation was missing,
// flagged XLP_FIRST_IS_OVERWRITE_CONTRECORD. Readers abandon the partial record and go on there.
public class OverwriteContrecordTests
{
    [Fact]
    public void Reader_AbandonsThePartialRecord_AndReadsTheOverwriteRecord_LikePgWaldump()
    {
        using var wal = new TestWal();
        for (int i = 0; i < 10; i++)
            wal.Noop(200);
        wal.PadTo(8000);
        var partial = wal.Noop(1000);                 // continues onto the next page
        var before = wal.Records[^2];
        var page = WalGeometry.PageStart(partial.Start) + 8192;
        var source = wal.LoadIntoMemory();

        // Rewrite the continuation page: an OVERWRITE_CONTRECORD record first, pointing back past the abandoned record.
        var bytes = source.At(wal.Geometry, page, 8192);
        bytes.Clear();
        new PageHeader(PageHeader.MagicPg15, PageInfo.BackupRemovable | PageInfo.FirstIsOverwriteContRecord, TimelineId.First,
            page, 0).Write(bytes);
        var payload = new byte[16];
        BinaryPrimitives.WriteUInt64LittleEndian(payload, partial.Start.Value);
        BinaryPrimitives.WriteInt64LittleEndian(payload.AsSpan(8), 852_076_800_000_000L);
        var assembled = new RecordAssembler().Assemble(new RecordBuilder().Begin(RmgrIds.Xlog, XlogInfo.OverwriteContRecord).RegisterData(payload));
        assembled.Complete(before.Start);
        assembled.Bytes.CopyTo(bytes[PageHeader.ShortSize..]);
        Lsn overwriteLsn = page + PageHeader.ShortSize;

        var reader = TestWal.Reader(source, wal.Geometry.SegmentSize);
        reader.BeginRead(wal.Records[0].Start);
        var seen = new List<Lsn>();
        ReadOutcome o;
        while ((o = reader.ReadRecord()).IsRecord)
            seen.Add(o.Record!.Lsn);
        Assert.DoesNotContain(partial.Start, seen);
        Assert.Equal(overwriteLsn, seen[^1]);
        Assert.Equal(partial.Start, reader.OverwrittenRecordLsn);
        Assert.Equal(before.Start, seen[^2]);

        // pg_waldump 15 agrees, line for line.
        using var dir = new TempDirectory("ow");
        foreach (var segment in source.Segments)
            File.WriteAllBytes(Path.Combine(dir.Path, SegmentFileName.Format(TimelineId.First, segment, wal.Geometry)), source.GetSegment(segment)!);
        string[] args = ["-p", dir.Path, "-s", wal.Records[0].Start.ToString(), "-e", (overwriteLsn + 42).ToString()];
        var pg = PgTools.Waldump(args);
        Assert.Contains($"OVERWRITE_CONTRECORD lsn {partial.Start}", pg.StdoutText);
        OutputAssert.SameAsPostgres(pg, InProcessWaldump.Run(args), "overwrite contrecord");
    }

    [Fact]
    public void UnalignedRecordPosition_IsInvalidRecordOffset_NotAnException()
    {
        using var wal = new TestWal();
        for (int i = 0; i < 50; i++)
            wal.Noop(200);
        var source = wal.LoadIntoMemory();
        var reader = new WalReader(source, new WalReaderOptions { SegmentSize = wal.Geometry.SegmentSize, ReadAheadBytes = 8192 });
        foreach (ulong odd in new ulong[] { 0x101FFE, 0x101FFC, 0x100033 })
        {
            reader.BeginRead(new Lsn(odd));
            Assert.Equal(CorruptionKind.InvalidRecordOffset, reader.ReadRecord().Error!.Kind);
        }
    }
}
