// FullDiskTests: the commands that write — init, generate, bench, pagetest, kv put — on a full file
// system (a small tmpfs) print one clean line and exit 3; kv put exits 4 when its commit is durable
// but closing the store fails for lack of space, and then the value is there, as the message says.
using PgWal.Tests.Infrastructure;

namespace PgWal.Tests.Cli;

public sealed class FullDiskTests
{
    private const string NoSpace = "No space left on device";

    [Fact]
    public void Init_Generate_Bench_PageTest_OnAFullDisk_OneCleanLineExit3()
    {
        using var disk = new SmallTmpfs(megabytes: 4);
        // init: the first 16 MB segment does not fit.
        CliAssert.CleanError(PgTools.Pgwal(["init", "-D", disk.Combine("init")]), 3, NoSpace, "init on a 4 MB file system");
        // generate, bench and pagetest write 1 MB segments until the file system is full.
        CliAssert.CleanError(PgTools.Pgwal(["generate", "-D", disk.Combine("generate"), "--records", "100000", "--wal-segsize", "1"]), 3, NoSpace, "generate");
        Directory.Delete(disk.Combine("generate"), recursive: true);
        CliAssert.CleanError(PgTools.Pgwal(["bench", "-D", disk.Combine("bench"), "--wal-segsize", "1", "--records", "100000", "--record-size", "1000",
            "--flush", "each", "--workers", "4"]), 3, NoSpace, "bench");
        Directory.Delete(disk.Combine("bench"), recursive: true);
        CliAssert.CleanError(PgTools.Pgwal(["pagetest", "-D", disk.Combine("pagetest"), "--wal-segsize", "1", "--ops", "1000000", "--workers", "2"]), 3, NoSpace, "pagetest");
    }

    [Fact]
    public void KvPut_WhenTheDiskFills_SaysWhatIsKnown()
    {
        using var disk = new SmallTmpfs(megabytes: 40);   // the store's two 16 MB segments, and a little more
        using var scratch = new TempDirectory("fullkv");
        string data = disk.Combine("kv"), valueFile = scratch.Combine("value");
        var value = new byte[1 << 20];
        new Random(7).NextBytes(value);
        File.WriteAllBytes(valueFile, value);
        Assert.Equal(0, PgTools.Pgwal(["kv", "-D", data, "put", "small", "x"]).ExitCode);

        // Room for postmaster.pid but not for the value's pages: the commit goes into the WAL
        // segment that exists, the shutdown checkpoint cannot write the pages.
        disk.Fill(leaveBytes: 8192);
        var put = PgTools.Pgwal(["kv", "-D", data, "put", "big", "--value-file", valueFile]);
        bool unknown = put.ExitCode == 4;
        CliAssert.CleanError(put, unknown ? 4 : 3, NoSpace, "kv put of 1 MB with 8 kB free");
        if (unknown)
            Assert.Contains("the put of key \"big\" is durable, but closing the store failed", put.Stderr);

        // Completely full: nothing can start.
        disk.Unfill();
        disk.Fill(leaveBytes: 0);
        var full = PgTools.Pgwal(["kv", "-D", data, "put", "other", "y"]);
        CliAssert.CleanError(full, full.ExitCode == 4 ? 4 : 3, "", "kv put on a full file system");

        disk.Unfill();
        // The failed close left the directory needing crash recovery, which get (read-only) does not run.
        var refused = PgTools.Pgwal(["kv", "-D", data, "get", "big"]);
        if (refused.ExitCode != 0 && refused.ExitCode != 1)
        {
            CliAssert.CleanError(refused, 3, "needs crash recovery", "kv get before recovery");
            var recover = PgTools.Pgwal(["recover", "-D", data, "-q"]);
            Assert.True(recover.ExitCode == 0, recover.Stderr);
        }
        var get = PgTools.Pgwal(["kv", "-D", data, "get", "big"]);
        if (unknown)
            Assert.True(get.ExitCode == 0 && get.Stdout.AsSpan(0, value.Length).SequenceEqual(value), $"exit 4 said the put was durable: get exit {get.ExitCode}: {get.Stderr}");
        Assert.True(get.ExitCode is 0 or 1, get.Stderr);
        Assert.Equal(0, PgTools.Pgwal(["kv", "-D", data, "stats"]).ExitCode);
    }
}
