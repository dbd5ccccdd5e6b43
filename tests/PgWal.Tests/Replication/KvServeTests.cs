// `pgwal kv serve`: a kv store with its walsender in a process. libpq clients connect with the
// password from PGWAL_REPLICATION_PASSWORD; --stats prints pg_stat_replication; SIGTERM stops it
// cleanly (exit 0) and pg_receivewal gets the WAL up to the shutdown checkpoint; without a password
// it refuses to start, saying why.
using System.Globalization;
using PgWal.Tests.Infrastructure;

namespace PgWal.Tests.Replication;

public sealed class KvServeTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    [Fact]
    public void ServesAStoreToPgReceivewal_AndStopsCleanlyOnSigterm()
    {
        using var dir = new TempDirectory("kvserve");
        int port = WalSenderFixture.FreePort();
        string portText = port.ToString(CultureInfo.InvariantCulture);
        var environment = new Dictionary<string, string> { ["PGWAL_REPLICATION_PASSWORD"] = "serve-pw", ["PGPASSWORD"] = "serve-pw" };
        using var server = new BackgroundProcess(ScratchCluster.DotnetHost, [Path.Combine(AppContext.BaseDirectory, "pgwal.dll"), "kv", "-D", dir.Combine("data"), "serve",
            "--listen", $"127.0.0.1:{portText}", "-U", "rep", "--load", "200", "--stats", "0.5"], environment);
        WalSenderFixture.WaitUntil(() => server.Output.Contains("serving"), Patience, () => server.Output);

        string target = dir.Combine("recv");
        Directory.CreateDirectory(target);
        using var receiver = new BackgroundProcess(PgTools.Require("pg_receivewal"), ["-D", target, "-h", "127.0.0.1", "-p", portText, "-U", "rep", "-v"], environment);
        WalSenderFixture.WaitUntil(() => server.Output.Contains("application_name=pg_receivewal") && server.Output.Contains("state=streaming"), Patience, () => server.Output + receiver.Output);

        var wrong = PgTools.Run(PgTools.Require("psql"), ["-X", "-w", "-c", "IDENTIFY_SYSTEM", $"host=127.0.0.1 port={portText} user=rep dbname=replication replication=true sslmode=disable"],
            timeout: Patience, environment: new Dictionary<string, string> { ["PGPASSWORD"] = "wrong" });
        Assert.Contains("password authentication failed for user \"rep\"", wrong.Stderr);

        server.Terminate();
        Assert.Equal(0, server.WaitForExit(Patience));
        Assert.Contains("SIGTERM received, shutting down", server.Output);
        // pg_receivewal saw the end of the stream (COPY 0) and tries to reconnect: it got the shutdown checkpoint first.
        WalSenderFixture.WaitUntil(() => receiver.Output.Contains("not renaming") || receiver.Output.Contains("disconnected"), Patience, () => receiver.Output);
        receiver.Interrupt();
        receiver.WaitForExit(Patience);
        string partial = Directory.GetFiles(target, "*.partial").Single();
        string primary = Path.Combine(dir.Combine("data"), "pg_wal", Path.GetFileNameWithoutExtension(partial));
        Assert.True(File.ReadAllBytes(primary).AsSpan().SequenceEqual(File.ReadAllBytes(partial)),
            "the receiver's last segment differs from the primary's: it did not get the WAL through the shutdown checkpoint");
    }

    [Fact]
    public void WithoutAPasswordItRefusesToStart()
    {
        using var dir = new TempDirectory("kvserve");
        var result = PgTools.Pgwal(["kv", "-D", dir.Combine("data"), "serve", "--listen", "127.0.0.1:1"]);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("no replication password: set PGWAL_REPLICATION_PASSWORD or --password-file", result.Stderr);
        var badListen = PgTools.Pgwal(["kv", "-D", dir.Combine("data"), "serve", "--listen", "nowhere"]);
        Assert.Equal(2, badListen.ExitCode);
        Assert.Contains("invalid --listen \"nowhere\"", badListen.Stderr);
    }
}
