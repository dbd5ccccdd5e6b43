// PgWal.Kv on a primary with synchronous replication: a Put at "on" (the default) blocks while the
// only synchronous standby stalls, and returns once it reports the commit flushed; a Put at
// "local" returns at once; a cancelled wait throws SyncRepWaitCanceledException with the commit
// durable and visible locally. `pgwal kv serve` with a synchronous pg_receivewal: its load waits
// without the standby, goes on with it, and SIGTERM stops it while commits wait; bad
// --synchronous-* values are rejected, naming the option, before anything is created.
using System.Globalization;
using System.Net;
using System.Text;
using PgWal.Kv;
using PgWal.Replication.Server;
using PgWal.Replication.Sync;
using PgWal.Tests.Infrastructure;

namespace PgWal.Tests.Replication.SyncRep;

public sealed class SyncRepKvTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan Stalled = TimeSpan.FromMilliseconds(300);

    private static byte[] Bytes(string s) => Encoding.UTF8.GetBytes(s);

    [Fact]
    public async Task PutAtOn_BlocksWhileTheSyncStandbyStalls_AtLocalReturnsAtOnce()
    {
        using var dir = new TempDirectory("synckv");
        int port = WalSenderFixture.FreePort();
        var sender = new WalSenderOptions { Listen = new IPEndPoint(IPAddress.Loopback, port), WalSenderTimeout = TimeSpan.FromSeconds(10) }
            .WithPassword(WalSenderFixture.User, WalSenderFixture.Password);
        using var store = KvStore.Open(dir.Combine("data"), new KvOptions
        {
            Instance = new WalInstanceOptions { WalSender = sender, SharedBuffers = 64, SynchronousStandbyNames = "FIRST 1 (standby1)" },
            Init = new WalInitOptions { SegmentSize = WalSenderFixture.SegmentSize },
        });
        await using var standby = await TestStandby.StartAsync(store.Instance, port, "standby1");
        Lsn start = store.Instance.Wal.FlushedUpTo;
        await standby.ReportAsync(start, start, start);   // then it stalls there
        WalSenderFixture.WaitUntil(() => store.Instance.WalSender!.Snapshot() is [{ State: "streaming", SyncState: "sync" }], Patience, () => "no sync standby");

        var blocked = Task.Run(() => store.Put(Bytes("k1"), Bytes("v1")));
        await Task.Delay(Stalled);
        Assert.False(blocked.IsCompleted, "a Put at on returned while its synchronous standby had not flushed it");

        var local = Task.Run(() => store.Put(Bytes("k2"), Bytes("v2"), SynchronousCommitLevel.Local));
        await local.WaitAsync(Patience);
        await store.PutAsync(Bytes("k3"), Bytes("v3"), SynchronousCommitLevel.Local).AsTask().WaitAsync(Patience);
        Assert.Equal(Bytes("v2"), store.Get(Bytes("k2")));
        Assert.False(blocked.IsCompleted);

        // A cancelled wait: the commit is durable and visible here, maybe not on the standby.
        using var cancel = new CancellationTokenSource();
        var cancelled = store.PutAsync(Bytes("k4"), Bytes("v4"), SynchronousCommitLevel.RemoteWrite, cancel.Token).AsTask();
        await Task.Delay(Stalled);
        Assert.False(cancelled.IsCompleted);
        cancel.Cancel();
        var e = await Assert.ThrowsAsync<SyncRepWaitCanceledException>(() => cancelled.WaitAsync(Patience));
        Assert.True(store.Instance.Wal.FlushedUpTo >= e.CommitEnd);
        Assert.Equal(Bytes("v4"), store.Get(Bytes("k4")));

        // The standby catches up: the blocked Put returns.
        Lsn end = store.LastCommit!.End;
        standby.WaitForReceived(end, Patience);
        await standby.ReportAsync(end, end, Lsn.Invalid);
        await blocked.WaitAsync(Patience);
        Assert.Equal(Bytes("v1"), store.Get(Bytes("k1")));
    }

    [Fact]
    public void KvServe_CommitsWaitForASynchronousPgReceivewal_AndAStopCancelsTheWaits()
    {
        using var dir = new TempDirectory("synckv");
        string port = WalSenderFixture.FreePort().ToString(CultureInfo.InvariantCulture);
        var environment = new Dictionary<string, string> { ["PGWAL_REPLICATION_PASSWORD"] = "sync-pw", ["PGPASSWORD"] = "sync-pw" };
        string[] connection = ["-h", "127.0.0.1", "-p", port, "-U", "rep"];
        using var server = new BackgroundProcess(ScratchCluster.DotnetHost, [Path.Combine(AppContext.BaseDirectory, "pgwal.dll"), "kv", "-D", dir.Combine("data"), "serve",
            "--listen", $"127.0.0.1:{port}", "-U", "rep", "--load", "200", "--stats", "0.3", "--synchronous-standby-names", "FIRST 1 (pg_receivewal)"], environment);
        WalSenderFixture.WaitUntil(() => server.Output.Contains("serving"), Patience, () => server.Output);

        // No standby yet: each loader's first commit waits (they may start a little apart), then
        // nothing more is flushed, where 200 puts/s would move it by kilobytes a second.
        WalSenderFixture.WaitUntil(() => Flushed(server.Output).Count >= 3, Patience, () => server.Output);
        Lsn stalled = StalledAt(server);

        var slot = PgTools.Run(PgTools.Require("pg_receivewal"), ["--create-slot", "-S", "sync1", .. connection], timeout: Patience, environment: environment);
        Assert.True(slot.ExitCode == 0, slot.Stderr);
        string target = dir.Combine("recv");
        Directory.CreateDirectory(target);
        using var receiver = new BackgroundProcess(PgTools.Require("pg_receivewal"), ["-D", target, .. connection, "-S", "sync1", "--synchronous", "-v"], environment);
        WalSenderFixture.WaitUntil(() => server.Output.Contains("application_name=pg_receivewal") && server.Output.Contains("sync_state=sync"), Patience, () => server.Output + receiver.Output);
        // Confirmed by pg_receivewal, the load goes on.
        WalSenderFixture.WaitUntil(() => Flushed(server.Output)[^1] > stalled + 20_000, Patience, () => server.Output + receiver.Output);

        // Without it the commits wait again, and SIGTERM still stops the server (cancelling them).
        receiver.Kill();
        receiver.WaitForExit(Patience);
        StalledAt(server);
        server.Terminate();
        Assert.Equal(0, server.WaitForExit(Patience));
        Assert.Contains("SIGTERM received, shutting down", server.Output);
    }

    // Waits until the flush position stays put for a second (the load is blocked); returns it.
    private static Lsn StalledAt(BackgroundProcess server)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (true)
        {
            Lsn before = Flushed(server.Output)[^1];
            Thread.Sleep(1000);
            Lsn after = Flushed(server.Output)[^1];
            if (after == before)
                return after;
            Assert.True(DateTime.UtcNow < deadline, $"the load never stalled: flushed moved from {before} to {after} in a second\n{server.Output}");
        }
    }

    // The "-- HH:mm:ss flushed X/X" lines of --stats.
    private static List<Lsn> Flushed(string output)
        => output.Split('\n').Where(l => l.StartsWith("-- ", StringComparison.Ordinal) && l.Contains(" flushed ", StringComparison.Ordinal))
            .Select(l => Lsn.Parse(l[(l.IndexOf(" flushed ", StringComparison.Ordinal) + 9)..].Trim(), CultureInfo.InvariantCulture)).ToList();

    [Fact]
    public void KvServe_RejectsBadSynchronousSettings_NamingTheOption()
    {
        using var dir = new TempDirectory("synckv");
        string data = dir.Combine("data");
        var names = PgTools.Pgwal(["kv", "-D", data, "serve", "--listen", "127.0.0.1:1", "--synchronous-standby-names", "a b"]);
        Assert.Equal(2, names.ExitCode);
        Assert.Contains("invalid --synchronous-standby-names: invalid value for parameter \"synchronous_standby_names\": \"a b\": syntax error at or near \"b\"", names.Stderr);
        var level = PgTools.Pgwal(["kv", "-D", data, "serve", "--listen", "127.0.0.1:1", "--synchronous-commit", "remote_flush"]);
        Assert.Equal(2, level.ExitCode);
        Assert.Contains("invalid --synchronous-commit \"remote_flush\": expected one of local, remote_write, remote_apply, on, off", level.Stderr);
        Assert.False(Directory.Exists(data), "a rejected command line created the data directory");
    }
}
