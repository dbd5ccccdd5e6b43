// ArchiverFaultTests: archiving under faults. A kv worker process archiving through
// archive_command = 'pgwal archive push' (from the data directory's postgresql.conf) is SIGKILLed
// again and again, also in the middle of pushes; a repository on a file system that fills up
// fails pushes until space returns; a slow archive command holds WAL back without holding writes.
// Afterwards nothing acknowledged is lost, the repository holds every segment from the first
// without a hole, nothing partial is visible in it, and pushes resumed.
using PgWal.Archive;
using PgWal.Cli.Kv;
using PgWal.Format;
using PgWal.Insert;
using PgWal.Kv;
using PgWal.Tests.Cli;
using PgWal.Tests.Infrastructure;

namespace PgWal.Tests.Archive;

[Collection(Crash.CrashCollection.Name)]
public sealed class ArchiverFaultTests
{
    private static void AssertWhole(WalRepository repo, string lastExpected)
    {
        var (damaged, timelines) = repo.Verify();
        Assert.Empty(damaged);
        var timeline = Assert.Single(timelines);
        Assert.Empty(timeline.Missing);
        Assert.Equal("000000010000000000000001", timeline.Ranges[0].First);
        Assert.True(string.CompareOrdinal(timeline.Ranges[^1].Last, lastExpected) >= 0, $"archived up to {timeline.Ranges[^1].Last}, expected at least {lastExpected}");
        var files = Directory.GetFiles(repo.Path, "*", SearchOption.AllDirectories).Select(Path.GetFileName).ToArray();
        Assert.All(files, f => Assert.True(f is WalRepository.ConfigFileName or ".lock" || f!.EndsWith(".pgwal", StringComparison.Ordinal), $"{f} is visible in the repository"));
    }

    [Fact]
    public void WorkerKilledAgainAndAgain_WhileArchiveCommandsPush_LosesNothing_AndTheArchiveHasNoHole()
    {
        using var dir = new TempDirectory("archkill");
        string root = dir.Combine("run");
        var repo = WalRepository.Create(dir.Combine("repo"), ArchiveCodec.Lz4);
        Directory.CreateDirectory(Path.Combine(root, "data"));
        File.WriteAllText(Path.Combine(root, "data", "postgresql.conf"),
            $"archive_mode = on\narchive_command = '{ScratchCluster.DotnetHost} {Path.Combine(AppContext.BaseDirectory, "pgwal.dll")} archive push --repo {repo.Path} %p'\n");
        var loop = new KvKillLoop(root, clients: 4, seed: 21);
        var random = new Random(21);
        for (int i = 0; i < 8; i++)
        {
            var outcome = loop.Iterate(TimeSpan.FromMilliseconds(400), TimeSpan.FromMilliseconds(1500), random, null);
            Assert.True(outcome.Problem == null, $"iteration {i}: {outcome.Problem}");
        }
        // A clean open and close archives everything up to the last data (shutdown's switch and final pass).
        string data = loop.DataDirectory;
        Lsn end;
        ArchiverStats? stats;
        using (var store = KvStore.Open(data, KvWorker.Options(data)))
        {
            end = store.Instance.EndOfWal;
            stats = store.Instance.Archiving;
        }
        Assert.True(stats != null && stats.FailedCount == 0, $"archiving failed: {stats?.LastFailure}");
        var geometry = new WalGeometry(16 << 20);
        AssertWhole(repo, SegmentFileName.Format(TimelineId.First, geometry.SegmentOf(end), geometry));
        Assert.Empty(Directory.GetFiles(Path.Combine(data, "pg_wal", "archive_status"), "*.ready"));
    }

