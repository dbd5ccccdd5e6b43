using System.Buffers.Binary;
using PgWal.Format;
using PgWal.Read;
using PgWal.Tests.Infrastructure;

namespace PgWal.Tests.Corruption;

// One forged field at a time (like PostgreSQL's 039_end_of_wal.pl): the reader must stop at the
// right record with the right kind, and say whether it is an end of WAL or corruption.
public class EndOfWalMatrixTests
{
    private const int Seg = WalGeometry.MinSegmentSize;

    private static (TestWal Wal, MemoryPageSource Source) Build(Action<TestWal> body)
    {
        var wal = new TestWal(Seg);
        for (int i = 0; i < 20; i++)
            wal.Noop(40 + 8 * i);
        body(wal);
        return (wal, wal.LoadIntoMemory());
    }

    // Reads from the first record until the first failure; returns it and the records read.
    private static (WalReadError Error, int Read, WalReader Reader) ReadAll(TestWal wal, MemoryPageSource source)
    {
        var reader = TestWal.Reader(source, Seg);
        reader.BeginRead(wal.Records[0].Start);
        int n = 0;
        while (true)
        {
            var o = reader.ReadRecord();
            if (!o.IsRecord)
                return (o.Error!, n, reader);
            Assert.Equal(wal.Records[n].Start, o.Record!.Lsn);
            n++;
        }
    }

    [Fact]
    public void ZeroLength_AfterLastRecord_IsZeroedSpaceEnd()
    {
        var (wal, source) = Build(_ => { });
        using var _ = wal;
        var (error, read, _) = ReadAll(wal, source);
        Assert.Equal(wal.Records.Count, read);
        Assert.Equal(CorruptionKind.InvalidRecordLength, error.Kind);
        Assert.Equal(EndOfWalReason.ZeroedSpace, error.EndOfWal);
        Assert.Equal(wal.Writer.NextRecordLsn, error.Lsn);
        Assert.Equal($"invalid record length at {wal.Writer.NextRecordLsn}: wanted 24, got 0", error.Message);
        Assert.Equal("000000010000000000000001", error.SegmentFile);
    }

    [Fact]
    public void ShortLength_OnLastRecord_IsTornEnd()
    {
        var (wal, source) = Build(w => w.Noop(64));
        using var _ = wal;
        var last = wal.Records[^1].Start;
        BinaryPrimitives.WriteUInt32LittleEndian(source.At(wal.Geometry, last, 4), 10);
        var (error, read, _) = ReadAll(wal, source);
        Assert.Equal(wal.Records.Count - 1, read);
        Assert.Equal(CorruptionKind.InvalidRecordLength, error.Kind);
        Assert.Equal(last, error.Lsn);
        Assert.EndsWith("wanted 24, got 10", error.Message);
        Assert.Equal(EndOfWalReason.TornRecord, error.EndOfWal);
    }

    [Fact]
    public void HugeLength_IsRejectedByTheContinuationPage_WithoutAllocatingIt()
    {
        var (wal, source) = Build(w =>
        {
            w.Noop(64);
            for (int i = 0; i < 400; i++)
                w.Noop(200);
        });
        using var _ = wal;
        var victim = wal.Records[20].Start; // mid-page, more WAL follows
        BinaryPrimitives.WriteUInt32LittleEndian(source.At(wal.Geometry, victim, 4), 0xFFFF_FFF0);
        var reader = TestWal.Reader(source, Seg);
        reader.BeginRead(wal.Records[0].Start);
        for (int i = 0; i < 20; i++)
            Assert.True(reader.ReadRecord().IsRecord);
        long before = GC.GetAllocatedBytesForCurrentThread();
        var o = reader.ReadRecord();
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.False(o.IsRecord);
        // The next page continues another record: its xlp_rem_len cannot match the forged length.
        Assert.Equal(CorruptionKind.BadContinuationLength, o.Error!.Kind);
        Assert.StartsWith("invalid contrecord length", o.Error.Message);
        Assert.Equal(victim, o.Error.RecordLsn);
        Assert.Equal(ReadStatus.Corrupt, o.Status);
        Assert.True(allocated < 256 * 1024, $"allocated {allocated} bytes");
        Assert.Equal(victim, reader.AbortedRecordLsn);
    }

