// A PgWal.Kv standby made from a base backup follows its primary through streaming: it replays
// every commit, serves reads, refuses writes, makes restartpoints, and resumes after a restart.
using System.Text;
using PgWal.Kv;

namespace PgWal.Tests.Standby;

public sealed class StandbyReplayTests
{
    private static byte[] K(int i) => Encoding.UTF8.GetBytes($"key{i:D6}");

    private static byte[] V(int i, int round) => Encoding.UTF8.GetBytes($"value {i} round {round} " + new string('x', i % 50));

    private static void PutRange(KvStore store, int from, int to, int round)
    {
        for (int i = from; i < to; i++)
            store.Put(K(i), V(i, round));
    }

    [Fact]
    public void StandbyReplaysStreamedCommitsAndServesReadsButNotWrites()
    {
        using var c = new KvCluster();
        PutRange(c.Primary, 0, 500, 1);
        var standby = c.StartStandby("s1");
        Assert.True(standby.IsStandby);
        PutRange(c.Primary, 500, 3000, 1);
        KvCluster.WaitForReplay(standby, c.Primary.LastCommit!.End);
        for (int i = 0; i < 3000; i += 7)
            Assert.Equal(V(i, 1), standby.Get(K(i)));
        Assert.Equal(3000, standby.Scan().Count());
        standby.CheckTree();
        var error = Assert.Throws<StandbyReadOnlyException>(() => standby.Put(K(1), V(1, 2)));
        Assert.Contains("read-only standby", error.Message);
        Assert.True(standby.Instance.IsStreaming);
        var sender = Assert.Single(c.Primary.Instance.WalSender!.Snapshot());
        Assert.Equal("s1", sender.ApplicationName);
    }

    [Fact]
    public void StandbyMakesRestartpointsAndResumesAfterARestartWithNothingLost()
    {
        using var c = new KvCluster(o => o with { CheckpointTimeout = TimeSpan.FromSeconds(1) });
        var standby = c.StartStandby("s1");
        var firstRedo = standby.Instance.ControlFile.CheckPointCopy.Redo;
        for (int round = 1; round <= 3; round++)
        {
            PutRange(c.Primary, 0, 2000, round);
            c.Primary.Instance.Checkpoint();
            PutRange(c.Primary, 2000, 2500, round);
            KvCluster.WaitForReplay(standby, c.Primary.LastCommit!.End);
            WaitFor(() => standby.Instance.Restartpoint() || standby.Instance.ControlFile.CheckPointLocation >= c.Primary.Instance.LastCheckpoint!.Location, "restartpoint");
            Assert.Equal(Format.DatabaseState.InArchiveRecovery, standby.Instance.ControlFile.State);
            standby.Dispose();
            PutRange(c.Primary, 2500, 3000, round);   // while the standby is down
            standby = c.Reopen("s1");
            KvCluster.WaitForReplay(standby, c.Primary.LastCommit!.End);
            for (int i = 0; i < 3000; i += 11)
                Assert.Equal(V(i, round), standby.Get(K(i)));
            standby.CheckTree();
        }
        Assert.True(standby.Instance.ControlFile.CheckPointCopy.Redo > firstRedo, "restartpoints moved pg_control's checkpoint forward");
        var segments = Directory.GetFiles(Path.Combine(standby.Instance.Location, "pg_wal")).Count(p => Path.GetFileName(p).Length == 24);
        var primarySegments = Directory.GetFiles(Path.Combine(c.PrimaryData, "pg_wal")).Count(p => Path.GetFileName(p).Length == 24);
        Assert.True(segments <= primarySegments + 2, $"the standby keeps {segments} segments, the primary {primarySegments}: restartpoints remove old WAL");
    }

    private static void WaitFor(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException(what);
            Thread.Sleep(50);
        }
    }
}
