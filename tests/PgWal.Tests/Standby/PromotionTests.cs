// Promotion and failover: the primary dies, the most advanced standby is promoted onto a new
// timeline and takes writes, the other standby is pointed at it and follows it across the
// timeline switch to the same content; the promote trigger file works as pg_ctl promote's.
using System.Text;
using PgWal.Kv;

namespace PgWal.Tests.Standby;

public sealed class PromotionTests
{
    private static byte[] K(int i) => Encoding.UTF8.GetBytes($"key{i:D6}");

    private static byte[] V(int i, int round) => Encoding.UTF8.GetBytes($"value {i} round {round}");

    private static void PutRange(KvStore store, int from, int to, int round)
    {
        for (int i = from; i < to; i++)
            store.Put(K(i), V(i, round));
    }

    internal static void AssertSameContent(KvStore expected, KvStore actual)
    {
        var a = expected.Scan().ToList();
        var b = actual.Scan().ToList();
        Assert.Equal(a.Count, b.Count);
        for (int i = 0; i < a.Count; i++)
        {
            Assert.Equal(a[i].Key, b[i].Key);
            Assert.Equal(a[i].Value, b[i].Value);
        }
    }

    [Fact]
    public void PromotedStandbyTakesWritesAndTheOtherStandbyFollowsItsNewTimeline()
    {
        using var c = new KvCluster();
        PutRange(c.Primary, 0, 1000, 1);
        var s1 = c.StartStandby("s1");
        var s2 = c.StartStandby("s2");
        PutRange(c.Primary, 1000, 3000, 1);
        var end = c.Primary.LastCommit!.End;
        KvCluster.WaitForReplay(s1, end);
        KvCluster.WaitForReplay(s2, end);
        c.Primary.Abandon();   // the primary dies

        var (promoted, promotedName, other) = s1.Instance.ReceivedUpTo >= s2.Instance.ReceivedUpTo ? (s1, "s1", s2) : (s2, "s2", s1);
        var result = promoted.Promote();
        Assert.False(promoted.IsStandby);
        Assert.Equal(2u, result.NewTimeline.Value);
        Assert.Equal(2u, promoted.Instance.ControlFile.CheckPointCopy.ThisTimeline.Value);
        Assert.False(File.Exists(Path.Combine(promoted.Instance.Location, "standby.signal")));
        Assert.True(File.Exists(Path.Combine(promoted.Instance.Location, "pg_wal", "00000002.history")));
        for (int i = 0; i < 3000; i += 13)
            Assert.Equal(V(i, 1), promoted.Get(K(i)));
        PutRange(promoted, 2000, 4000, 2);

        other.Instance.ChangePrimary(c.ConnInfo("follower", c.StandbyPorts[promotedName]));
        KvCluster.WaitForReplay(other, promoted.LastCommit!.End);
        Assert.Equal(2u, other.Instance.ReplayTimeline.Value);
        AssertSameContent(promoted, other);
        other.CheckTree();
        promoted.CheckTree();
    }

    [Fact]
    public void PromoteTriggerFilePromotesARunningStandby()
    {
        using var c = new KvCluster();
        PutRange(c.Primary, 0, 500, 1);
        var s1 = c.StartStandby("s1");
        PutRange(c.Primary, 500, 1000, 1);
        KvCluster.WaitForReplay(s1, c.Primary.LastCommit!.End);
        c.Primary.Dispose();
        File.WriteAllText(Path.Combine(s1.Instance.Location, "promote"), "");
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (s1.IsStandby && DateTime.UtcNow < deadline)
            Thread.Sleep(50);
        Assert.False(s1.IsStandby, "the trigger file promoted the standby");
        Assert.False(File.Exists(Path.Combine(s1.Instance.Location, "promote")));
        s1.Put(K(1), V(1, 2));   // the first write after a promotion it did not make itself
        Assert.Equal(V(1, 2), s1.Get(K(1)));
        Assert.Equal(V(999, 1), s1.Get(K(999)));
        s1.CheckTree();
    }
}
