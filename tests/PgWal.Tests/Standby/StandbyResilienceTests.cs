// A standby when things go wrong: the primary gone (WAL from the archive, streaming again once it
// is back), the standby itself killed mid-stream again and again (it resumes; nothing lost, nothing
// applied twice wrongly), and hot-standby readers during heavy replay (never half a batch, never
// older than before: checked against what the primary's writers committed).
using System.Text;
using PgWal.Archive;
using PgWal.Format;
using PgWal.Kv;

namespace PgWal.Tests.Standby;

public sealed class StandbyResilienceTests
{
    private static byte[] K(int i) => Encoding.UTF8.GetBytes($"key{i:D6}");

    private static byte[] V(int i, int round) => Encoding.UTF8.GetBytes($"value {i} round {round} {new string('v', 200)}");

    [Fact]
    public void WithThePrimaryGoneTheStandbyReplaysFromTheArchiveThenStreamsAgainWhenItIsBack()
    {
        using var repoDir = new Infrastructure.TempDirectory("kvrepo");
        var repo = WalRepository.Create(repoDir.Combine("repo"), ArchiveCodec.Zstd);
        using var c = new KvCluster(o => o with { ArchiveMode = ArchiveMode.On, ArchiveModule = new RepositoryArchiveModule(repo) });
        var standby = c.StartStandby("s1", s => s with { Restorer = new RepositoryRestorer(repo) });
        for (int i = 0; i < 500; i++)
            c.Primary.Put(K(i), V(i, 1));
        KvCluster.WaitForReplay(standby, c.Primary.LastCommit!.End);
        standby.Dispose();
        for (int i = 0; i < 6000; i++)   // several segments while the standby is down
            c.Primary.Put(K(i % 3000), V(i % 3000, 2));
        var last = c.Primary.LastCommit!.End;
        c.Primary.Instance.Wal.SwitchSegment();
        c.Primary.Dispose();             // archives every complete segment, then is gone

        standby = c.Reopen("s1", s => s with { Restorer = new RepositoryRestorer(repo) });
        KvCluster.WaitForReplay(standby, last);
        Assert.False(standby.Instance.IsStreaming);
        for (int i = 0; i < 3000; i += 17)
            Assert.Equal(V(i, 2), standby.Get(K(i)));

        c.RestartPrimary();
        for (int i = 0; i < 200; i++)
            c.Primary.Put(K(i), V(i, 3));
        KvCluster.WaitForReplay(standby, c.Primary.LastCommit!.End);
        Assert.True(standby.Instance.IsStreaming, "streaming again once the primary is back");
        Assert.Equal(V(199, 3), standby.Get(K(199)));
        PromotionTests.AssertSameContent(c.Primary, standby);
    }

    [Fact]
    public async Task AStandbyKilledMidStreamAgainAndAgainResumesWithNothingLost()
    {
        using var c = new KvCluster();
        var standby = c.StartStandby("s1");
        using var stop = new CancellationTokenSource();
        var writer = Task.Run(() =>
        {
            for (int i = 0; !stop.IsCancellationRequested; i++)
            {
                var batch = new WriteBatch();
                for (int k = 0; k < 5; k++)
                    batch.Put(K((i * 5 + k) % 4000), V(i, 0));
                c.Primary.Write(batch);
            }
        });
        for (int round = 0; round < 6; round++)
        {
            Thread.Sleep(300 + Random.Shared.Next(300));
            standby.Abandon();   // killed: no restartpoint, nothing flushed
            standby = c.Reopen("s1");
        }
        await stop.CancelAsync();
        await writer;
        KvCluster.WaitForReplay(standby, c.Primary.LastCommit!.End);
        PromotionTests.AssertSameContent(c.Primary, standby);
        standby.CheckTree();
    }

    [Fact]
    public async Task HotStandbyReadersNeverSeeHalfABatchOrGoBackwards()
    {
        const int Writers = 4, KeysPerBatch = 8;
        using var c = new KvCluster();
        var standby = c.StartStandby("s1");
        var started = new long[Writers];     // highest version a writer began to commit
        using var stop = new CancellationTokenSource();
        var writers = Enumerable.Range(0, Writers).Select(w => Task.Run(() =>
        {
            var filler = new byte[300];
            for (long version = 1; !stop.IsCancellationRequested; version++)
            {
                Volatile.Write(ref started[w], version);
                var batch = new WriteBatch();
                for (int k = 0; k < KeysPerBatch; k++)
                    batch.Put(Encoding.UTF8.GetBytes($"w{w}/k{k}"), Encoding.UTF8.GetBytes($"{version}/{Convert.ToHexString(filler, 0, 20 + k)}"));
                batch.Put(Encoding.UTF8.GetBytes($"filler{version % 2000:D5}"), filler);   // grow the tree: splits during replay
                c.Primary.Write(batch);
            }
        })).ToArray();
        int checks = 0;
        var readers = Enumerable.Range(0, 4).Select(r => Task.Run(() =>
        {
            var seen = new long[Writers];
            while (!stop.IsCancellationRequested)
            {
                int w = Random.Shared.Next(Writers);
                var entries = standby.Scan(Encoding.UTF8.GetBytes($"w{w}/"), Encoding.UTF8.GetBytes($"w{w}0")).ToList();
                if (entries.Count == 0)
                {
                    Assert.Equal(0, seen[w]);   // nothing yet, and never nothing after something
                    continue;
                }
                Assert.Equal(KeysPerBatch, entries.Count);
                var versions = entries.Select(e => long.Parse(Encoding.UTF8.GetString(e.Value).Split('/')[0], System.Globalization.CultureInfo.InvariantCulture)).Distinct().ToList();
                Assert.True(versions.Count == 1, $"half a batch: writer {w} versions {string.Join(",", versions)}");
                Assert.True(versions[0] >= seen[w], $"went backwards: writer {w} version {versions[0]} after {seen[w]}");
                Assert.True(versions[0] <= Volatile.Read(ref started[w]), $"a version writer {w} never wrote: {versions[0]}");
                seen[w] = versions[0];
                Interlocked.Increment(ref checks);
            }
        })).ToArray();
        await Task.Delay(TimeSpan.FromSeconds(6));
        await stop.CancelAsync();
        await Task.WhenAll(writers);
        await Task.WhenAll(readers);
        Assert.True(checks > 100, $"only {checks} consistent reads");
        KvCluster.WaitForReplay(standby, c.Primary.LastCommit!.End);
        PromotionTests.AssertSameContent(c.Primary, standby);
        standby.CheckTree();
    }
}
