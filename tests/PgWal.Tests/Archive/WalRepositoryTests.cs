// WalRepositoryTests: the archive repository on real PostgreSQL 15 segments. Every codec restores
// byte-identical files; a push is idempotent for identical content and refuses different content
// (a history file is never overwritten); WAL of another cluster, a file that is not the segment its
// name says, and names PostgreSQL would never archive are refused; a damaged archived file (a bit
// flip anywhere, a truncation) is an error naming the file, never a silent "not archived"; and no
// temporary file is ever left visible.
using PgWal.Archive;
using PgWal.Format;
using PgWal.Tests.Infrastructure;

namespace PgWal.Tests.Archive;

public sealed class WalRepositoryTests
{
    [Theory]
    [InlineData(ArchiveCodec.Zstd)]
    [InlineData(ArchiveCodec.Lz4)]
    [InlineData(ArchiveCodec.None)]
    public void Push_ThenRead_GivesBackEveryRealSegmentByteForByte(ArchiveCodec codec)
    {
        var f = RealWalFixture.Get("mixed-1mb");
        using var dir = new TempDirectory("repo");
        var repo = WalRepository.Create(dir.Combine("r"), codec);
        var segments = SegmentFiles.In(f.WalDirectory);
        Assert.True(segments.Length >= 2);
        foreach (string s in segments)
            Assert.Equal(PushOutcome.Stored, repo.Push(s, ArchiveNames.Of(Path.GetFileName(s))));
        var reopened = WalRepository.Open(dir.Combine("r"));
        Assert.Equal(codec, reopened.Compression);
        Assert.NotNull(reopened.SystemIdentifier);
        foreach (string s in segments)
            Assert.Equal(File.ReadAllBytes(s), reopened.TryRead(ArchiveNames.Of(Path.GetFileName(s))));
        Assert.Null(reopened.TryRead(ArchiveNames.Of("0000000100000000000000FF")));
        // Only the settings, the lock and the archived files: no temporary file left behind.
        var files = Directory.GetFiles(dir.Combine("r"), "*", SearchOption.AllDirectories).Select(p => Path.GetRelativePath(dir.Combine("r"), p)).ToArray();
        Assert.All(files, p => Assert.True(p is WalRepository.ConfigFileName or ".lock" || p.EndsWith(".pgwal", StringComparison.Ordinal), p));
        if (codec != ArchiveCodec.None)
            Assert.True(new FileInfo(repo.PathOf(ArchiveNames.Of(Path.GetFileName(segments[0])))).Length < new FileInfo(segments[0]).Length / 2, "compressed");
    }

    [Theory]
    [InlineData(ArchiveCodec.Zstd)]
    [InlineData(ArchiveCodec.Lz4)]
    [InlineData(ArchiveCodec.None)]
    public void SixteenMegabyteSegments_GoThroughManyChunks_AndRestoreByteForByte(ArchiveCodec codec)
    {
        var f = RealWalFixture.Get("switch-16mb");
        using var dir = new TempDirectory("repo16");
        var repo = WalRepository.Create(dir.Combine("r"), codec);
        Assert.NotEmpty(SegmentFiles.In(f.WalDirectory));
        foreach (string s in SegmentFiles.In(f.WalDirectory))
        {
            Assert.Equal(16 * ArchiveFileHeader.ChunkSize, new FileInfo(s).Length);
            var name = ArchiveNames.Of(Path.GetFileName(s));
            repo.Push(s, name);
            Assert.Equal(PushOutcome.AlreadyArchived, repo.Push(s, name));
            Assert.True(repo.TryRestore(name, dir.Combine("RECOVERYXLOG")));
            Assert.True(File.ReadAllBytes(s).AsSpan().SequenceEqual(File.ReadAllBytes(dir.Combine("RECOVERYXLOG"))));
        }
        Assert.False(repo.TryRestore(ArchiveNames.Of("0000000100000000000000EE"), dir.Combine("absent")));
        Assert.False(File.Exists(dir.Combine("absent")));
    }

