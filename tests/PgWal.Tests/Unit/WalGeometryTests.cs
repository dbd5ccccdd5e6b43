using PgWal.Format;

namespace PgWal.Tests.Unit;

public class WalGeometryTests
{
    public static TheoryData<int> AllSegmentSizes()
    {
        var data = new TheoryData<int>();
        for (long size = WalGeometry.MinSegmentSize; size <= WalGeometry.MaxSegmentSize; size *= 2)
            data.Add((int)size);
        return data;
    }

    [Theory]
    [InlineData(0)]
    [InlineData(512 * 1024)]
    [InlineData(3 * 1024 * 1024)]
    [InlineData(2 * 1024 * 1024 + 8192)]
    public void Constructor_RejectsInvalidSegmentSizes(int size)
        => Assert.Throws<ArgumentOutOfRangeException>(() => new WalGeometry(size));

    [Theory]
    [MemberData(nameof(AllSegmentSizes))]
    public void SegmentFileName_RoundTripsForEverySegmentSize(int segmentSize)
    {
        var g = new WalGeometry(segmentSize);
        var rng = new Random(segmentSize);
        for (int i = 0; i < 200; i++)
        {
            var tli = new TimelineId((uint)rng.Next(1, int.MaxValue));
            var seg = new SegmentNumber((ulong)rng.NextInt64(0, (long)g.SegmentsPerXLogId * 0xFFFF));
            string name = SegmentFileName.Format(tli, seg, g);
            Assert.True(SegmentFileName.IsSegmentFileName(name));
            Assert.True(SegmentFileName.TryParse(name, g, out var tli2, out var seg2));
            Assert.Equal(tli, tli2);
            Assert.Equal(seg, seg2);
        }
    }

    [Theory]
    [InlineData(16, 0x1588BB0UL, "000000010000000000000001")]
    [InlineData(16, 0x1_0300_0000UL, "000000010000000100000003")]
    [InlineData(1, 0x2A_0050_0000UL, "000000010000002A00000005")]
    [InlineData(1024, 0x3_C000_0000UL, "000000010000000300000003")]
    [InlineData(64, 0x0C00_0000UL, "000000010000000000000003")]
    public void SegmentFileName_MatchesPostgreSqlNaming(int segmentMb, ulong lsn, string expected)
    {
        var g = new WalGeometry(segmentMb * 1024 * 1024);
        Assert.Equal(expected, SegmentFileName.Format(TimelineId.First, g.SegmentOf(new Lsn(lsn)), g));
    }

    [Theory]
    [InlineData("00000001000000000000001")]
    [InlineData("00000001000000000000000g")]
    [InlineData("000000010000000000000001.partial")]
    public void IsSegmentFileName_RejectsOtherNames(string name) => Assert.False(SegmentFileName.IsSegmentFileName(name));

    [Fact]
    public void UsableBytes_MatchReference()
    {
        var g = WalGeometry.Default;
        Assert.Equal(16_728_048UL, g.UsableBytesPerSegment);
        Assert.Equal(8168, WalGeometry.UsableBytesPerPage);
    }

    [Fact]
    public void RecordStart_SkipsPageHeaders()
    {
        var g = WalGeometry.Default;
        Assert.Equal(new Lsn(40), g.ToRecordStart(new UsableBytePosition(0)));
        Assert.Equal(new Lsn(8192 + 24), g.ToRecordStart(new UsableBytePosition(8152)));
        Assert.Equal(new Lsn(16 * 1024 * 1024 + 40), g.ToRecordStart(new UsableBytePosition(g.UsableBytesPerSegment)));
        // A fresh cluster's first record.
        Assert.Equal(new Lsn(0x1000028), g.ToRecordStart(g.ToUsableBytePosition(new Lsn(0x1000000))));
    }

    [Fact]
    public void RecordEnd_StopsAtPageBoundary()
    {
        var g = WalGeometry.Default;
        Assert.Equal(new Lsn(8192), g.ToRecordEnd(new UsableBytePosition(8152)));
        Assert.Equal(new Lsn(16 * 1024 * 1024), g.ToRecordEnd(new UsableBytePosition(g.UsableBytesPerSegment)));
        Assert.Equal(new Lsn(8192 + 32), g.ToRecordEnd(new UsableBytePosition(8160)));
    }

    [Theory]
    [MemberData(nameof(AllSegmentSizes))]
    public void UsableBytePosition_RoundTripsThroughLsn(int segmentSize)
    {
        var g = new WalGeometry(segmentSize);
        var rng = new Random(segmentSize ^ 77);
        for (int i = 0; i < 2000; i++)
        {
            var pos = new UsableBytePosition((ulong)rng.NextInt64(0, 1L << 40));
            var lsn = g.ToRecordStart(pos);
            Assert.True(WalGeometry.OffsetInPage(lsn) >= PageHeader.ShortSize);
            Assert.True(g.OffsetInSegment(lsn) >= PageHeader.LongSize);
            Assert.Equal(pos, g.ToUsableBytePosition(lsn));
            var end = g.ToRecordEnd(pos);
            Assert.Equal(pos, g.ToUsableBytePosition(end));
            Assert.True(end <= lsn);
        }
    }

    [Fact]
    public void UsableBytePosition_CountsEveryUsableByteExactlyOnce()
    {
        // Walk three 1 MB segments 8 bytes at a time: every position past a page header is one more
        // usable 8-byte step; a page start maps to the same position as its first usable byte.
        var g = new WalGeometry(WalGeometry.MinSegmentSize);
        ulong expected = 0;
        for (ulong value = 0; value < 3UL * WalGeometry.MinSegmentSize; value += 8)
        {
            var lsn = new Lsn(value);
            int inPage = WalGeometry.OffsetInPage(lsn);
            int header = g.PageHeaderSizeAt(WalGeometry.PageStart(lsn));
            if (inPage == 0)
            {
                Assert.Equal(expected, g.ToUsableBytePosition(lsn).Value);
                continue;
            }
            if (inPage < header)
                continue;
            Assert.Equal(expected, g.ToUsableBytePosition(lsn).Value);
            Assert.Equal(lsn, g.ToRecordStart(new UsableBytePosition(expected)));
            expected += 8;
        }
        Assert.Equal(3 * g.UsableBytesPerSegment, expected);
    }

    [Fact]
    public void SegmentArithmetic_Works()
    {
        var g = new WalGeometry(WalGeometry.MinSegmentSize);
        var lsn = new Lsn(5UL * 1024 * 1024 + 12345);
        Assert.Equal(new SegmentNumber(5), g.SegmentOf(lsn));
        Assert.Equal(12345, g.OffsetInSegment(lsn));
        Assert.Equal(new Lsn(5UL * 1024 * 1024), g.SegmentStart(new SegmentNumber(5)));
        Assert.Equal(new SegmentNumber(4), g.SegmentOfEnd(g.SegmentStart(new SegmentNumber(5))));
        Assert.Equal(4096u, g.SegmentsPerXLogId);
        Assert.Equal(new Lsn(5UL * 1024 * 1024 + 8192), WalGeometry.PageStart(lsn));
    }
}
