namespace PgWal.Tests.Unit;

public class LsnTests
{
    [Theory]
    [InlineData("0/1588BB0", 0x1588BB0UL)]
    [InlineData("0/0", 0UL)]
    [InlineData("1/0", 0x1_0000_0000UL)]
    [InlineData("FFFFFFFF/FFFFFFFF", ulong.MaxValue)]
    [InlineData("a/b", 0xA_0000_000BUL)]
    public void Parse_ReadsBothHalves(string text, ulong expected) => Assert.Equal(expected, Lsn.Parse(text).Value);

    [Theory]
    [InlineData("")]
    [InlineData("/1")]
    [InlineData("1/")]
    [InlineData("123456789/1")]
    [InlineData("0x1/1")]
    [InlineData("1-1")]
    [InlineData("G/1")]
    public void TryParse_RejectsMalformedText(string text) => Assert.False(Lsn.TryParse(text, out _));

    [Fact]
    public void ToString_IsUnpaddedUpperHex() => Assert.Equal("2A/1588BB0", new Lsn(0x2A_0158_8BB0UL).ToString());

    [Fact]
    public void PaddedFormat_PadsLowHalfToEightDigits()
    {
        var lsn = new Lsn(0x1588BB0);
        Assert.Equal("0/01588BB0", lsn.ToPaddedString());
        Assert.Equal("0/01588BB0", $"{lsn:P}");
        Span<byte> utf8 = stackalloc byte[32];
        Assert.True(lsn.TryFormat(utf8, out int n, "P", null));
        Assert.Equal("0/01588BB0"u8.ToArray(), utf8[..n].ToArray());
    }

    [Fact]
    public void Arithmetic_AndComparisons_Work()
    {
        var a = new Lsn(100);
        var b = a + 28;
        Assert.Equal(128UL, b.Value);
        Assert.Equal(28UL, b - a);
        var same = new Lsn(100);
        Assert.True(a < b && b > a && a <= same && a >= same && b >= a);
        Assert.Equal(new Lsn(104), new Lsn(97).AlignUp());
        Assert.Equal(new Lsn(104), new Lsn(104).AlignUp());
        Assert.Throws<OverflowException>(() => new Lsn(ulong.MaxValue) + 1);
    }

    [Fact]
    public void FormatThenParse_RoundTrips()
    {
        var rng = new Random(5);
        for (int i = 0; i < 1000; i++)
        {
            var lsn = new Lsn((ulong)rng.NextInt64());
            Assert.Equal(lsn, Lsn.Parse(lsn.ToString()));
        }
    }
}
