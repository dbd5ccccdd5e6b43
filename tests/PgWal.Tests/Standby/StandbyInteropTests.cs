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

    [Fact]
    public void PgReceivewalAsASynchronousStandbyFollowsThePromotedStandbysNewTimeline()
    {
        using var c = new KvCluster(o => o with { SynchronousStandbyNames = "FIRST 1 (pg_receivewal)" });
        var s1 = c.StartStandby("s1");
        string target = c.Combine("recv");
        Directory.CreateDirectory(target);
        var env = new Dictionary<string, string> { ["PGPASSWORD"] = WalSenderFixture.Password };
        string[] Connect(int port) => ["-h", "127.0.0.1", "-p", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-U", WalSenderFixture.User];
        var create = PgTools.Run(PgTools.Require("pg_receivewal"), ["--create-slot", "-S", "recv", .. Connect(c.Port)], timeout: TimeSpan.FromSeconds(60), environment: env);
        Assert.True(create.ExitCode == 0, create.Stderr);
        var receiver = new BackgroundProcess(PgTools.Require("pg_receivewal"), ["-D", target, "-S", "recv", "--synchronous", "-v", .. Connect(c.Port)], env);
        try
        {
            for (int i = 0; i < 300; i++)   // each acknowledged only once pg_receivewal flushed it
                c.Primary.Put(Encoding.UTF8.GetBytes($"k{i}"), new byte[500]);
            var acknowledged = c.Primary.LastCommit!.End;
            Assert.Equal("sync", c.Primary.Instance.WalSender!.Snapshot().Single(w => w.ApplicationName == "pg_receivewal").SyncState);
            KvCluster.WaitForReplay(s1, acknowledged);
            c.Primary.Abandon();
            receiver.Interrupt();
            receiver.WaitForExit(TimeSpan.FromSeconds(30));
            receiver.Dispose();

            s1.Promote();
            for (int i = 0; i < 300; i++)
                s1.Put(Encoding.UTF8.GetBytes($"t2-{i}"), new byte[500]);
            s1.Instance.Wal.SwitchSegment();
            s1.Instance.Wal.Flush(s1.Instance.Wal.InsertedUpTo);
            int port = c.StandbyPorts["s1"];
            var create2 = PgTools.Run(PgTools.Require("pg_receivewal"), ["--create-slot", "-S", "recv", .. Connect(port)], timeout: TimeSpan.FromSeconds(60), environment: env);
            Assert.True(create2.ExitCode == 0, create2.Stderr);
            receiver = new BackgroundProcess(PgTools.Require("pg_receivewal"), ["-D", target, "-S", "recv", "--synchronous", "-v", .. Connect(port)], env);
            WalSenderFixture.WaitUntil(() => File.Exists(Path.Combine(target, "00000002.history"))
                && Directory.GetFiles(target, "00000002*").Any(f => Path.GetFileName(f).Length == 24), TimeSpan.FromSeconds(60), () => receiver.Output);
            Assert.Contains("switched to timeline 2", receiver.Output);
            string history = File.ReadAllText(Path.Combine(target, "00000002.history"));
            Assert.Equal(File.ReadAllText(Path.Combine(s1.Instance.Location, "pg_wal", "00000002.history")), history);
            foreach (var file in Directory.GetFiles(target, "00000002*").Where(f => Path.GetFileName(f).Length == 24))
                Assert.True(File.ReadAllBytes(file).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(s1.Instance.Location, "pg_wal", Path.GetFileName(file)))), $"{file} differs from the new primary's");
        }
        finally
        {
            receiver.Interrupt();
            receiver.WaitForExit(TimeSpan.FromSeconds(30));
            receiver.Dispose();
        }
    }
}
