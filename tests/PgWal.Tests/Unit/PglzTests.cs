using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using PgWal.Compression;

namespace PgWal.Tests.Unit;

public class PglzTests
{
    // ---- Known answers produced by PostgreSQL 15.18's own pg_lzcompress.c (see Fixtures/pglz/README.md).

    private sealed record Vector(char Kind, string Name, byte[] Input, int RawSize, bool CheckComplete, int Expected, byte[] Output);

    private static readonly Lazy<Dictionary<string, Vector>> s_vectors = new(LoadVectors);

    private static Dictionary<string, Vector> LoadVectors()
    {
        string path = Path.Combine(AppContext.BaseDirectory, "Fixtures", "pglz", "pglz-vectors.bin.gz");
        using var gz = new GZipStream(File.OpenRead(path), CompressionMode.Decompress);
        using var ms = new MemoryStream();
        gz.CopyTo(ms);
        byte[] d = ms.ToArray();
        Assert.True(d.AsSpan(0, 8).SequenceEqual("PGLZKAT1"u8));
        int count = BinaryPrimitives.ReadInt32LittleEndian(d.AsSpan(8));
        int p = 12;
        int I32() { int v = BinaryPrimitives.ReadInt32LittleEndian(d.AsSpan(p)); p += 4; return v; }
        byte[] Bytes(int n) { byte[] b = d.AsSpan(p, n).ToArray(); p += n; return b; }

        var result = new Dictionary<string, Vector>();
        for (int i = 0; i < count; i++)
        {
            char kind = (char)d[p];
            string name = Encoding.ASCII.GetString(d, p + 2, d[p + 1]);
            p += 2 + d[p + 1];
            byte[] input = Bytes(I32());
            int rawSize = input.Length;
            bool check = false;
            if (kind == 'D')
            {
                rawSize = I32();
                check = d[p++] != 0;
            }
            int expected = I32();
            result.Add(name, new Vector(kind, name, input, rawSize, check, expected, Bytes(Math.Max(expected, 0))));
        }
        Assert.Equal(d.Length, p);
        return result;
    }

    public static TheoryData<string> CompressVectors() => [.. s_vectors.Value.Values.Where(v => v.Kind == 'C').Select(v => v.Name)];

    public static TheoryData<string> DecompressVectors() => [.. s_vectors.Value.Values.Where(v => v.Kind == 'D').Select(v => v.Name)];

    [Fact]
    public void Fixture_CoversTheInterestingCases()
    {
        var v = s_vectors.Value;
        Assert.True(v.Count >= 80);
        Assert.Contains(v.Values, x => x.Kind == 'C' && x.Expected == -1);
        Assert.True(v.Values.Count(x => x.Name.StartsWith("wal-", StringComparison.Ordinal)) >= 10);
        Assert.Contains(v.Values, x => x.Kind == 'D' && x.Expected == -1);
    }

    [Theory]
    [MemberData(nameof(CompressVectors))]
    public void Compress_MatchesPostgreSql_ByteForByte(string name)
    {
        Vector v = s_vectors.Value[name];
        byte[] dest = new byte[Pglz.MaxCompressedSize(v.Input.Length)];
        int n = Pglz.Compress(v.Input, dest);
        Assert.Equal(v.Expected, n);
        if (n >= 0)
            Assert.Equal(v.Output, dest.AsSpan(0, n).ToArray());
    }

    [Theory]
    [MemberData(nameof(CompressVectors))]
    public void Decompress_OfPostgreSqlOutput_GivesInputBack(string name)
    {
        Vector v = s_vectors.Value[name];
        if (v.Expected < 0)
            return;
        byte[] raw = new byte[v.Input.Length];
        Assert.Equal(raw.Length, Pglz.Decompress(v.Output, raw, checkComplete: true));
        Assert.Equal(v.Input, raw);
    }

