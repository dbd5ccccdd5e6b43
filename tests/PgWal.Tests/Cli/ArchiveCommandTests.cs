// ArchiveCommandTests: `pgwal archive get` as restore_command. Exit 0 with the file in place; 1,
// quietly, when the repository does not have it; 200 — above 125, so that PostgreSQL stops recovery
// with FATAL instead of taking it for the end of the archive — for a damaged archived file, a
// repository that is not there and a bad command line, each with one line naming what is wrong.
// `archive push` exits 0 for an identical re-push and 3 for different content under the same name.
using PgWal.Tests.Infrastructure;

namespace PgWal.Tests.Cli;

public sealed class ArchiveCommandTests
{
    [Fact]
    public void GetWithPrefetch_RestoresTheNextSegmentsAhead_AndTheNextGetTakesThemFromTheSpool()
    {
        var f = RealWalFixture.Get("mixed-1mb");
        using var dir = new TempDirectory("prefetch");
        string repo = dir.Combine("repo"), spool = dir.Combine("spool");
        Assert.Equal(0, PgTools.Pgwal(["archive", "init", "--repo", repo]).ExitCode);
        var segments = SegmentFiles.In(f.WalDirectory);
        Assert.True(segments.Length >= 3);
        foreach (string s in segments)
            Assert.Equal(0, PgTools.Pgwal(["archive", "push", "--repo", repo, s]).ExitCode);
        string[] names = segments.Select(p => Path.GetFileName(p)).ToArray();

        var first = PgTools.Pgwal(["archive", "get", "--repo", repo, "--prefetch", "2", "--spool", spool, names[0], dir.Combine("RECOVERYXLOG")]);
        Assert.True(first.ExitCode == 0, first.Stderr);
        Assert.Equal(File.ReadAllBytes(segments[0]), File.ReadAllBytes(dir.Combine("RECOVERYXLOG")));
        // The background prefetch restores the next two segments into the spool.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (!(File.Exists(Path.Combine(spool, names[1])) && File.Exists(Path.Combine(spool, names[2]))) && DateTime.UtcNow < deadline)
            Thread.Sleep(100);
        Assert.True(File.Exists(Path.Combine(spool, names[1])) && File.Exists(Path.Combine(spool, names[2])), "prefetched: " + string.Join(", ", Directory.GetFiles(spool).Select(Path.GetFileName)));
        Assert.Equal(File.ReadAllBytes(segments[1]), File.ReadAllBytes(Path.Combine(spool, names[1])));

        // The next get is served from the spool: it succeeds even with the repository's copy gone.
        File.Delete(Directory.GetFiles(repo, names[1] + ".pgwal", SearchOption.AllDirectories).Single());
        var second = PgTools.Pgwal(["archive", "get", "--repo", repo, "--prefetch", "2", "--spool", spool, names[1], dir.Combine("RECOVERYXLOG")]);
        Assert.True(second.ExitCode == 0, second.Stderr);
        Assert.Equal(File.ReadAllBytes(segments[1]), File.ReadAllBytes(dir.Combine("RECOVERYXLOG")));
        Assert.False(File.Exists(Path.Combine(spool, names[1])));

        Assert.Equal(200, PgTools.Pgwal(["archive", "get", "--repo", repo, "--prefetch", "2", names[1], dir.Combine("X")]).ExitCode);   // no --spool
    }

    [Fact]
    public void Get_ExitCodes_TellAbsentFromBroken()
    {
        var f = RealWalFixture.Get("mixed-1mb");
        using var dir = new TempDirectory("archcli");
        string repo = dir.Combine("repo");
        Assert.Equal(0, PgTools.Pgwal(["archive", "init", "--repo", repo, "--compress", "lz4"]).ExitCode);
        string segment = SegmentFiles.In(f.WalDirectory)[0];
        string name = Path.GetFileName(segment);
        var push = PgTools.Pgwal(["archive", "push", "--repo", repo, segment]);
        Assert.True(push.ExitCode == 0, push.Stderr);
        Assert.Equal(0, PgTools.Pgwal(["archive", "push", "--repo", repo, segment]).ExitCode);

        var get = PgTools.Pgwal(["archive", "get", "--repo", repo, name, dir.Combine("RECOVERYXLOG")]);
        Assert.True(get.ExitCode == 0, get.Stderr);
        Assert.Equal(File.ReadAllBytes(segment), File.ReadAllBytes(dir.Combine("RECOVERYXLOG")));

        var absent = PgTools.Pgwal(["archive", "get", "--repo", repo, "00000001000000000000009F", dir.Combine("X")]);
        Assert.Equal(1, absent.ExitCode);
        Assert.Equal("", absent.Stderr);
        Assert.False(File.Exists(dir.Combine("X")));
        Assert.Equal(1, PgTools.Pgwal(["archive", "get", "--repo", repo, "00000009.history", dir.Combine("X")]).ExitCode);

        var badLine = PgTools.Pgwal(["archive", "get", "--rep", repo, name, dir.Combine("X")]);
        Assert.Equal(200, badLine.ExitCode);
        Assert.Contains("pgwal archive get: error:", badLine.Stderr);
        var badName = PgTools.Pgwal(["archive", "get", "--repo", repo, "RECOVERYXLOG", dir.Combine("X")]);
        Assert.Equal(200, badName.ExitCode);
        var noRepo = PgTools.Pgwal(["archive", "get", "--repo", dir.Combine("nope"), name, dir.Combine("X")]);
        Assert.Equal(200, noRepo.ExitCode);
        Assert.Contains("does not exist", noRepo.Stderr);

        string stored = Directory.GetFiles(repo, name + ".pgwal", SearchOption.AllDirectories).Single();
        byte[] bytes = File.ReadAllBytes(stored);
        bytes[bytes.Length / 2] ^= 0x10;
        File.WriteAllBytes(stored, bytes);
        var damaged = PgTools.Pgwal(["archive", "get", "--repo", repo, name, dir.Combine("X")]);
        Assert.Equal(200, damaged.ExitCode);
        Assert.Contains("is damaged", damaged.Stderr);
        Assert.Contains(stored, damaged.Stderr);
        Assert.False(File.Exists(dir.Combine("X")));
        var verify = PgTools.Pgwal(["archive", "verify", "--repo", repo]);
        Assert.Equal(3, verify.ExitCode);
        Assert.Contains($"damaged: {name}", verify.StdoutText);
        Assert.Contains("not intact", verify.Stderr);
        var list = PgTools.Pgwal(["archive", "list", "--repo", repo, "--json"]);
        Assert.True(list.ExitCode == 0, list.Stderr);
        Assert.Contains(name, list.StdoutText);

        // A different file under an archived name: refused with exit 3, the archived file untouched.
        string other = SegmentFiles.In(f.WalDirectory)[1];
        Assert.Equal(0, PgTools.Pgwal(["archive", "push", "--repo", repo, other]).ExitCode);
        string copy = dir.Combine(Path.GetFileName(other));
        byte[] changed = File.ReadAllBytes(other);
        changed[^1] ^= 1;
        File.WriteAllBytes(copy, changed);
        var refused = PgTools.Pgwal(["archive", "push", "--repo", repo, copy]);
        Assert.Equal(3, refused.ExitCode);
        Assert.Contains("already exists", refused.Stderr);
    }
}
