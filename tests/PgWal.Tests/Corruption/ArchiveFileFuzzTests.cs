// ArchiveFileFuzzTests: 3,000 damaged archive files (1,000 per codec) read back. Each iteration
// damages a valid multi-chunk file: bit flips, overwritten runs, truncations, appended bytes, forged
// chunk lengths, and forged headers whose own checksum is recomputed (so the deeper checks are
// reached). Reading must either return exactly the original bytes (a damage that changed nothing)
// or fail with a "damaged" ArchiveException naming the file: never another exception, never a
// hang, never an allocation sized by a length read from the file.
using System.Buffers.Binary;
using PgWal.Archive;
using PgWal.Format;
using PgWal.Tests.Infrastructure;

namespace PgWal.Tests.Corruption;

public sealed class ArchiveFileFuzzTests
{
    private const int IterationsPerCodec = 1000;
    private const long MaxAllocationPerRead = 8 * 1024 * 1024;

    [Theory]
    [InlineData(ArchiveCodec.Zstd)]
    [InlineData(ArchiveCodec.Lz4)]
    [InlineData(ArchiveCodec.None)]
    public void DamagedArchiveFiles_AreReportedAsDamaged_NeverMisread(ArchiveCodec codec)
    {
        var f = RealWalFixture.Get("mixed-1mb");
        using var dir = new TempDirectory("archfuzz");
        // About 2.2 MB of real WAL bytes: three chunks, the last one short.
        byte[] original = SegmentFiles.In(f.WalDirectory)
            .SelectMany(File.ReadAllBytes).Take(2 * ArchiveFileHeader.ChunkSize + 200_000).ToArray();
        Assert.True(original.Length > 2 * ArchiveFileHeader.ChunkSize);
        string source = dir.Combine("source"), valid = dir.Combine("valid"), fuzzed = dir.Combine("fuzzed");
        File.WriteAllBytes(source, original);
        using (var input = File.OpenHandle(source))
        using (var output = File.OpenHandle(valid, FileMode.CreateNew, FileAccess.Write))
            ArchiveFileCodec.Write(input, original.Length, source, output, valid, codec);
        byte[] good = File.ReadAllBytes(valid);
        Assert.Equal(original, Read(valid));

        var rng = new Random(7 + (int)codec);
        int damaged = 0, unchanged = 0;
        for (int i = 0; i < IterationsPerCodec; i++)
        {
            byte[] bad = Damage(good, rng, codec);
            File.WriteAllBytes(fuzzed, bad);
            long before = GC.GetAllocatedBytesForCurrentThread();
            try
            {
                byte[] back = Read(fuzzed);
                Assert.True(back.AsSpan().SequenceEqual(original), $"iteration {i}: a damaged file was read back as different bytes");
                unchanged++;
            }
            catch (ArchiveException e)
            {
                Assert.True(e.Damaged, $"iteration {i}: {e.Message}");
                Assert.Contains(fuzzed, e.Message);
                damaged++;
            }
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.True(allocated < MaxAllocationPerRead + original.Length * 2L, $"iteration {i}: {allocated} bytes allocated");
        }
        Assert.True(damaged > IterationsPerCodec * 9 / 10, $"only {damaged} damaged, {unchanged} unchanged");
    }

    private static byte[] Read(string path)
    {
        using var file = File.OpenHandle(path);
        var content = new MemoryStream();
        ArchiveFileCodec.Read(file, path, (chunk, _) => content.Write(chunk));
        return content.ToArray();
    }

    private static byte[] Damage(byte[] good, Random rng, ArchiveCodec codec)
    {
        byte[] bad = (byte[])good.Clone();
        switch (rng.Next(7))
        {
            case 0:
                for (int n = rng.Next(1, 4); n > 0; n--)
                    bad[rng.Next(bad.Length)] ^= (byte)(1 << rng.Next(8));
                return bad;
            case 1:
            {
                int at = rng.Next(bad.Length), len = Math.Min(rng.Next(1, 4096), bad.Length - at);
                rng.NextBytes(bad.AsSpan(at, len));
                return bad;
            }
            case 2:
                return bad[..rng.Next(bad.Length)];
            case 3:
            {
                var longer = new byte[bad.Length + rng.Next(1, 100)];
                bad.CopyTo(longer, 0);
                rng.NextBytes(longer.AsSpan(bad.Length));
                return longer;
            }
            case 4 when codec != ArchiveCodec.None:
            {
                // The first chunk's length: 0, huge, just beyond the bound, or off by a little.
                uint[] lengths = [0, uint.MaxValue, int.MaxValue, (uint)ArchiveFileHeader.ChunkSize * 2, BinaryPrimitives.ReadUInt32LittleEndian(bad.AsSpan(ArchiveFileHeader.Size)) + (uint)rng.Next(-3, 4)];
                BinaryPrimitives.WriteUInt32LittleEndian(bad.AsSpan(ArchiveFileHeader.Size), lengths[rng.Next(lengths.Length)]);
                return bad;
            }
            default:
            {
                // A forged header that passes its own checksum: extreme lengths, another codec, other CRCs.
                Assert.Null(ArchiveFileHeader.TryRead(bad, out var h));
                ulong[] sizes = [0, 1, h.OriginalLength - 1, h.OriginalLength + 1, ulong.MaxValue, 1UL << 40, (ulong)ArchiveFileHeader.ChunkSize];
                var forged = rng.Next(5) switch
                {
                    0 => h with { OriginalLength = sizes[rng.Next(sizes.Length)] },
                    1 => h with { StoredLength = sizes[rng.Next(sizes.Length)] },
                    2 => h with { Codec = (ArchiveCodec)rng.Next(3) },
                    3 => h with { OriginalCrc = (uint)rng.Next() },
                    _ => h with { StoredCrc = (uint)rng.Next() },
                };
                forged.Write(bad);
                return bad;
            }
        }
    }
}
