// RepositoryInventoryTests: list and verify see every hole and every damaged file (naming them),
// and cleanup removes exactly what PostgreSQL 15's pg_archivecleanup removes from the same files
// (every timeline, .partial included, history and backup history files kept), for cut-offs given
// as segment, .partial and backup history names.
using PgWal.Archive;
using PgWal.Format;
using PgWal.Tests.Infrastructure;

namespace PgWal.Tests.Archive;

public sealed class RepositoryInventoryTests
{
    // The fixture's segments on timelines 1, 2 and 3 (the name's timeline is not checked against the
    // pages: a new timeline's first segment starts with the old timeline's pages), a .partial, a
    // history and a backup history file.
    private static (WalRepository Repo, string[] SegmentNames) Populated(TempDirectory dir)
    {
        var f = RealWalFixture.Get("mixed-1mb");
        var repo = WalRepository.Create(dir.Combine("r"), ArchiveCodec.Lz4);
        var segments = SegmentFiles.In(f.WalDirectory);
        Assert.True(segments.Length >= 3, "the fixture has at least three segments");
        foreach (string tli in new[] { "00000001", "00000002", "00000003" })
        {
            foreach (string s in segments)
                repo.Push(s, ArchiveNames.Of(tli + Path.GetFileName(s)[8..]));
        }
        repo.Push(segments[1], ArchiveNames.Of("00000001" + Path.GetFileName(segments[1])[8..] + ".partial"));
        File.WriteAllText(dir.Combine("h"), "1\t0/3000000\tno recovery target specified\n");
        repo.Push(dir.Combine("h"), ArchiveNames.Of("00000002.history"));
        File.WriteAllText(dir.Combine("b"), "START WAL LOCATION: 0/2000028 (file 000000010000000000000002)\n");
        repo.Push(dir.Combine("b"), ArchiveNames.Of("00000001" + Path.GetFileName(segments[1])[8..] + ".00000028.backup"));
        return (repo, segments.Select(p => Path.GetFileName(p)).ToArray());
    }

    [Fact]
    public void ListAndVerify_ReportHolesAndDamage_NamingTheFiles()
    {
        using var dir = new TempDirectory("inventory");
        var (repo, names) = Populated(dir);
        var timelines = repo.List();
        Assert.Equal([1u, 2u, 3u], timelines.Select(t => t.Timeline.Value));
        Assert.All(timelines, t => Assert.Empty(t.Missing));
        Assert.Single(timelines[0].Ranges);
        Assert.Contains(timelines[0].Files, x => x.Name.Kind == ArchivedFileKind.Partial);
        Assert.Contains(timelines[0].Files, x => x.Name.Kind == ArchivedFileKind.BackupHistory);
        Assert.Contains(timelines[1].Files, x => x.Name.Kind == ArchivedFileKind.History);
        Assert.Empty(repo.Verify().Damaged);

        // A hole in the middle of timeline 2 and a bit flip on timeline 3.
        string middle = "00000002" + names[1][8..];
        File.Delete(repo.PathOf(ArchiveNames.Of(middle)));
        string flipped = repo.PathOf(ArchiveNames.Of("00000003" + names[0][8..]));
        byte[] bytes = File.ReadAllBytes(flipped);
        bytes[^100] ^= 0x04;
        File.WriteAllBytes(flipped, bytes);
        var (damaged, after) = repo.Verify();
        Assert.Equal(["00000003" + names[0][8..]], damaged.Select(d => d.Name));
        Assert.Contains(flipped, damaged[0].Problem);
        Assert.Equal([middle], after.Single(t => t.Timeline.Value == 2).Missing);
        Assert.Equal(2, after.Single(t => t.Timeline.Value == 2).Ranges.Count);
    }

    [Fact]
    public void Cleanup_RemovesWhatPgArchivecleanupRemoves()
    {
        string pgArchivecleanup = PgTools.Require("pg_archivecleanup");
        using var dir = new TempDirectory("cleanup");
        var (repo, names) = Populated(dir);
        string[] cutoffs = [names[1], "00000003" + names[2][8..], "00000002" + names[1][8..] + ".partial", "00000001" + names[2][8..] + ".00000028.backup", names[0]];
        foreach (string cutoff in cutoffs)
        {
            var ours = repo.Cleanup(cutoff, dryRun: true).Select(p => Path.GetRelativePath(repo.Path, p)).Order(StringComparer.Ordinal).ToArray();
            var theirs = new List<string>();
            foreach (string tliDir in Directory.GetDirectories(Path.Combine(repo.Path, "wal")))
            {
                var r = PgTools.Run(pgArchivecleanup, ["-n", "-x", ".pgwal", tliDir, cutoff]);
                Assert.True(r.ExitCode == 0, r.Stderr);
                theirs.AddRange(r.StdoutText.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(p => Path.GetRelativePath(repo.Path, p)));
            }
            Assert.Equal(theirs.Order(StringComparer.Ordinal), ours);
        }
        Assert.NotEmpty(repo.Cleanup(names[2], dryRun: true));

        // Removing for real leaves what pg_archivecleanup leaves on a copy of the same files.
        Assert.Equal(0, PgTools.Run("cp", ["-a", repo.Path, dir.Combine("copy")]).ExitCode);
        repo.Cleanup(names[2], dryRun: false);
        foreach (string tliDir in Directory.GetDirectories(dir.Combine("copy", "wal")))
            Assert.Equal(0, PgTools.Run(pgArchivecleanup, ["-x", ".pgwal", tliDir, names[2]]).ExitCode);
        string[] Remaining(string root) => Directory.GetFiles(Path.Combine(root, "wal"), "*", SearchOption.AllDirectories).Select(p => Path.GetRelativePath(root, p)).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(Remaining(dir.Combine("copy")), Remaining(repo.Path));
        Assert.Contains(Remaining(repo.Path), p => p.EndsWith(".history.pgwal", StringComparison.Ordinal));
        Assert.Contains(Remaining(repo.Path), p => p.EndsWith(".backup.pgwal", StringComparison.Ordinal));

        Assert.Throws<ArchiveException>(() => repo.Cleanup("00000002.history", dryRun: true));
        Assert.Throws<ArchiveException>(() => repo.Cleanup("nonsense", dryRun: true));
    }
}