    [Fact]
    public void Push_IsIdempotent_AndNeverReplacesDifferentContent()
    {
        var f = RealWalFixture.Get("mixed-1mb");
        using var dir = new TempDirectory("repo");
        var repo = WalRepository.Create(dir.Combine("r"), ArchiveCodec.Zstd);
        var segments = SegmentFiles.In(f.WalDirectory);
        var first = ArchiveNames.Of(Path.GetFileName(segments[0]));
        Assert.Equal(PushOutcome.Stored, repo.Push(segments[0], first));
        Assert.Equal(PushOutcome.AlreadyArchived, repo.Push(segments[0], first));
        byte[] archived = File.ReadAllBytes(repo.PathOf(first));

        // The same name with other bytes (one bit changed after the header): refused, archive unchanged.
        byte[] changed = File.ReadAllBytes(segments[0]);
        changed[^1] ^= 1;
        File.WriteAllBytes(dir.Combine("changed"), changed);
        var e = Assert.Throws<ArchiveException>(() => repo.Push(dir.Combine("changed"), first));
        Assert.Contains("already exists", e.Message);
        Assert.Contains(first.Name, e.Message);
        Assert.Equal(archived, File.ReadAllBytes(repo.PathOf(first)));

        // History files: identical again is fine, different is refused.
        File.WriteAllText(dir.Combine("h1"), "1\t0/3000000\tno recovery target specified\n");
        File.WriteAllText(dir.Combine("h2"), "1\t0/4000000\tno recovery target specified\n");
        var history = ArchiveNames.Of("00000002.history");
        Assert.Equal(PushOutcome.Stored, repo.Push(dir.Combine("h1"), history));
        Assert.Equal(PushOutcome.AlreadyArchived, repo.Push(dir.Combine("h1"), history));
        var he = Assert.Throws<ArchiveException>(() => repo.Push(dir.Combine("h2"), history));
        Assert.Contains("never overwritten", he.Message);
        Assert.Equal(File.ReadAllBytes(dir.Combine("h1")), repo.TryRead(history));
    }

    [Fact]
    public void Push_RefusesOtherClustersAndFilesThatAreNotTheSegmentTheirNameSays()
    {
        var f = RealWalFixture.Get("mixed-1mb");
        using var dir = new TempDirectory("repo");
        var repo = WalRepository.Create(dir.Combine("r"), ArchiveCodec.Lz4);
        var segments = SegmentFiles.In(f.WalDirectory);
        repo.Push(segments[0], ArchiveNames.Of(Path.GetFileName(segments[0])));

        // Another cluster: the same segment with another system identifier in its long header.
        byte[] other = File.ReadAllBytes(segments[1]);
        var header = PageHeader.Read(other);
        (header with { SystemIdentifier = header.SystemIdentifier + 1 }).Write(other);
        File.WriteAllBytes(dir.Combine("other"), other);
        var e = Assert.Throws<ArchiveException>(() => repo.Push(dir.Combine("other"), ArchiveNames.Of(Path.GetFileName(segments[1]))));
        Assert.Contains("another cluster", e.Message);
        Assert.Contains(header.SystemIdentifier.ToString(), e.Message);

        // A segment pushed under the name of another one.
        var wrong = Assert.Throws<ArchiveException>(() => repo.Push(segments[1], ArchiveNames.Of(Path.GetFileName(segments[0])[..^1] + "F")));
        Assert.Contains("does not hold segment", wrong.Message);

        // Not WAL at all, and a short file.
        File.WriteAllBytes(dir.Combine("zeros"), new byte[f.SegmentSize]);
        Assert.Contains("invalid magic number", Assert.Throws<ArchiveException>(() => repo.Push(dir.Combine("zeros"), ArchiveNames.Of("000000010000000000000077"))).Message);
        File.WriteAllBytes(dir.Combine("short"), File.ReadAllBytes(segments[1])[..8192]);
        Assert.Contains("8192 bytes", Assert.Throws<ArchiveException>(() => repo.Push(dir.Combine("short"), ArchiveNames.Of(Path.GetFileName(segments[1])))).Message);
        Assert.False(repo.Contains(ArchiveNames.Of(Path.GetFileName(segments[1]))));
    }