    [Theory]
    [MemberData(nameof(DecompressVectors))]
    public void Decompress_MatchesPostgreSql(string name)
    {
        Vector v = s_vectors.Value[name];
        byte[] raw = new byte[v.RawSize];
        int n = Pglz.Decompress(v.Input, raw, v.CheckComplete);
        Assert.Equal(v.Expected, n);
        if (n >= 0)
            Assert.Equal(v.Output, raw.AsSpan(0, n).ToArray());
    }

    // ---- Round trips and limits.

    private static byte[] RoundTrip(byte[] input)
    {
        byte[] comp = new byte[Pglz.MaxCompressedSize(input.Length)];
        int n = Pglz.Compress(input, comp);
        Assert.True(n > 0, "expected the input to compress");
        Assert.True(n < input.Length * 3 / 4 + 1);
        byte[] raw = new byte[input.Length];
        Assert.Equal(input.Length, Pglz.Decompress(comp.AsSpan(0, n), raw, checkComplete: true));
        Assert.Equal(input, raw);
        return comp.AsSpan(0, n).ToArray();
    }

    /// <summary>A heap-like 8 kB page: header, line pointers, zeroed hole, tuples at the end.</summary>
    private static byte[] MakePage(Random r, int tuples, int tupleLength)
    {
        var page = new byte[8192];
        int lower = 24, upper = 8192;
        BinaryPrimitives.WriteUInt64LittleEndian(page, (ulong)r.NextInt64());
        for (int t = 0; t < tuples && upper - tupleLength - 8 >= lower + 4; t++)
        {
            upper = (upper - tupleLength) & ~7;
            Span<byte> tup = page.AsSpan(upper, tupleLength);
            BinaryPrimitives.WriteUInt32LittleEndian(tup, 700 + (uint)r.Next(3));
            BinaryPrimitives.WriteUInt16LittleEndian(tup[8..], (ushort)t);
            tup[22] = 24;
            for (int j = 24; j < tupleLength; j++)
                tup[j] = j % 5 == 0 ? (byte)r.Next(256) : (byte)('a' + (t + j) % 26);
            BinaryPrimitives.WriteUInt32LittleEndian(page.AsSpan(lower), (uint)upper | 1u << 15 | (uint)tupleLength << 17);
            lower += 4;
        }
        BinaryPrimitives.WriteUInt16LittleEndian(page.AsSpan(12), (ushort)lower);
        BinaryPrimitives.WriteUInt16LittleEndian(page.AsSpan(14), (ushort)upper);
        BinaryPrimitives.WriteUInt16LittleEndian(page.AsSpan(16), 8192);
        BinaryPrimitives.WriteUInt16LittleEndian(page.AsSpan(18), 8192 | 4);
        return page;
    }

    [Theory]
    [InlineData(1, 10, 40)]
    [InlineData(2, 60, 100)]
    [InlineData(3, 200, 32)]
    [InlineData(4, 3, 2000)]
    public void RoundTrip_PageLikeData(int seed, int tuples, int tupleLength)
    {
        var r = new Random(seed);
        byte[] page = MakePage(r, tuples, tupleLength);
        RoundTrip(page);

        // The WAL compresses the page with its hole cut out.
        int lower = BinaryPrimitives.ReadUInt16LittleEndian(page.AsSpan(12));
        int upper = BinaryPrimitives.ReadUInt16LittleEndian(page.AsSpan(14));
        RoundTrip([.. page.AsSpan(0, lower), .. page.AsSpan(upper)]);
    }

    [Theory]
    [InlineData(32)]
    [InlineData(100)]
    [InlineData(1000)]
    [InlineData(8192)]
    [InlineData(100_000)]
    public void RoundTrip_RepetitiveData(int length)
    {
        var r = new Random(length);
        var zeros = new byte[length];
        byte[] c = RoundTrip(zeros);
        Assert.True(c.Length <= length / 80 + 8); // one 3-byte tag per 273 bytes, plus control bytes

        var periodic = new byte[length];
        for (int i = 0; i < length; i++)
            periodic[i] = (byte)"PostgreSQL write-ahead log "[i % 27];
        if (length >= 100)
            RoundTrip(periodic);

        var alphabet = new byte[length];
        for (int i = 0; i < length; i++)
            alphabet[i] = (byte)(r.Next(2) == 0 ? 0x41 : 0xC3); // both sides of the sign bit
        if (length >= 1000)
            RoundTrip(alphabet);
    }

