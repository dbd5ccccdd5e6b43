using System.Text.Json;
using PgWal.Format;
using PgWal.Tests.Infrastructure;

namespace PgWal.Tests.Interop;

// `pgwal bench` as a user runs it: initialises a data directory, continues it on the next run
// (after the shutdown checkpoint the first run wrote), ends --json output with the promised
// object, and leaves a cleanly shut down directory whose WAL pg_waldump 15 validates. Bad options:
// Cli/WorkloadCommandErrorTests.
public class BenchCliTests
{
    [Fact]
    public void Bench_InitialisesThenContinues_AndPgWaldumpCountsEveryRecord()
    {
        using var root = new TempDirectory("bench");
        string dir = root.Combine("data");
        var first = PgTools.Pgwal(["bench", "-D", dir, "--workers", "8", "--record-size", "100", "--flush", "each",
            "--records", "3000", "--wal-segsize", "16", "--json"]);
        Assert.True(first.ExitCode == 0, first.Stderr);
        Assert.Contains("initialised", first.StdoutText);
        var a = LastJson(first.StdoutText);
        Assert.Equal(3000, a.GetProperty("records").GetInt64());
        Assert.Equal(3000, a.GetProperty("commits").GetInt64());
        Assert.True(a.GetProperty("commits_per_sec").GetDouble() > 0);
        var latency = a.GetProperty("flush_latency_us");
        Assert.True(latency.GetProperty("p50").GetInt64() <= latency.GetProperty("p99").GetInt64());
        Assert.True(latency.GetProperty("p99").GetInt64() <= latency.GetProperty("max").GetInt64());
        var stats = a.GetProperty("stats");
        Assert.Equal(3000, stats.GetProperty("wal_records").GetInt64());
        Assert.InRange(stats.GetProperty("wal_sync").GetInt64(), 1, 3000);

        var second = PgTools.Pgwal(["bench", "-D", dir, "--workers", "2", "--record-size", "5000", "--flush", "none",
            "--records", "2000", "--json"]);
        Assert.True(second.ExitCode == 0, second.Stderr);
        Assert.Contains("writing into", second.StdoutText);
        var b = LastJson(second.StdoutText);
        Assert.True(Lsn.Parse(b.GetProperty("start_lsn").GetString()!) > Lsn.Parse(a.GetProperty("end_lsn").GetString()!));

        string wal = Path.Combine(dir, "pg_wal");
        // Both runs fit in the first 16 MB segment, which is the redo segment and so survives. The
        // start file is named because pg_waldump otherwise takes the segment size from whichever
        // file readdir returns first — possibly a preallocated, all-zero one (as with PostgreSQL's own).
        string start = a.GetProperty("start_lsn").GetString()!, end = b.GetProperty("end_lsn").GetString()!;
        var pg = PgTools.Waldump(["-p", wal, "000000010000000000000001", "-s", "0/1000028", "-e", end, "--stats=record"]);
        Assert.True(pg.ExitCode == 0, pg.Stderr);
        Assert.Matches(@"LogicalMessage/MESSAGE\s+5000 ", pg.StdoutText);
        var ours = PgTools.Pgwal(["waldump", "-p", wal, "000000010000000000000001", "-s", "0/1000028", "-e", end, "--stats=record"]);
        Assert.Equal(pg.StdoutText, ours.StdoutText);
        Assert.Equal("0/10000A0", start);          // right after the bootstrap checkpoint
        Assert.Matches(@"XLOG/CHECKPOINT_SHUTDOWN\s+2 ", pg.StdoutText);   // init + the first run's (the second's is after -e)
        var recover = PgTools.Pgwal(["recover", "-D", dir]);
        Assert.True(recover.ExitCode == 0, recover.Stderr);
        Assert.Contains("shut down cleanly", recover.StdoutText);
    }

    private static JsonElement LastJson(string stdout)
    {
        string last = stdout.TrimEnd().Split('\n')[^1];
        return JsonDocument.Parse(last).RootElement;
    }
}
