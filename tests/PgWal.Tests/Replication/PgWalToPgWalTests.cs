// PgWal's own clients against PgWal's walsender (each side is also tested against PostgreSQL):
// `pgwal receivewal` with a slot and --synchronous gets segments equal to the primary's, and the
// slot follows it; `pgwal basebackup -X stream` of a kv store is accepted by pg_verifybackup and
// opens with every key written before it.
using System.Text;
using PgWal.Kv;
using PgWal.Tests.Infrastructure;

namespace PgWal.Tests.Replication;

public sealed class PgWalToPgWalTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);

    private static BackgroundProcess Pgwal(WalSenderFixture f, params string[] args)
        => new(ScratchCluster.DotnetHost, [Path.Combine(AppContext.BaseDirectory, "pgwal.dll"), .. args], f.Environment);

    [Fact]
    public void PgwalReceivewalStreamsFromPgWal()
    {
        using var f = new WalSenderFixture();
        string target = f.Combine("recv");
        Directory.CreateDirectory(target);
        var create = PgTools.Run(ScratchCluster.DotnetHost, [Path.Combine(AppContext.BaseDirectory, "pgwal.dll"), "receivewal", "--create-slot", "-S", "own", .. f.ConnectionArgs],
            timeout: Patience, environment: f.Environment);
        Assert.True(create.ExitCode == 0, create.Stderr);
        using var receiver = Pgwal(f, ["receivewal", "-D", target, "-S", "own", "--synchronous", "-v", .. f.ConnectionArgs]);
        WalSenderFixture.WaitUntil(() => f.Instance.WalSender!.Snapshot().Any(s => s.State is "catchup" or "streaming"), Patience, () => receiver.Output);
        f.Write(3 * WalSenderFixture.SegmentSize);
        f.Instance.Wal.SwitchSegment();
        f.Instance.Wal.Flush(f.Instance.Wal.InsertedUpTo);
        WalSenderFixture.WaitUntil(() => Directory.GetFiles(target).Count(p => Path.GetFileName(p).Length == 24) >= 3, Patience, () => receiver.Output);
        WalSenderFixture.WaitUntil(() => f.Instance.Slots!.Find("own")!.RestartLsn >= WalSenderFixture.Geometry.SegmentStart(new SegmentNumber(3)), Patience,
            () => $"restart_lsn {f.Instance.Slots!.Find("own")!.RestartLsn}");
        receiver.Interrupt();
        Assert.Equal(0, receiver.WaitForExit(Patience));
        f.AssertSegmentsEqual(target, 3, compared: 3);
    }

    [Fact]
    public void PgwalBasebackupOfAPgWalStoreIsVerifiedAndOpens()
    {
        using var f = new WalSenderFixture();
        f.Instance.Dispose();
        string data = f.Combine("kv");
        int port = WalSenderFixture.FreePort();
        var options = new KvOptions
        {
            Init = new WalInitOptions { SegmentSize = WalSenderFixture.SegmentSize },
            Instance = f.Options with { WalSender = f.Options.WalSender! with { Listen = new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, port) } },
        };
        string backup = f.Combine("backup");
        using (var store = KvStore.Open(data, options))
        {
            for (int i = 0; i < 2000; i++)
                store.Put(Encoding.ASCII.GetBytes($"k{i:D5}"), Encoding.ASCII.GetBytes($"v{i}"));
            var result = PgTools.Run(ScratchCluster.DotnetHost, [Path.Combine(AppContext.BaseDirectory, "pgwal.dll"), "basebackup", "-D", backup, "-X", "stream", "-c", "fast", "-P",
                "-h", "127.0.0.1", "-p", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-U", WalSenderFixture.User], timeout: Patience, environment: f.Environment);
            Assert.True(result.ExitCode == 0, result.Stderr);
        }
        var verified = PgTools.Run(PgTools.Require("pg_verifybackup"), [backup]);
        Assert.True(verified.ExitCode == 0, verified.Stderr + verified.StdoutText);
        using var copy = KvStore.Open(backup, new KvOptions { Instance = new WalInstanceOptions { SharedBuffers = 64 } });
        for (int i = 0; i < 2000; i++)
            Assert.Equal(Encoding.ASCII.GetBytes($"v{i}"), copy.Get(Encoding.ASCII.GetBytes($"k{i:D5}")));
        f.Restart();   // so that the fixture's Dispose has an instance to close
    }
}