    [Fact]
    public void RoundTrip_ManyShapesAndSizes()
    {
        var r = new Random(42);
        for (int iter = 0; iter < 2000; iter++)
        {
            int length = r.Next(0, 9001);
            var input = new byte[length];
            int period = 1 + r.Next(300);
            for (int i = 0; i < length; i++)
                input[i] = i < period || r.Next(40) == 0 ? (byte)r.Next(256) : input[i - period];
            byte[] comp = new byte[Pglz.MaxCompressedSize(length)];
            int n = Pglz.Compress(input, comp);
            if (n < 0)
                continue;
            byte[] raw = new byte[length];
            Assert.Equal(length, Pglz.Decompress(comp.AsSpan(0, n), raw, checkComplete: true));
            Assert.Equal(input, raw);
        }
    }

    [Theory]
    [InlineData(32)]
    [InlineData(500)]
    [InlineData(8192)]
    [InlineData(65536)]
    public void Compress_IncompressibleData_ReturnsMinusOne(int length)
    {
        var input = new byte[length];
        new Random(length).NextBytes(input);
        Assert.Equal(-1, Pglz.Compress(input, new byte[Pglz.MaxCompressedSize(length)]));
    }

    [Fact]
    public void Compress_InputShorterThan32Bytes_ReturnsMinusOne()
    {
        Assert.Equal(-1, Pglz.Compress([], new byte[4]));
        Assert.Equal(-1, Pglz.Compress(new byte[31], new byte[35]));
        Assert.True(Pglz.Compress(new byte[32], new byte[36]) > 0);
    }

    [Fact]
    public void Compress_NotCompressibleEnough_ReturnsMinusOne()
    {
        // A match early on (so first_success_by does not trigger) but too little overall saving.
        var input = new byte[1000];
        new Random(5).NextBytes(input.AsSpan(100));
        Assert.Equal(-1, Pglz.Compress(input, new byte[1004]));
        // And with enough zeros the same shape passes the 25% bar.
        Array.Clear(input, 0, 400);
        Assert.True(Pglz.Compress(input, new byte[1004]) is > 0 and < 750);
    }

    [Fact]
    public void Compress_RequiresMaxCompressedSizeDestination()
    {
        Assert.Equal(8196, Pglz.MaxCompressedSize(8192));
        Assert.Throws<ArgumentException>(() => Pglz.Compress(new byte[100], new byte[103]));
        Assert.Throws<ArgumentOutOfRangeException>(() => Pglz.MaxCompressedSize(-1));
    }

    [Fact]
    public void Compress_IsRepeatableAcrossCallsAndThreads()
    {
        var r = new Random(9);
        byte[][] inputs = [.. Enumerable.Range(0, 8).Select(i => MakePage(r, 5 + 20 * i, 40 + 10 * i))];
        byte[][] first = [.. inputs.Select(RoundTrip)];
        Parallel.For(0, 64, i =>
        {
            byte[] input = inputs[i % inputs.Length];
            byte[] comp = new byte[Pglz.MaxCompressedSize(input.Length)];
            int n = Pglz.Compress(input, comp);
            Assert.Equal(first[i % inputs.Length], comp.AsSpan(0, n).ToArray());
        });
    }

    [Fact]
    public void MaximumCompressedSize_MatchesPostgreSqlFormula()
    {
        Assert.Equal(11, Pglz.MaximumCompressedSize(8, 1000));   // 9 bytes of literals + 2
        Assert.Equal(9218, Pglz.MaximumCompressedSize(8192, int.MaxValue));
        Assert.Equal(100, Pglz.MaximumCompressedSize(8192, 100));
        Assert.Equal(int.MaxValue, Pglz.MaximumCompressedSize(int.MaxValue, int.MaxValue));
    }

