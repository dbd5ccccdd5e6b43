// DataDirectoryInteropTests: the real pg_controldata 15 reads PgWal's control file after init,
// after checkpoints and after crash recovery, and prints PgWal's values; `pgwal controldata`
// prints the same bytes. Also the CLI's init / recover / resetwal round trip.
using System.Text.RegularExpressions;
using PgWal.Cli.PageTest;
using PgWal.Insert;
using PgWal.Recovery;
using PgWal.Tests.Infrastructure;

namespace PgWal.Tests.Interop;

public sealed class DataDirectoryInteropTests
{
    private static string Field(string output, string name)
        => Regex.Match(output, "^" + Regex.Escape(name) + @":\s+(.*)$", RegexOptions.Multiline).Groups[1].Value;

    private static string PgControlData(string dir)
    {
        var pg = PgTools.Run(PgTools.Require("pg_controldata"), [dir], timeZone: "UTC");
        Assert.True(pg.ExitCode == 0, pg.Stderr);
        var ours = PgTools.Pgwal(["controldata", dir], timeZone: "UTC");
        Assert.True(ours.ExitCode == 0, ours.Stderr);
        Assert.Equal(pg.StdoutText, ours.StdoutText);
        return pg.StdoutText;
    }

    [Fact]
    public void PgControlData_ReadsOurControlFile_AfterInitCheckpointAndCrashRecovery()
    {
        using var dir = new TempDirectory("ctl");
        var control = WalInstance.Initialize(dir.Path, new WalInitOptions { SegmentSize = 4 << 20 });
        string text = PgControlData(dir.Path);
        Assert.Equal("shut down", Field(text, "Database cluster state"));
        Assert.Equal(control.CheckPointLocation.ToString(), Field(text, "Latest checkpoint location"));
        Assert.Equal("0/400028", Field(text, "Latest checkpoint's REDO location"));
        Assert.Equal("1", Field(text, "Latest checkpoint's TimeLineID"));
        Assert.Equal("0:3", Field(text, "Latest checkpoint's NextXID"));
        Assert.Equal("4194304", Field(text, "Bytes per WAL segment"));

        var options = new WalInstanceOptions { BackgroundCheckpointer = false, ResourceManagers = new ResourceManagerRegistry().Register(PageTestResourceManager.Instance) };
        var instance = WalInstance.Open(dir.Path, options);
        var workload = new PageTestWorkload(instance, 1, 16);
        var builder = new RecordBuilder();
        for (ulong op = 1; op <= 100; op++)
            instance.Wal.Flush(workload.Execute(builder, 0, op));
        for (int i = 0; i < 10; i++)
            instance.AssignTransactionId();
        var checkpoint = instance.Checkpoint();
        text = PgControlData(dir.Path);
        Assert.Equal("in production", Field(text, "Database cluster state"));
        Assert.Equal(checkpoint.Location.ToString(), Field(text, "Latest checkpoint location"));
        Assert.Equal(checkpoint.Redo.ToString(), Field(text, "Latest checkpoint's REDO location"));
        Assert.Equal("0:13", Field(text, "Latest checkpoint's NextXID"));
        for (ulong op = 101; op <= 150; op++)
            instance.Wal.Flush(workload.Execute(builder, 0, op));
        instance.Abandon();                                   // crash

        using (var recovered = WalInstance.Open(dir.Path, options))
        {
            Assert.True(recovered.Recovery.CrashRecovery);
            Assert.Equal(checkpoint.Redo, recovered.Recovery.RedoStart);
            Assert.True(recovered.Recovery.Records >= 50);
            text = PgControlData(dir.Path);
            Assert.Equal("in production", Field(text, "Database cluster state"));
            Assert.Equal(recovered.Recovery.EndOfRecoveryCheckpoint.ToString(), Field(text, "Latest checkpoint location"));
            Assert.Null(new PageTestWorkload(recovered, 1, 16).Verify(0, 150));
        }
        text = PgControlData(dir.Path);
        Assert.Equal("shut down", Field(text, "Database cluster state"));
        Assert.Equal(Field(text, "Latest checkpoint location"), Field(text, "Latest checkpoint's REDO location"));
    }