    [Theory]
    [InlineData(false, EndOfWalReason.TornRecord)]
    [InlineData(true, EndOfWalReason.None)]
    public void BadPrevLink_IsEndAtTheTail_CorruptionInTheMiddle(bool middle, EndOfWalReason expected)
    {
        var (wal, source) = Build(w =>
        {
            for (int i = 0; i < 200; i++)
                w.Noop(200);
        });
        using var _ = wal;
        var victim = middle ? wal.Records[30].Start : wal.Records[^1].Start;
        BinaryPrimitives.WriteUInt64LittleEndian(source.At(wal.Geometry, victim + 8, 8), 0x12345678);
        var (error, _, _) = ReadAll(wal, source);
        Assert.Equal(CorruptionKind.BadPrevLink, error.Kind);
        Assert.Equal(victim, error.Lsn);
        Assert.Equal($"record with incorrect prev-link 0/12345678 at {victim}", error.Message);
        Assert.Equal(expected, error.EndOfWal);
    }

    [Theory]
    [InlineData(0, EndOfWalReason.None)]   // damage mid-WAL, later pages valid
    [InlineData(1, EndOfWalReason.None)]   // damage on the last page, the next record (same page) links back
    [InlineData(2, EndOfWalReason.TornRecord)] // damage on the very last record
    public void BadChecksum_IsClassifiedByWhatFollows(int where, EndOfWalReason expected)
    {
        var (wal, source) = Build(w =>
        {
            for (int i = 0; i < 200; i++)
                w.Noop(200);
        });
        using var _ = wal;
        var victim = where switch { 0 => wal.Records[30].Start, 1 => wal.Records[^2].Start, _ => wal.Records[^1].Start };
        source.At(wal.Geometry, victim + 40, 1)[0] ^= 0x10;
        var (error, _, _) = ReadAll(wal, source);
        Assert.Equal(CorruptionKind.BadChecksum, error.Kind);
        Assert.Equal(victim, error.Lsn);
        Assert.Equal($"incorrect resource manager data checksum in record at {victim}", error.Message);
        Assert.Equal(expected, error.EndOfWal);
    }

    [Fact]
    public void InvalidResourceManager_IsReported()
    {
        var (wal, source) = Build(w => w.Noop(64));
        using var _ = wal;
        var victim = wal.Records[5].Start;
        source.At(wal.Geometry, victim + 17, 1)[0] = 50;
        var (error, read, _) = ReadAll(wal, source);
        Assert.Equal(5, read);
        Assert.Equal(CorruptionKind.InvalidResourceManager, error.Kind);
        Assert.Equal($"invalid resource manager ID 50 at {victim}", error.Message);
    }

    // A record crossing into the next page, whose page header is then forged.
    private static (TestWal, MemoryPageSource, Lsn Record, Lsn Page) CrossingRecord()
    {
        var (wal, source) = Build(w =>
        {
            w.PadTo(8000);
            w.Noop(1000); // 192 bytes on this page, the rest on the next
            for (int i = 0; i < 100; i++)
                w.Noop(200);
        });
        var rec = wal.Records[^101].Start;
        return (wal, source, rec, WalGeometry.PageStart(rec) + 8192);
    }

    [Fact]
    public void BadPageMagic_OnContinuationPage_IsCorruption()
    {
        var (wal, source, rec, page) = CrossingRecord();
        using var _ = wal;
        BinaryPrimitives.WriteUInt16LittleEndian(source.At(wal.Geometry, page, 2), 0x1234);
        var (error, _, reader) = ReadAll(wal, source);
        Assert.Equal(CorruptionKind.BadPageMagic, error.Kind);
        Assert.Equal(page, error.Lsn);
        Assert.Equal(rec, error.RecordLsn);
        Assert.Equal($"invalid magic number 1234 in log segment 000000010000000000000001, offset {wal.Geometry.OffsetInSegment(page)}", error.Message);
        Assert.Equal(EndOfWalReason.None, error.EndOfWal);
        Assert.Equal(rec, reader.AbortedRecordLsn);
        Assert.Equal(page, reader.MissingContinuationLsn);
    }

