using System.Text.Json;
using PgWal.Tests.Infrastructure;

namespace PgWal.Tests.Interop;

// `pgwal bench` as a user runs it: initialises a directory, continues its WAL on the next run,
// ends --json output with the promised object, and leaves WAL that pg_waldump 15 validates and
// counts exactly as bench reported.
public class BenchCliTests
{
    [Fact]
    public void Bench_InitialisesThenContinues_AndPgWaldumpCountsEveryRecord()
    {
        using var root = new TempDirectory("bench");
        string dir = root.Combine("data");
        var first = PgTools.Pgwal(["bench", "-D", dir, "--workers", "8", "--record-size", "100", "--flush", "each",
            "--records", "3000", "--wal-segsize", "1", "--json"]);
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
        Assert.Contains("continuing the WAL", second.StdoutText);
        var b = LastJson(second.StdoutText);
        Assert.Equal(a.GetProperty("end_lsn").GetString(), b.GetProperty("start_lsn").GetString());

        string wal = Path.Combine(dir, "pg_wal");
        string start = a.GetProperty("start_lsn").GetString()!, end = b.GetProperty("end_lsn").GetString()!;
        var pg = PgTools.Waldump(["-p", wal, "-s", "0/100028", "-e", end, "--stats=record"]);
        Assert.True(pg.ExitCode == 0, pg.Stderr);
        Assert.Matches(@"LogicalMessage/MESSAGE\s+5000 ", pg.StdoutText);
        var ours = PgTools.Pgwal(["waldump", "-p", wal, "-s", "0/100028", "-e", end, "--stats=record"]);
        Assert.Equal(pg.StdoutText, ours.StdoutText);
        Assert.Equal("0/100000", start);
    }

    [Theory]
    [InlineData("either", "--flush", "none")]
    [InlineData("--records must be at least 1, got 0", "--records", "0")]
    [InlineData("--workers must be between 1 and 4096, got 0", "--workers", "0", "--records", "5")]
    [InlineData("--wal-segsize must be a power of two", "--wal-segsize", "3", "--records", "5")]
    [InlineData("give exactly one of --records and --duration", "--records", "5", "--duration", "1")]
    public void Bench_RejectsBadOptions(string message, params string[] args)
    {
        using var root = new TempDirectory("bench");
        var r = PgTools.Pgwal(["bench", "-D", root.Combine("d"), .. args]);
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains(message == "either" ? "give exactly one of --records and --duration" : message, r.Stderr);
        Assert.False(Directory.Exists(root.Combine("d", "pg_wal")));
    }

    private static JsonElement LastJson(string stdout)
    {
        string last = stdout.TrimEnd().Split('\n')[^1];
        return JsonDocument.Parse(last).RootElement;
    }
}
