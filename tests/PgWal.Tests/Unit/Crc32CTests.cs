using System.Buffers.Binary;
using System.Numerics;
using PgWal.Format;

namespace PgWal.Tests.Unit;

public class Crc32CTests
{
    [Fact]
    public void CheckValue_MatchesPublishedValue()
        => Assert.Equal(0xE3069283u, Crc32C.Compute("123456789"u8));

    [Fact]
    public void EmptyInput_IsZero() => Assert.Equal(0u, Crc32C.Compute([]));

    [Fact]
    public void SwitchRecordVector_FromReference()
    {
        // pg-wal-format.md §1.1: XLOG_SWITCH at 0/1588BB0, header only.
        byte[] record = Convert.FromHexString("180000000000000038" + "8B580100000000" + "40000000" + "5BCEC082");
        Assert.Equal(0x82C0CE5Bu, Crc32C.Compute(record.AsSpan(0, 20)));
        Assert.Equal(0x82C0CE5Bu, RecordHeader.ComputeCrc(record));
        Assert.Equal(BinaryPrimitives.ReadUInt32LittleEndian(record.AsSpan(20)), RecordHeader.ComputeCrc(record));
    }

    [Fact]
    public void CheckpointRecordVector_FromReference()
    {
        // pg-wal-format.md §4.3: initdb's shutdown checkpoint (with garbage padding), CRC C7420FB4.
        string hex =
            "72000000" + "00000000" + "0000000000000000" + "00" + "00" + "0000" + "b40f42c7" +
            "ff58" +
            "2800000100000000" + "01000000" + "01000000" + "01" + "00000000000000" +
            "0300000000000000" + "10270000" + "01000000" + "00000000" +
            "03000000" + "01000000" + "01000000" + "01000000" + "fe7f0000" +
            "0c68016b00000000" + "00000000" + "00000000" + "00000000" + "fe7f0000";
        byte[] record = Convert.FromHexString(hex);
        Assert.Equal(114, record.Length);
        Assert.Equal(0xC7420FB4u, RecordHeader.ComputeCrc(record));
        var cp = CheckPoint.Read(record.AsSpan(26));
        Assert.Equal(new Lsn(0x1000028), cp.Redo);
        Assert.Equal(10000u, cp.NextOid);
        Assert.Equal(3UL, cp.NextXid);
    }

    [Fact]
    public void InterleavedPath_MatchesBytewiseReference()
    {
        var rng = new Random(42);
        var data = new byte[40_000];
        rng.NextBytes(data);
        foreach (int length in new[] { 0, 1, 7, 8, 9, 31, 32, 33, 767, 768, 769, 6143, 6144, 6145, 8192, 12_345, 40_000 })
        {
            uint expected = 0xFFFFFFFF;
            foreach (byte b in data.AsSpan(0, length))
                expected = BitOperations.Crc32C(expected, b);
            Assert.Equal(~expected, Crc32C.Compute(data.AsSpan(0, length)));
        }
        for (int i = 0; i < 300; i++)
        {
            int start = rng.Next(0, 1000), length = rng.Next(0, 30_000);
            uint expected = 0xFFFFFFFF;
            foreach (byte b in data.AsSpan(start, length))
                expected = BitOperations.Crc32C(expected, b);
            Assert.Equal(~expected, Crc32C.Compute(data.AsSpan(start, length)));
        }
    }

    [Fact]
    public void Append_InPieces_EqualsWhole()
    {
        var data = new byte[10_000];
        new Random(3).NextBytes(data);
        uint crc = Crc32C.InitialValue;
        crc = Crc32C.Append(crc, data.AsSpan(0, 3333));
        crc = Crc32C.Append(crc, data.AsSpan(3333));
        Assert.Equal(Crc32C.Compute(data), Crc32C.Finish(crc));
    }
}