    [Fact]
    public void OtherVersionMagic_MidStream_IsRejected()
    {
        var (wal, source, _, page) = CrossingRecord();
        using var _ = wal;
        BinaryPrimitives.WriteUInt16LittleEndian(source.At(wal.Geometry, page, 2), PageHeader.MagicPg16);
        var (error, _, _) = ReadAll(wal, source);
        Assert.Equal(CorruptionKind.BadPageMagic, error.Kind);
        Assert.Contains("invalid magic number D113", error.Message);
    }

    [Fact]
    public void UnexpectedPageAddress_OnContinuationPage_IsReported()
    {
        var (wal, source, rec, page) = CrossingRecord();
        using var _ = wal;
        BinaryPrimitives.WriteUInt64LittleEndian(source.At(wal.Geometry, page + 8, 8), page.Value + 8192 * 3);
        var (error, _, _) = ReadAll(wal, source);
        Assert.Equal(CorruptionKind.UnexpectedPageAddress, error.Kind);
        Assert.Equal(rec, error.RecordLsn);
        Assert.StartsWith($"unexpected pageaddr {page + 8192 * 3} in log segment 000000010000000000000001, offset", error.Message);
        Assert.Equal(EndOfWalReason.None, error.EndOfWal);
    }

    [Fact]
    public void InvalidInfoBits_AreReported()
    {
        var (wal, source, _, page) = CrossingRecord();
        using var _ = wal;
        source.At(wal.Geometry, page + 2, 1)[0] |= 0x40;
        var (error, _, _) = ReadAll(wal, source);
        Assert.Equal(CorruptionKind.InvalidPageInfo, error.Kind);
        Assert.StartsWith("invalid info bits 0045 in log segment", error.Message);
        Assert.Equal(EndOfWalReason.None, error.EndOfWal);
    }

    [Fact]
    public void MissingLongHeader_OnSegmentStart_IsInvalidInfo()
    {
        var (wal, source) = Build(w =>
        {
            while (w.Geometry.SegmentOf(w.Writer.NextRecordLsn).Value < 2)
                w.Noop(4000);
            w.Noop(200);
        });
        using var _ = wal;
        var segStart = wal.Geometry.SegmentStart(new SegmentNumber(2));
        source.At(wal.Geometry, segStart + 2, 1)[0] &= unchecked((byte)~(byte)PageInfo.LongHeader);
        var (error, _, _) = ReadAll(wal, source);
        Assert.Equal(CorruptionKind.InvalidPageInfo, error.Kind);
        Assert.Equal(segStart, error.Lsn);
        Assert.Equal("000000010000000000000002", error.SegmentFile);
        Assert.EndsWith("in log segment 000000010000000000000002, offset 0", error.Message);
    }

    [Fact]
    public void WrongRemainingLength_IsInvalidContrecordLength()
    {
        var (wal, source, rec, page) = CrossingRecord();
        using var _ = wal;
        BinaryPrimitives.WriteUInt32LittleEndian(source.At(wal.Geometry, page + 16, 4), 5);
        var (error, _, _) = ReadAll(wal, source);
        Assert.Equal(CorruptionKind.BadContinuationLength, error.Kind);
        Assert.Equal($"invalid contrecord length 5 (expected 808) at {rec}", error.Message);
    }

    [Fact]
    public void MissingContinuationFlag_IsReported()
    {
        var (wal, source, rec, page) = CrossingRecord();
        using var _ = wal;
        source.At(wal.Geometry, page + 2, 1)[0] &= unchecked((byte)~(byte)PageInfo.FirstIsContRecord);
        var (error, _, _) = ReadAll(wal, source);
        Assert.Equal(CorruptionKind.MissingContinuation, error.Kind);
        Assert.Equal($"there is no contrecord flag at {rec}", error.Message);
    }