    [Fact]
    public void RepositoryOutOfSpace_FailsPushes_KeepsTheWal_AndArchivingResumesWhenSpaceReturns()
    {
        using var disk = new SmallTmpfs(megabytes: 16);
        using var dir = new TempDirectory("archfull");
        string data = dir.Combine("data");
        WalInstance.Initialize(data, new WalInitOptions { SegmentSize = 1 << 20 });
        var repo = WalRepository.Create(disk.Combine("repo"), ArchiveCodec.None);   // uncompressed: 1 MB per segment
        var options = new WalInstanceOptions
        {
            ArchiveMode = ArchiveMode.On, ArchiveModule = new RepositoryArchiveModule(repo), ArchiveRetryDelay = TimeSpan.FromMilliseconds(20),
            BackgroundCheckpointer = false, MaxWalSize = 4 << 20, MinWalSize = 2 << 20,
        };
        using var instance = WalInstance.Open(data, options);
        disk.Fill(leaveBytes: 2 << 20);
        void Write(int segments) => ArchiverTests.Write(instance, (long)segments << 20);
        Write(6);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (instance.Archiving!.FailedCount < 3 && DateTime.UtcNow < deadline)
            Thread.Sleep(20);
        var stats = instance.Archiving!;
        Assert.True(stats.FailedCount >= 3, $"{stats.FailedCount} failures");
        Assert.Contains("No space left on device", stats.LastFailure);
        instance.Checkpoint();
        Write(1);
        instance.Checkpoint();
        string oldest = SegmentFileName.Format(TimelineId.First, new SegmentNumber((ulong)stats.ArchivedCount + 1), new WalGeometry(1 << 20));
        Assert.True(File.Exists(Path.Combine(data, "pg_wal", oldest)), $"{oldest} was removed before it was archived");
        Assert.All(Directory.GetFiles(repo.Path, "*", SearchOption.AllDirectories), f => Assert.DoesNotContain(".tmp", Path.GetFileName(f)));

        disk.Unfill();
        Write(1);   // a new .ready wakes the archiver
        deadline = DateTime.UtcNow.AddSeconds(30);
        while (instance.Archiving!.Pending > 0 && DateTime.UtcNow < deadline)
            Thread.Sleep(20);
        Assert.True(instance.Archiving!.Pending == 0, $"still pending: {instance.Archiving}");
        AssertWhole(repo, oldest);
    }

    [Fact]
    public void SlowArchiveCommand_LetsWalPileUpWhileWritesGoOn_AndShutdownArchivesEverythingInOrder()
    {
        using var dir = new TempDirectory("archslow");
        string data = dir.Combine("data"), target = dir.Combine("archive"), go = dir.Combine("go");
        Directory.CreateDirectory(target);
        WalInstance.Initialize(data, new WalInitOptions { SegmentSize = 1 << 20 });
        // Each push waits until the test lets it go: as slow as the test wants, deterministically.
        var options = new WalInstanceOptions { ArchiveMode = ArchiveMode.On, ArchiveCommand = $"while [ ! -f {go} ]; do sleep 0.02; done; cp %p {target}/%f", BackgroundCheckpointer = false };
        var instance = WalInstance.Open(data, options);
        var builder = new RecordBuilder();
        for (int i = 0; i < 1200; i++)
            instance.Wal.Flush(instance.Insert(BuiltinRecords.Noop(builder, new byte[3000])));   // about 3.5 segments, each commit durable
        instance.Checkpoint();
        Assert.Empty(Directory.GetFiles(target));                                   // nothing archived yet ...
        Assert.True(File.Exists(Path.Combine(data, "pg_wal", "000000010000000000000001")));   // ... and nothing removed
        File.WriteAllText(go, "");
        instance.Dispose();   // the final pass archives every completed segment, in order
        var archived = Directory.GetFiles(target).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray();
        var geometry = new WalGeometry(1 << 20);
        Assert.Equal(Enumerable.Range(1, archived.Length).Select(s => SegmentFileName.Format(TimelineId.First, new SegmentNumber((ulong)s), geometry)), archived);
        Assert.True(archived.Length >= 4, $"{archived.Length} archived");
        // A segment archived before the shutdown checkpoint may be recycled by it (it is .done): the
        // copies are compared where the originals are still there (at least the last ones).
        int compared = 0;
        foreach (var name in archived.Where(n => File.Exists(Path.Combine(data, "pg_wal", n!))))
        {
            Assert.Equal(File.ReadAllBytes(Path.Combine(target, name!)), File.ReadAllBytes(Path.Combine(data, "pg_wal", name!)));
            compared++;
        }
        Assert.True(compared >= 1, "no archived segment left in pg_wal to compare");
    }
}
