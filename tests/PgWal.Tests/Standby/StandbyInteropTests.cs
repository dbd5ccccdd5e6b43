// PostgreSQL's own tool makes the standby: pg_basebackup -R against a PgWal.Kv primary writes
// standby.signal and primary_conninfo into postgresql.auto.conf, and the copy opens as a hot
// standby from those settings alone (no options in code) and follows the primary.
using System.Text;
using PgWal.Kv;
using PgWal.Tests.Infrastructure;
using PgWal.Tests.Replication;

namespace PgWal.Tests.Standby;

public sealed class StandbyInteropTests
{
    [Fact]
    public void PgBasebackupWithWriteRecoveryConfMakesAStandbyThatFollowsThePrimary()
    {
        using var c = new KvCluster();
        for (int i = 0; i < 1000; i++)
            c.Primary.Put(Encoding.UTF8.GetBytes($"k{i}"), Encoding.UTF8.GetBytes($"v{i}"));
        string data = c.Combine("pgbb");
        var result = PgTools.Run(PgTools.Require("pg_basebackup"),
            ["-D", data, "-X", "stream", "-R", "-c", "fast", "-h", "127.0.0.1", "-p", c.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-U", WalSenderFixture.User],
            timeout: TimeSpan.FromSeconds(60), environment: new Dictionary<string, string> { ["PGPASSWORD"] = WalSenderFixture.Password });
        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.True(File.Exists(Path.Combine(data, "standby.signal")));
        string auto = File.ReadAllText(Path.Combine(data, "postgresql.auto.conf"));
        Assert.Contains("primary_conninfo", auto);

        using var standby = KvStore.Open(data, new KvOptions { CreateIfMissing = false, Instance = new WalInstanceOptions { SharedBuffers = 256 } });
        Assert.True(standby.IsStandby);
        for (int i = 1000; i < 2000; i++)
            c.Primary.Put(Encoding.UTF8.GetBytes($"k{i}"), Encoding.UTF8.GetBytes($"v{i}"));
        KvCluster.WaitForReplay(standby, c.Primary.LastCommit!.End);
        Assert.Equal("v1999"u8.ToArray(), standby.Get("k1999"u8));
        Assert.Equal("v0"u8.ToArray(), standby.Get("k0"u8));
        var sender = c.Primary.Instance.WalSender!.Snapshot().Single(s => s.State == "streaming");
        Assert.Equal("walreceiver", sender.ApplicationName);
        PromotionTests.AssertSameContent(c.Primary, standby);
    }
}
