using PgWal.Tests.Infrastructure;

namespace PgWal.Tests.Interop;

// Real PostgreSQL 15 WAL (Fixtures/pg15, made with the local postgres and pgbench): `pgwal waldump`
// must print exactly what pg_waldump 15 prints — every field of every line, and the statistics.
public class RealWalInteropTests
{
    public static TheoryData<string> Sets() => [.. RealWalFixture.Names];

    [Theory]
    [MemberData(nameof(Sets))]
    public void PlainOutput_IsIdentical(string set)
    {
        var f = RealWalFixture.Get(set);
        OutputAssert.SameAsPostgres(PgTools.Waldump(f.RangeArgs), InProcessWaldump.Run(f.RangeArgs), set);
    }

    [Theory]
    [MemberData(nameof(Sets))]
    public void BlockDetails_AreIdentical(string set)
    {
        var f = RealWalFixture.Get(set);
        string[] args = [.. f.RangeArgs, "-b"];
        OutputAssert.SameAsPostgres(PgTools.Waldump(args), InProcessWaldump.Run(args), set);
    }

    [Theory]
    [MemberData(nameof(Sets))]
    public void RecordStatistics_AreIdentical(string set)
    {
        var f = RealWalFixture.Get(set);
        string[] args = [.. f.RangeArgs, "--stats=record"];
        OutputAssert.SameAsPostgres(PgTools.Waldump(args), InProcessWaldump.Run(args), set);
        args = [.. f.RangeArgs, "--stats"];
        OutputAssert.SameAsPostgres(PgTools.Waldump(args), InProcessWaldump.Run(args), set);
    }

    [Theory]
    [MemberData(nameof(Sets))]
    public void EndOfWal_WithoutStopPoint_EndsLikePgWaldump(string set)
    {
        var f = RealWalFixture.Get(set);
        string[] args = ["-p", f.WalDirectory, "-s", f.First.ToString(), "--stats=record"];
        OutputAssert.SameAsPostgres(PgTools.Waldump(args), InProcessWaldump.Run(args), set);
    }

    [Fact]
    public void Timestamps_UseTheLocalTimeZone_LikePgWaldump()
    {
        var f = RealWalFixture.Get("mixed-1mb");
        string[] args = [.. f.RangeArgs, "-r", "Transaction"];
        foreach (var zone in new[] { "America/New_York", "Asia/Kolkata" })
        {
            var pg = PgTools.Waldump(args, zone);
            Assert.Contains(zone == "Asia/Kolkata" ? " IST" : " E", pg.StdoutText);
            OutputAssert.SameAsPostgres(pg, PgTools.Pgwal(["waldump", .. args], zone), zone);
        }
    }

    [Fact]
    public void FilteredOutput_IsIdentical()
    {
        var f = RealWalFixture.Get("mixed-1mb");
        string[][] variants =
        [
            ["-r", "Heap2"], ["-r", "btree", "-b"], ["-w", "-n", "200"], ["-x", "32800"], ["-F", "vm"],
            ["-R", "1663/16384/1259", "-b"], ["-R", "1663/5/2619", "-B", "3"], ["-q"], ["-n", "1000", "--stats"],
        ];
        foreach (var extra in variants)
        {
            string[] args = [.. f.RangeArgs, .. extra];
            OutputAssert.SameAsPostgres(PgTools.Waldump(args), InProcessWaldump.Run(args), string.Join(' ', extra));
        }
    }

    [Fact]
    public void SegmentArguments_AreResolvedLikePgWaldump()
    {
        var f = RealWalFixture.Get("mixed-1mb");
        var segments = Directory.GetFiles(f.WalDirectory).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray();
        string[][] variants =
        [
            [Path.Combine(f.WalDirectory, segments[1]!)],
            ["-p", f.WalDirectory, segments[2]!, segments[4]!],
            [Path.Combine(f.WalDirectory, segments[0]!), Path.Combine(f.WalDirectory, segments[1]!), "--stats"],
            ["-p", f.WalDirectory, "-s", $"{f.First.Value + 5000:X}".Insert(0, "0/"), "-n", "10"],
        ];
        foreach (var args in variants)
            OutputAssert.SameAsPostgres(PgTools.Waldump(args), InProcessWaldump.Run(args), string.Join(' ', args));
    }
}
