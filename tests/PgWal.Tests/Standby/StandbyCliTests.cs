// The standby from the shell: `pgwal kv serve` as the primary, `pgwal basebackup -R` makes the
// standby, `pgwal kv standby` runs it (reads typed on stdin), `pgwal status` shows both sides, and
// `pgwal promote` turns it into a primary that takes writes.
using System.Globalization;
using PgWal.Tests.Infrastructure;
using PgWal.Tests.Replication;

namespace PgWal.Tests.Standby;

public sealed class StandbyCliTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private static string Pgwal => Path.Combine(AppContext.BaseDirectory, "pgwal.dll");

    [Fact]
    public void KvStandbyFollowsKvServeAnswersReadsAndIsPromotedByPgwalPromote()
    {
        using var dir = new TempDirectory("kvsby");
        int port = WalSenderFixture.FreePort(), standbyPort = WalSenderFixture.FreePort();
        string portText = port.ToString(CultureInfo.InvariantCulture);
        var environment = new Dictionary<string, string> { ["PGWAL_REPLICATION_PASSWORD"] = "sby-pw", ["PGPASSWORD"] = "sby-pw" };
        string primaryData = dir.Combine("primary"), standbyData = dir.Combine("standby");
        using var primary = new BackgroundProcess(ScratchCluster.DotnetHost, [Pgwal, "kv", "-D", primaryData, "serve", "--listen", $"127.0.0.1:{portText}", "-U", "rep", "--load", "100"], environment);
        WalSenderFixture.WaitUntil(() => primary.Output.Contains("serving"), Patience, () => primary.Output);

        var backup = PgTools.Pgwal(["basebackup", "-D", standbyData, "-R", "-h", "127.0.0.1", "-p", portText, "-U", "rep"], environment: environment);
        Assert.True(backup.ExitCode == 0, backup.Stderr);
        Assert.True(File.Exists(Path.Combine(standbyData, "standby.signal")));

        using var standby = new BackgroundProcess(ScratchCluster.DotnetHost,
            [Pgwal, "kv", "-D", standbyData, "standby", "--listen", $"127.0.0.1:{standbyPort.ToString(CultureInfo.InvariantCulture)}", "-U", "rep"], environment, input: true);
        WalSenderFixture.WaitUntil(() => standby.Output.Contains("ready for reads"), Patience, () => standby.Output);
        standby.WriteLine("get load0.00001");
        WalSenderFixture.WaitUntil(() => standby.Output.Contains("value 1 at"), Patience, () => standby.Output);

        WalSenderFixture.WaitUntil(() => PgTools.Pgwal(["status", "-D", primaryData]).StdoutText.Contains("state=streaming"), Patience, () => "primary status");
        var primaryStatus = PgTools.Pgwal(["status", "-D", primaryData]);
        Assert.Equal(0, primaryStatus.ExitCode);
        Assert.Contains("role:        primary", primaryStatus.StdoutText);
        Assert.Contains("walsender walreceiver", primaryStatus.StdoutText);
        var standbyStatus = PgTools.Pgwal(["status", "-D", standbyData]);
        Assert.True(standbyStatus.ExitCode == 0, standbyStatus.Stderr);
        Assert.Contains("role:        standby", standbyStatus.StdoutText);
        Assert.Contains("replay_lsn:", standbyStatus.StdoutText);

        primary.Terminate();
        Assert.Equal(0, primary.WaitForExit(Patience));
        var promote = PgTools.Pgwal(["promote", "-D", standbyData]);
        Assert.True(promote.ExitCode == 0, promote.Stderr + promote.StdoutText);
        Assert.Contains("server promoted", promote.StdoutText);
        Assert.False(File.Exists(Path.Combine(standbyData, "standby.signal")));
        WalSenderFixture.WaitUntil(() => PgTools.Pgwal(["status", "-D", standbyData]).StdoutText.Contains("role:        primary, timeline 2"), Patience, () => "promoted status");
        var again = PgTools.Pgwal(["promote", "-D", standbyData]);
        Assert.Equal(2, again.ExitCode);
        Assert.Contains("server is not in standby mode", again.Stderr);

        standby.Terminate();
        Assert.Equal(0, standby.WaitForExit(Patience));
        var put = PgTools.Pgwal(["kv", "-D", standbyData, "put", "after", "promotion"]);
        Assert.True(put.ExitCode == 0, put.Stderr);
        Assert.Equal("promotion", PgTools.Pgwal(["kv", "-D", standbyData, "get", "after"]).StdoutText.Trim());
    }
}
