using System.Buffers.Binary;
using PgWal.Format;
using PgWal.Read;

namespace PgWal.Tests.Unit;

// Sizes and offsets asserted against Format/FORMAT.md and the byte examples in the reference.
public class FormatLayoutTests
{
    [Fact]
    public void Sizes_MatchPostgreSql15()
    {
        Assert.Equal(24, RecordHeader.Size);
        Assert.Equal(24, PageHeader.ShortSize);
        Assert.Equal(40, PageHeader.LongSize);
        Assert.Equal(88, CheckPoint.Size);
        Assert.Equal(27, BlockReferenceFormat.MaxBlockHeaderSize);
        Assert.Equal(72, SmallXlogPayloads.RestorePointSize);
        Assert.Equal(24, DataPageHeader.Size);
        Assert.Equal(0xD110, PageHeader.MagicPg15);
    }

    [Fact]
    public void LongPageHeader_RoundTripsReferenceBytes()
    {
        // pg-wal-format.md §3.1, first page of 000000010000000000000001 after initdb.
        byte[] bytes = Convert.FromHexString("10d1020001000000000000010000000000000000000000" + "00d821004f0c68016b" + "0000000100200000");
        var header = PageHeader.Read(bytes);
        Assert.Equal(PageHeader.MagicPg15, header.Magic);
        Assert.Equal(PageInfo.LongHeader, header.Info);
        Assert.Equal(new Lsn(0x1000000), header.PageAddress);
        Assert.Equal(7710558439109304792UL, header.SystemIdentifier);
        Assert.Equal(16u * 1024 * 1024, header.SegmentSize);
        Assert.Equal(8192u, header.BlockSize);
        var written = new byte[40];
        header.Write(written);
        Assert.Equal(bytes, written);
    }

    [Fact]
    public void HeapInsertExample_DecodesLikePgWaldump()
    {
        // pg-wal-format.md §2.6: header and sub-headers of a real Heap INSERT with an FPI
        // (len 54/1958, block 1663/5/1247 blk 14, hole at 64 of 6288 bytes, 3 bytes main data).
        byte[] record = new byte[1958];
        Convert.FromHexString("a6070000d5020000e82651010000000000" + "0a0000" + "937cc32e").CopyTo(record, 0);
        Convert.FromHexString("00100000" + "7007400003" + "7f06000005000000df040000" + "0e000000" + "ff03").CopyTo(record, 24);
        var decoded = Decode(record);
        Assert.Equal(1958u, decoded.TotalLength);
        Assert.Equal(54u, decoded.RecordLength);
        Assert.Equal(0, decoded.MaxBlockId);
        ref readonly var b = ref decoded.Block(0);
        Assert.Equal(new RelFileLocator(1663, 5, 1247), b.Rel);
        Assert.Equal(14u, b.Block.Value);
        Assert.True(b.HasImage && b.ApplyImage && !b.IsImageCompressed);
        Assert.Equal(64, b.HoleOffset);
        Assert.Equal(6288, b.HoleLength);
        Assert.Equal(1904, b.ImageLength);
        Assert.Equal(3, decoded.MainDataLength);
    }

    [Fact]
    public void SameRelExample_ResolvesRelationOfPreviousBlock()
    {
        // pg-wal-format.md §2.6: Heap2 VISIBLE, two blocks, the second SAME_REL on another fork.
        byte[] record = Convert.FromHexString(
            "3b00000000000000c0764801000000004009000096f6d1a0" +
            "000200007f060000010000003b0a000000000000" +
            "0180000001000000" +
            "ff05aa02000003");
        var decoded = Decode(record);
        Assert.Equal(1, decoded.MaxBlockId);
        Assert.Equal(ForkNumber.VisibilityMap, decoded.Block(0).Fork);
        Assert.Equal(new RelFileLocator(1663, 1, 2619), decoded.Block(1).Rel);
        Assert.Equal(ForkNumber.Main, decoded.Block(1).Fork);
        Assert.Equal(1u, decoded.Block(1).Block.Value);
        Assert.Equal(5, decoded.MainDataLength);
    }

    private static DecodedRecord Decode(byte[] record)
    {
        var decoded = new DecodedRecord();
        decoded.Reset(new Lsn(0x1512718), record, 0);
        var (kind, message) = RecordBodyDecoder.Decode(record, decoded, Lsn.Invalid);
        Assert.True(kind == CorruptionKind.None, message);
        return decoded;
    }

    [Fact]
    public void DataPageHole_FollowsPdLowerAndPdUpper()
    {
        var page = new byte[8192];
        DataPageHeader.WriteLowerUpper(page, 64, 6352);
        Assert.Equal(((ushort)64, (ushort)6288), DataPageHeader.Hole(page));
        DataPageHeader.WriteLowerUpper(page, 20, 6352);
        Assert.Equal(((ushort)0, (ushort)0), DataPageHeader.Hole(page));
        DataPageHeader.WriteLowerUpper(page, 100, 100);
        Assert.Equal(((ushort)0, (ushort)0), DataPageHeader.Hole(page));
        DataPageHeader.WriteLowerUpper(page, 100, 9000);
        Assert.Equal(((ushort)0, (ushort)0), DataPageHeader.Hole(page));
        DataPageHeader.WriteLsn(page, new Lsn(0x1_0000_0002));
        Assert.Equal(1u, BinaryPrimitives.ReadUInt32LittleEndian(page));
        Assert.Equal(new Lsn(0x1_0000_0002), DataPageHeader.ReadLsn(page));
    }
}