    [Fact]
    public void Cli_InitPagetestRecoverResetwal_RoundTrip()
    {
        using var dir = new TempDirectory("cli");
        string data = Path.Combine(dir.Path, "d");
        var init = PgTools.Pgwal(["init", "-D", data, "--wal-segsize", "1", "-k"]);
        Assert.True(init.ExitCode == 0, init.Stderr);
        Assert.Contains("data checksums on", init.StdoutText);
        var again = PgTools.Pgwal(["init", "-D", data]);
        Assert.Equal(3, again.ExitCode);   // a runtime error (docs/cli.md)
        Assert.Contains("already holds a data directory", again.Stderr);

        var run = PgTools.Pgwal(["pagetest", "-D", data, "--workers", "2", "--pages", "16", "--ops", "300", "--crash", "--ack-file", Path.Combine(dir.Path, "acks")]);
        Assert.True(run.ExitCode == 0, run.Stderr);
        var recover = PgTools.Pgwal(["recover", "-D", data, "--json"]);
        Assert.True(recover.ExitCode == 0, recover.Stderr);
        Assert.Contains("\"crash_recovery\":true", recover.StdoutText);
        Assert.Contains("redo starts at", recover.Stderr);
        var verify = PgTools.Pgwal(["pagetest", "-D", data, "--verify", "--ack-file", Path.Combine(dir.Path, "acks")]);
        Assert.True(verify.ExitCode == 0, verify.Stderr + verify.StdoutText);
        Assert.Contains("300 ops applied, 300 acknowledged", verify.StdoutText);

        var dry = PgTools.Pgwal(["resetwal", "-n", "-x", "1000", data]);
        Assert.True(dry.ExitCode == 0, dry.Stderr);
        Assert.Contains("Values to be changed:", dry.StdoutText);
        var reset = PgTools.Pgwal(["resetwal", "-D", data, "-o", "50000"]);
        Assert.True(reset.ExitCode == 0, reset.Stderr);
        Assert.Contains("Write-ahead log reset", reset.StdoutText);
        string text = PgControlData(data);
        Assert.Equal("50000", Field(text, "Latest checkpoint's NextOID"));
        Assert.Equal(Field(text, "Latest checkpoint location"), Field(text, "Latest checkpoint's REDO location"));
        var pg = PgTools.Waldump(["-p", Path.Combine(data, "pg_wal"), "-s", Field(text, "Latest checkpoint location"), "-n", "1"]);
        Assert.True(pg.ExitCode == 0, pg.Stderr);
        Assert.Contains("CHECKPOINT_SHUTDOWN", pg.StdoutText);
        var reopened = PgTools.Pgwal(["pagetest", "-D", data, "--verify"]);
        Assert.True(reopened.ExitCode == 0, reopened.Stderr + reopened.StdoutText);
    }

    [Fact]
    public void Recovery_RefusesWalOfAnUnregisteredResourceManager()
    {
        using var dir = new TempDirectory("rmgr");
        WalInstance.Initialize(dir.Path, new WalInitOptions { SegmentSize = 1 << 20 });
        var registered = new WalInstanceOptions { BackgroundCheckpointer = false, ResourceManagers = new ResourceManagerRegistry().Register(PageTestResourceManager.Instance) };
        var instance = WalInstance.Open(dir.Path, registered);
        instance.Wal.Flush(new PageTestWorkload(instance, 1, 8).Execute(new RecordBuilder(), 0, 1));
        instance.Abandon();
        var e = Assert.Throws<RecoveryException>(() => WalInstance.Open(dir.Path, new WalInstanceOptions { BackgroundCheckpointer = false }));
        Assert.Contains("resource manager with ID 200 not registered", e.Message);
        using var ok = WalInstance.Open(dir.Path, registered);
        Assert.True(ok.Recovery.CrashRecovery);
    }
}