    // ---- Corrupt input.

    [Fact]
    public void Decompress_TruncatedInput_ReturnsMinusOneWhenCheckingCompleteness()
    {
        byte[] page = MakePage(new Random(3), 40, 90);
        byte[] comp = RoundTrip(page);
        byte[] raw = new byte[page.Length];
        for (int len = 0; len < comp.Length; len++)
        {
            Assert.Equal(-1, Pglz.Decompress(comp.AsSpan(0, len), raw, checkComplete: true));
            int partial = Pglz.Decompress(comp.AsSpan(0, len), raw, checkComplete: false);
            Assert.InRange(partial, -1, page.Length - 1);
            if (partial > 0)
                Assert.Equal(page.AsSpan(0, partial).ToArray(), raw.AsSpan(0, partial).ToArray());
        }
    }

    [Fact]
    public void Decompress_WrongRawSizeOrTrailingBytes_FailsOnlyWithCheck()
    {
        byte[] page = MakePage(new Random(4), 30, 64);
        byte[] comp = RoundTrip(page);
        Assert.Equal(-1, Pglz.Decompress(comp, new byte[page.Length + 1], checkComplete: true));
        Assert.Equal(page.Length, Pglz.Decompress(comp, new byte[page.Length + 1], checkComplete: false));
        Assert.Equal(-1, Pglz.Decompress(comp, new byte[page.Length - 1], checkComplete: true));
        Assert.Equal(page.Length - 1, Pglz.Decompress(comp, new byte[page.Length - 1], checkComplete: false));
        byte[] longer = [.. comp, 0];
        Assert.Equal(-1, Pglz.Decompress(longer, new byte[page.Length], checkComplete: true));
        Assert.Equal(page.Length, Pglz.Decompress(longer, new byte[page.Length], checkComplete: false));
    }

    [Fact]
    public void Decompress_RejectsBadTags()
    {
        byte[] raw = new byte[16];
        Assert.Equal(-1, Pglz.Decompress([0x01, 0x00, 0x01], raw, false));        // tag before any output
        Assert.Equal(-1, Pglz.Decompress([0x02, 0x61, 0x00, 0x00], raw, false));  // offset 0
        Assert.Equal(-1, Pglz.Decompress([0x02, 0x61, 0x00, 0x02], raw, false));  // offset beyond output
        Assert.Equal(-1, Pglz.Decompress([0x02, 0x61, 0x00], raw, false));        // tag cut short
        Assert.Equal(-1, Pglz.Decompress([0x02, 0x61, 0x0f, 0x01], raw, false));  // length byte missing
        Assert.Equal(16, Pglz.Decompress([0x02, 0x61, 0x0f, 0x01, 0xff], raw, true));
        Assert.All(raw, b => Assert.Equal(0x61, b));
    }

    [Fact]
    public void Decompress_Fuzz_NeverThrowsOrOverruns()
    {
        var r = new Random(77);
        byte[] page = MakePage(r, 50, 70);
        byte[] good = RoundTrip(page);
        byte[] guarded = new byte[9000 + 64];
        for (int iter = 0; iter < 20_000; iter++)
        {
            byte[] src;
            if (iter % 2 == 0)
            {
                src = (byte[])good.Clone();
                for (int k = 1 + r.Next(4); k > 0; k--)
                    src[r.Next(src.Length)] = (byte)r.Next(256);
                src = src.AsSpan(0, r.Next(src.Length + 1)).ToArray();
            }
            else
            {
                src = new byte[r.Next(200)];
                r.NextBytes(src);
            }
            int rawSize = r.Next(9000);
            guarded.AsSpan().Fill(0xEE);
            int n = Pglz.Decompress(src, guarded.AsSpan(0, rawSize), checkComplete: r.Next(2) == 0);
            Assert.InRange(n, -1, rawSize);
            Assert.True(guarded.AsSpan(rawSize).IndexOfAnyExcept((byte)0xEE) < 0, "wrote past the destination");
        }
    }
}
