// AsyncPushTests: `archive push --async --spool DIR` (pgBackRest's archive-async). The first push
// archives its file and starts a background push-ahead, which archives the other files waiting in
// archive_status; a later push of one of them succeeds from its marker without pushing again;
// every archived file restores byte for byte; a file changed after it was pushed ahead is not
// taken from its marker: the ordinary push refuses it (different content under an existing name).
using PgWal.Archive;
using PgWal.Tests.Infrastructure;

namespace PgWal.Tests.Archive;

public sealed class AsyncPushTests
{
    [Fact]
    public void AsyncPush_PushesTheWaitingFilesAhead_AndTrustsAMarkerOnlyForTheSameBytes()
    {
        var fixture = RealWalFixture.Get("mixed-1mb");
        var segments = SegmentFiles.In(fixture.WalDirectory);
        Assert.True(segments.Length >= 3, $"{segments.Length} segments");
        using var dir = new TempDirectory("asyncpush");
        string wal = dir.Combine("pg_wal"), spool = dir.Combine("spool"), repo = dir.Combine("repo");
        Directory.CreateDirectory(Path.Combine(wal, "archive_status"));
        var names = segments.Select(Path.GetFileName).ToArray();
        foreach (var s in segments)
        {
            File.Copy(s, Path.Combine(wal, Path.GetFileName(s)));
            File.WriteAllText(Path.Combine(wal, "archive_status", Path.GetFileName(s) + ".ready"), "");
        }
        Assert.Equal(0, PgTools.Pgwal(["archive", "init", "--repo", repo, "--compress", "lz4"]).ExitCode);
        ToolResult Push(string name) => PgTools.Pgwal(["archive", "push", "--repo", repo, "--async", "--spool", spool, Path.Combine(wal, name)]);

        var first = Push(names[0]!);
        Assert.True(first.ExitCode == 0, first.Stderr);
        File.Delete(Path.Combine(wal, "archive_status", names[0] + ".ready"));   // as PostgreSQL's archiver does
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (names.Skip(1).Any(n => !File.Exists(Path.Combine(spool, n + ".ok"))) && DateTime.UtcNow < deadline)
            Thread.Sleep(50);
        Assert.All(names.Skip(1), n => Assert.True(File.Exists(Path.Combine(spool, n + ".ok")), $"{n} was not pushed ahead"));

        // The second file: taken from its marker, with the same exit as a push; the marker goes
        // when the file no longer waits (the filler removes markers of files without a .ready).
        var second = Push(names[1]!);
        Assert.True(second.ExitCode == 0, second.Stderr);
        File.Delete(Path.Combine(wal, "archive_status", names[1] + ".ready"));

        // The third file changed after it was pushed ahead: not taken from the marker, and refused.
        string third = Path.Combine(wal, names[2]!);
        var bytes = File.ReadAllBytes(third);
        bytes[^100] ^= 0xFF;
        File.WriteAllBytes(third, bytes);
        var changed = Push(names[2]!);
        Assert.Equal(3, changed.ExitCode);
        Assert.Contains(names[2]!, changed.Stderr);

        new PushAheadSpool(spool).Fill(WalRepository.Open(repo), wal, "", 64, 1);
        Assert.False(File.Exists(Path.Combine(spool, names[1] + ".ok")));
        var r = WalRepository.Open(repo);
        foreach (var s in segments)
            Assert.Equal(File.ReadAllBytes(s), r.TryRead(ArchiveNames.Of(Path.GetFileName(s))));
        var noSpool = PgTools.Pgwal(["archive", "push", "--repo", repo, "--async", Path.Combine(wal, names[0]!)]);
        Assert.Equal(2, noSpool.ExitCode);
        Assert.Contains("--async needs --spool DIR", noSpool.Stderr);
    }
}