    [Fact]
    public void ZeroedContinuationPage_IsATornRecordAtTheTail()
    {
        var (wal, source) = Build(w =>
        {
            w.PadTo(8000);
            w.Noop(1000);
        });
        using var _ = wal;
        var rec = wal.Records[^1].Start;
        var page = WalGeometry.PageStart(rec) + 8192;
        source.At(wal.Geometry, page, 8192).Clear();
        var (error, _, reader) = ReadAll(wal, source);
        Assert.Equal(CorruptionKind.BadPageMagic, error.Kind);
        Assert.Equal(ReadStatus.EndOfWal, new ReadOutcome(error).Status);
        Assert.Equal(EndOfWalReason.ZeroedSpace, error.EndOfWal);
        Assert.Equal("invalid magic number 0000 in log segment 000000010000000000000001, offset " + wal.Geometry.OffsetInSegment(page), error.Message);
        Assert.Equal(rec, reader.AbortedRecordLsn);
    }

    // Record header split across a page boundary: 8 bytes on one page, 16 on the next.
    private static (TestWal, MemoryPageSource, Lsn Record, Lsn Page) SplitHeader(int following = 50)
    {
        var (wal, source) = Build(w =>
        {
            w.PadTo(8184);
            w.Noop(120);
            for (int i = 0; i < following; i++)
                w.Noop(200);
        });
        var rec = wal.Records[^(following + 1)].Start;
        Assert.Equal(8184, WalGeometry.OffsetInPage(rec));
        return (wal, source, rec, WalGeometry.PageStart(rec) + 8192);
    }

    [Fact]
    public void SplitHeader_ReadsBackWhenIntact()
    {
        var (wal, source, rec, _) = SplitHeader();
        using var _ = wal;
        var (error, read, _) = ReadAll(wal, source);
        Assert.Equal(wal.Records.Count, read);
        Assert.Equal(EndOfWalReason.ZeroedSpace, error.EndOfWal);
        Assert.Contains(wal.Records, r => r.Start == rec);
    }

    [Fact]
    public void SplitHeader_ShortLength_IsCaughtBeforeTheNextPage()
    {
        var (wal, source, rec, _) = SplitHeader();
        using var _ = wal;
        BinaryPrimitives.WriteUInt32LittleEndian(source.At(wal.Geometry, rec, 4), 16);
        var (error, _, _) = ReadAll(wal, source);
        Assert.Equal(CorruptionKind.InvalidRecordLength, error.Kind);
        Assert.Equal($"invalid record length at {rec}: wanted 24, got 16", error.Message);
    }

    [Fact]
    public void SplitHeader_SecondHalfForged_IsCaughtAfterReassembly()
    {
        var (wal, source, rec, page) = SplitHeader();
        using var _ = wal;
        // Header bytes 8..15 (xl_prev) are the first continuation bytes on the next page.
        BinaryPrimitives.WriteUInt64LittleEndian(source.At(wal.Geometry, page + 24, 8), 0x40);
        var (error, _, _) = ReadAll(wal, source);
        Assert.Equal(CorruptionKind.BadPrevLink, error.Kind);
        Assert.Equal($"record with incorrect prev-link 0/40 at {rec}", error.Message);
        Assert.Equal(EndOfWalReason.None, error.EndOfWal);
    }

    [Fact]
    public void SplitHeader_RmgrForged_IsInvalidResourceManager()
    {
        var (wal, source, rec, page) = SplitHeader();
        using var _ = wal;
        source.At(wal.Geometry, page + 24 + 9, 1)[0] = 99; // header byte 17 = xl_rmid
        var (error, _, _) = ReadAll(wal, source);
        Assert.Equal(CorruptionKind.InvalidResourceManager, error.Kind);
        Assert.Equal($"invalid resource manager ID 99 at {rec}", error.Message);
    }

