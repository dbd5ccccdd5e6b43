// WAL of two PostgreSQL versions in one directory, or a page magic of no version, stops with an
// error that names the segment and the magic (the reader locks onto the first page's version).
using System.IO.Compression;
using PgWal.Tests.Infrastructure;

namespace PgWal.Tests.Versions;

public sealed class MixedVersionWalTests
{
    private static void Unpack(int major, string segment, string directory)
    {
        string gz = Path.Combine(AppContext.BaseDirectory, "Fixtures", $"pg{major}", "switch-16mb", "pg_wal", segment + ".gz");
        using var input = new GZipStream(File.OpenRead(gz), CompressionMode.Decompress);
        using var output = File.Create(Path.Combine(directory, segment));
        input.CopyTo(output);
    }

    [Fact]
    public void A17SegmentFollowedByAn18One_StopsAtTheSecond_NamingItAndItsMagic()
    {
        using var dir = new TempDirectory("mixed");
        Unpack(17, "000000010000000000000002", dir.Path);
        Unpack(18, "000000010000000000000003", dir.Path);
        var first = RealWalFixture.Get(17, "switch-16mb").First;
        var result = InProcessWaldump.Run("-p", dir.Path, "-s", first.ToString());
        Assert.Equal(1, result.ExitCode);
        // Worded as pg_waldump 17 words it (the page's LSN since 16), then which versions met.
        Assert.Contains("error in WAL record at ", result.Stderr);
        Assert.Contains(": invalid magic number D118 in WAL segment 000000010000000000000003, LSN 0/3000000, offset 0\n", result.Stderr.ReplaceLineEndings("\n"));
        Assert.Contains("hint: segment 000000010000000000000003 holds PostgreSQL 18 WAL (magic D118) where the WAL before it is PostgreSQL 17's", result.Stderr);
    }

    [Fact]
    public void AMagicOfNoVersion_IsNamed_WithTheSegment_AndTheVersionsRead()
    {
        using var dir = new TempDirectory("mixed");
        Unpack(17, "000000010000000000000002", dir.Path);
        string path = Path.Combine(dir.Path, "000000010000000000000002");
        using (var f = File.OpenWrite(path))
            f.Write([0x20, 0xD1]);   // 0xD120, the first page's magic
        var first = RealWalFixture.Get(17, "switch-16mb").First;
        var result = InProcessWaldump.Run("-p", dir.Path, "-s", first.ToString());
        Assert.Equal(1, result.ExitCode);
        Assert.Contains($"could not find a valid record after {first}", result.Stderr);
        Assert.Contains("hint: invalid magic number D120 in log segment 000000010000000000000002, offset 0", result.Stderr);
        Assert.Contains("D110 (PostgreSQL 15), D113 (16), D116 (17) and D118 (18)", result.Stderr);
    }

    [Fact]
    public void AMagicOfNoVersion_InTheMiddle_StopsThere_NamingSegmentMagicAndTheVersionsRead()
    {
        using var dir = new TempDirectory("mixed");
        Unpack(17, "000000010000000000000002", dir.Path);
        using (var f = File.OpenWrite(Path.Combine(dir.Path, "000000010000000000000002")))
        {
            f.Position = 8192;      // the second page
            f.Write([0x20, 0xD1]);
        }
        var first = RealWalFixture.Get(17, "switch-16mb").First;
        var result = InProcessWaldump.Run("-p", dir.Path, "-s", first.ToString());
        Assert.Equal(1, result.ExitCode);
        Assert.Contains(": invalid magic number D120 in WAL segment 000000010000000000000002, LSN 0/2002000, offset 8192", result.Stderr);
        Assert.Contains("hint: segment 000000010000000000000002 has a page of no known version (magic D120); the WAL page magic numbers read are D110 (PostgreSQL 15), D113 (16), D116 (17) and D118 (18)", result.Stderr);
    }
}
