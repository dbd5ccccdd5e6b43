// Synchronous replication with a PgWal standby: at remote_apply a read on the standby right after
// the commit returns sees it; with the standby's replay paused, remote_apply waits while on (remote
// flush) does not, and resuming replay releases it; the primary's pg_stat_replication row shows the
// standby's replay position as it reports it.
using System.Text;
using PgWal.Replication.Sync;

namespace PgWal.Tests.Standby;

public sealed class StandbySyncRepTests
{
    [Fact]
    public void AtRemoteApplyAReadOnTheStandbyRightAfterTheCommitSeesIt()
    {
        using var c = new KvCluster(o => o with { SynchronousStandbyNames = "s1" });
        var standby = c.StartStandby("s1");
        for (int i = 0; i < 300; i++)
        {
            var key = Encoding.UTF8.GetBytes($"k{i}");
            var value = Encoding.UTF8.GetBytes($"v{i}");
            c.Primary.Put(key, value, SynchronousCommitLevel.RemoteApply);
            Assert.Equal(value, standby.Get(key));
        }
        var row = Assert.Single(c.Primary.Instance.WalSender!.Snapshot());
        Assert.Equal("sync", row.SyncState);
        Assert.True(row.ReplayLsn >= c.Primary.LastCommit!.End, $"pg_stat_replication replay_lsn {row.ReplayLsn}, last commit ends at {c.Primary.LastCommit.End}");
    }

    [Fact]
    public async Task WithReplayPausedRemoteApplyWaitsAndOnDoesNot()
    {
        using var c = new KvCluster(o => o with { SynchronousStandbyNames = "FIRST 1 (s1)" });
        var standby = c.StartStandby("s1");
        c.Primary.Put("warm"u8, "up"u8, SynchronousCommitLevel.RemoteApply);
        standby.Instance.PauseReplay();
        c.Primary.Put("flushed"u8, "1"u8, SynchronousCommitLevel.On);          // the standby still receives and flushes
        var applied = c.Primary.PutAsync("applied"u8.ToArray(), "2"u8.ToArray(), SynchronousCommitLevel.RemoteApply).AsTask();
        await Task.Delay(1000);
        Assert.False(applied.IsCompleted, "a remote_apply commit returned while the standby's replay was paused");
        Assert.Null(standby.Get("flushed"u8));                                 // paused: not applied
        standby.Instance.ResumeReplay();
        await applied.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal("2"u8.ToArray(), standby.Get("applied"u8));
        Assert.Equal("1"u8.ToArray(), standby.Get("flushed"u8));
    }
}