    [Fact]
    public void SplitHeader_NextPageNeverWritten_IsTheEnd()
    {
        var (wal, source, rec, page) = SplitHeader(following: 0);
        using var _ = wal;
        source.At(wal.Geometry, page, 8192).Clear();
        var (error, _, reader) = ReadAll(wal, source);
        Assert.True(error.IsEndOfWal);
        Assert.Equal(rec, error.RecordLsn);
        Assert.Equal(rec, reader.AbortedRecordLsn);
        Assert.Equal(page, reader.MissingContinuationLsn);
    }

    [Fact]
    public void RecycledSegmentTail_IsRecycledPageEnd()
    {
        // WAL ends exactly at a page boundary in segment 3; the rest of segment 3 still holds
        // pages of an earlier cycle (segment 1's content: valid magic, older page addresses).
        var (wal, source) = Build(w =>
        {
            while (w.Geometry.SegmentOf(w.Writer.NextRecordLsn).Value < 3)
                w.Noop(3000);
            w.Noop(500);
            w.PadTo(24);
        });
        using var _ = wal;
        var end = wal.Writer.InsertedUpTo;
        Assert.Equal(0, WalGeometry.OffsetInPage(end));
        var seg1 = source.GetSegment(new SegmentNumber(1))!;
        var seg3 = source.GetSegment(new SegmentNumber(3))!;
        int from = wal.Geometry.OffsetInSegment(end);
        seg1.AsSpan(from).CopyTo(seg3.AsSpan(from));
        var (error, read, _) = ReadAll(wal, source);
        Assert.Equal(wal.Records.Count, read);
        Assert.Equal(CorruptionKind.UnexpectedPageAddress, error.Kind);
        Assert.Equal(EndOfWalReason.RecycledPage, error.EndOfWal);
        Assert.Equal($"unexpected pageaddr {wal.Geometry.SegmentStart(new SegmentNumber(1)) + (ulong)from} in log segment 000000010000000000000003, offset {from}", error.Message);
    }

    [Fact]
    public void TornLastPage_AtSectorBoundary_IsTheEnd()
    {
        var (wal, source) = Build(w =>
        {
            w.PadTo(1000);
            for (int i = 0; i < 30; i++)
                w.Noop(200);
        });
        using var _ = wal;
        var lastPage = WalGeometry.PageStart(wal.Records[^1].Start);
        source.At(wal.Geometry, lastPage + 2048, 8192 - 2048).Clear(); // sectors 4..15 never reached the disk
        var (error, read, _) = ReadAll(wal, source);
        Assert.True(read < wal.Records.Count);
        Assert.True(error.IsEndOfWal, error.ToString());
        Assert.True(error.Lsn < lastPage + 2048 + 8);
    }

    [Fact]
    public void PositionInsidePageHeader_IsInvalidRecordOffset()
    {
        var (wal, source) = Build(_ => { });
        using var _ = wal;
        var reader = TestWal.Reader(source, Seg);
        reader.BeginRead(new Lsn(wal.Records[0].Start.Value - 16)); // inside the long header
        var o = reader.ReadRecord();
        Assert.Equal(CorruptionKind.InvalidRecordOffset, o.Error!.Kind);
    }

    [Fact]
    public void StartingOnAContinuation_IsContrecordRequested()
    {
        var (wal, source, _, page) = CrossingRecord();
        using var _ = wal;
        var reader = TestWal.Reader(source, Seg);
        reader.BeginRead(page + 24);
        var o = reader.ReadRecord();
        Assert.Equal(CorruptionKind.ContRecordRequested, o.Error!.Kind);
        Assert.Equal($"contrecord is requested by {page + 24}", o.Error.Message);
    }

    [Fact]
    public void MissingSegment_IsEndOfSource()
    {
        var (wal, source) = Build(w =>
        {
            while (w.Geometry.SegmentOf(w.Writer.NextRecordLsn).Value < 2)
                w.Noop(4000);
        });
        using var _ = wal;
        source.SetSegment(new SegmentNumber(2), []);
        var (error, _, _) = ReadAll(wal, source);
        Assert.Equal(CorruptionKind.ShortRead, error.Kind);
        Assert.Equal(EndOfWalReason.EndOfSource, error.EndOfWal);
    }
}
