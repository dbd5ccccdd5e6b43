// TarExtractorTests: the plain-format extraction of BASE_BACKUP archives refuses what a hostile
// or broken server could send: names escaping the target, bad checksums, unsupported member types,
// data after the trailer, a trailer of more than two blocks, a truncated archive; and extracts a
// valid archive in any chunking.
using System.Buffers;
using System.Formats.Tar;
using PgWal.Replication.Client;
using PgWal.Tests.Infrastructure;

namespace PgWal.Tests.Replication.Client;

public sealed class TarExtractorTests
{
    private const UnixFileMode FileMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode DirMode = FileMode | UnixFileMode.UserExecute;

    [Fact]
    public void ValidArchive_IsExtracted_InAnyChunking()
    {
        byte[] tar = Tar(("./pg_wal/archive_status", null), ("global/pg_control", new byte[700]), ("PG_VERSION", "15\n"u8.ToArray()));
        foreach (int chunk in new[] { 1, 511, 512, 4096, tar.Length })
        {
            using var dir = new TempDirectory("tarok");
            using (var x = new TarExtractor(dir.Path, FileMode, DirMode))
            {
                for (int at = 0; at < tar.Length; at += chunk)
                    x.Write(new ReadOnlySequence<byte>(tar, at, Math.Min(chunk, tar.Length - at)));
                x.Finish();
            }
            Assert.Equal("15\n", File.ReadAllText(dir.Combine("PG_VERSION")));
            Assert.Equal(700, new FileInfo(dir.Combine("global", "pg_control")).Length);
            Assert.True(Directory.Exists(dir.Combine("pg_wal", "archive_status")));
        }
    }

    [Theory]
    [InlineData("../outside")]
    [InlineData("/etc/passwd")]
    [InlineData("a/../../outside")]
    [InlineData("a//b")]
    public void NamesOutsideTheTarget_AreRefused(string name)
    {
        using var dir = new TempDirectory("tarbad");
        using var x = new TarExtractor(dir.Combine("target"), FileMode, DirMode);
        var e = Assert.Throws<InvalidDataException>(() => x.Write(new ReadOnlySequence<byte>(Tar((name, new byte[1])))));
        Assert.Contains(name, e.Message);
        Assert.False(File.Exists(dir.Combine("outside")));
    }

    [Fact]
    public void BrokenArchives_AreRefused()
    {
        using var dir = new TempDirectory("tarbroken");
        byte[] tar = Tar(("file", new byte[10]));
        byte[] badChecksum = (byte[])tar.Clone();
        badChecksum[0] ^= 1;
        Assert.Contains("checksum", Fails(dir, badChecksum));
        Assert.Contains("exceeds 2 blocks", Fails(dir, [.. tar, .. new byte[512]]));
        Assert.Contains("truncated", Fails(dir, tar[..600]));
        Assert.Contains("two zero blocks", Fails(dir, tar[..^512]));
        Assert.Contains("after the end", Fails(dir, [.. tar[..^512], .. tar]));
    }

    private static string Fails(TempDirectory dir, byte[] tar)
    {
        string target = dir.Combine(Guid.NewGuid().ToString("N"));
        using var x = new TarExtractor(target, FileMode, DirMode);
        return Assert.Throws<InvalidDataException>(() =>
        {
            x.Write(new ReadOnlySequence<byte>(tar));
            x.Finish();
        }).Message;
    }

    private static byte[] Tar(params (string Name, byte[]? Data)[] members)
    {
        var output = new MemoryStream();
        using (var writer = new TarWriter(output, TarEntryFormat.Ustar, leaveOpen: true))
        {
            foreach (var (name, data) in members)
            {
                var entry = new UstarTarEntry(data == null ? TarEntryType.Directory : TarEntryType.RegularFile, name);
                if (data != null)
                    entry.DataStream = new MemoryStream(data);
                writer.WriteEntry(entry);
            }
        }
        return output.ToArray();
    }
}