    [Theory]
    [InlineData("000000010000000000000001")]
    [InlineData("000000010000000000000001.partial")]
    [InlineData("00000002.history")]
    [InlineData("000000010000000000000003.00000028.backup")]
    public void Names_PostgreSqlArchives_AreAccepted(string name) => Assert.Null(ArchivedFileName.TryParse(name, out _));

    [Theory]
    [InlineData("00000001000000000000000a")]        // lower case
    [InlineData("0000000100000000000000001")]       // 25 digits
    [InlineData("00000002.History")]
    [InlineData("000000010000000000000003.backup")]
    [InlineData("000000000000000000000001")]        // timeline 0
    [InlineData("../00000001000000000000000A")]
    [InlineData("RECOVERYXLOG")]
    public void Names_PostgreSqlNeverArchives_AreRefused(string name) => Assert.NotNull(ArchivedFileName.TryParse(name, out _));

    [Fact]
    public void Read_OfADamagedFile_FailsNamingTheFile_WhereverTheDamageIs()
    {
        var f = RealWalFixture.Get("compression-1mb");
        using var dir = new TempDirectory("repo");
        var repo = WalRepository.Create(dir.Combine("r"), ArchiveCodec.Zstd);
        string segment = SegmentFiles.In(f.WalDirectory)[0];
        var name = ArchiveNames.Of(Path.GetFileName(segment));
        repo.Push(segment, name);
        string stored = repo.PathOf(name);
        byte[] good = File.ReadAllBytes(stored);
        var rng = new Random(13);
        // Bit flips in the header, at the start of the data and at random places; then truncations.
        var damages = new List<byte[]>();
        foreach (int offset in new[] { 0, 9, 17, 30, 37, 45, ArchiveFileHeader.Size, good.Length - 1 }.Concat(Enumerable.Range(0, 12).Select(_ => rng.Next(good.Length))))
        {
            byte[] bad = (byte[])good.Clone();
            bad[offset] ^= (byte)(1 << rng.Next(8));
            damages.Add(bad);
        }
        damages.Add(good[..(good.Length - 1)]);
        damages.Add(good[..ArchiveFileHeader.Size]);
        damages.Add(good[..10]);
        damages.Add([]);
        foreach (byte[] bad in damages)
        {
            File.WriteAllBytes(stored, bad);
            var e = Assert.Throws<ArchiveException>(() => repo.TryRead(name));
            Assert.True(e.Damaged, e.Message);
            Assert.Contains(stored, e.Message);
        }
        File.WriteAllBytes(stored, good);
        Assert.Equal(File.ReadAllBytes(segment), repo.TryRead(name));
    }

    [Fact]
    public void CreateAndOpen_RefuseWhatIsNotAnEmptyDirectoryOrARepository()
    {
        using var dir = new TempDirectory("repo");
        Directory.CreateDirectory(dir.Combine("busy"));
        File.WriteAllText(dir.Combine("busy", "x"), "x");
        Assert.Contains("not empty", Assert.Throws<ArchiveException>(() => WalRepository.Create(dir.Combine("busy"), ArchiveCodec.Zstd)).Message);
        Assert.Contains("not a PgWal archive repository", Assert.Throws<ArchiveException>(() => WalRepository.Open(dir.Combine("busy"))).Message);
        Assert.Contains("does not exist", Assert.Throws<ArchiveException>(() => WalRepository.Open(dir.Combine("nope"))).Message);
        WalRepository.Create(dir.Combine("r"), ArchiveCodec.None);
        Assert.Contains("already", Assert.Throws<ArchiveException>(() => WalRepository.Create(dir.Combine("r"), ArchiveCodec.Zstd)).Message);
        File.AppendAllText(dir.Combine("r", WalRepository.ConfigFileName), "compression = brotli\n");
        Assert.Contains("line", Assert.Throws<ArchiveException>(() => WalRepository.Open(dir.Combine("r"))).Message);
    }
}
