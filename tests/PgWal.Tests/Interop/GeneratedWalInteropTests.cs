using System.Text.RegularExpressions;
using PgWal.Format;
using PgWal.Tests.Infrastructure;
using PgWal.Workload;

namespace PgWal.Tests.Interop;

// WAL written by PgWal, checked by PostgreSQL 15's pg_waldump: it must walk every record from the
// first to the last with exit status 0 and see exactly our records at exactly our LSNs; and
// `pgwal waldump` must print byte-identical output.
public partial class GeneratedWalInteropTests
{
    [Theory]
    [InlineData(1, 8_000, 3)]
    [InlineData(16, 60_000, 4)]
    [InlineData(64, 70_000, 5)]
    public void PgWaldump_WalksGeneratedWal_AndPgwalWaldumpMatchesIt(int segmentMb, int records, int seed)
    {
        using var dir = new TempDirectory("gen");
        var starts = new List<Lsn>();
        var result = WalWorkloadGenerator.Generate(dir.Path,
            new WorkloadOptions { Records = records, Seed = seed, SegmentSize = segmentMb * 1024 * 1024 },
            r => starts.Add(r.Start));
        Assert.True(result.Segments >= 3, $"only {result.Segments} segments");
        foreach (var shape in new[] { "app:33-blocks", "app:no-blocks", "app:origin", "app:toplevel-xid", "fpi:none+hole", "fpi:none",
                     "fpi:pglz+hole", "fpi:lz4+hole", "fpi:zstd+hole", "fpi:for-verification", "xlog:fpi", "xlog:switch",
                     "xact:commit", "xact:abort", "xlog:restore-point", "xlog:checkpoint-online", "xlog:noop-large" })
            Assert.True(result.Shapes.GetValueOrDefault(shape) > 0, $"shape {shape} missing");

        string[] range = ["-p", result.WalDirectory, "-s", result.FirstLsn.ToString(), "-e", result.EndLsn.ToString()];
        var pg = PgTools.Waldump(range);
        Assert.True(pg.ExitCode == 0, pg.Stderr);
        var lsns = LsnField().Matches(pg.StdoutText).Select(m => Lsn.Parse(m.Groups[1].Value)).ToList();
        Assert.Equal(result.Records, lsns.Count);
        Assert.Equal(starts, lsns);

        OutputAssert.SameAsPostgres(pg, InProcessWaldump.Run(range), "plain");
        OutputAssert.SameAsPostgres(PgTools.Waldump([.. range, "--stats=record"]), InProcessWaldump.Run([.. range, "--stats=record"]), "--stats=record");
        if (segmentMb == 16)
        {
            OutputAssert.SameAsPostgres(PgTools.Waldump([.. range, "-b"]), InProcessWaldump.Run([.. range, "-b"]), "-b");
            OutputAssert.SameAsPostgres(PgTools.Waldump([.. range, "--stats"]), InProcessWaldump.Run([.. range, "--stats"]), "--stats");
        }
    }

    [Fact]
    public void PgWaldump_SeesRecordsCrossingSegments_AndSplitHeaders()
    {
        using var dir = new TempDirectory("gen");
        var starts = new List<Lsn>();
        var result = WalWorkloadGenerator.Generate(dir.Path, new WorkloadOptions { Records = 8_000, Seed = 3, SegmentSize = WalGeometry.MinSegmentSize },
            r => starts.Add(r.Start));
        var g = new WalGeometry(WalGeometry.MinSegmentSize);
        int splitHeaders = starts.Count(s => WalGeometry.OffsetInPage(s) > 8192 - 24);
        int segmentCrossers = starts.Zip(starts.Skip(1)).Count(p => g.SegmentOf(p.First) != g.SegmentOf(p.Second - 1) && g.OffsetInSegment(p.Second) != 40);
        Assert.True(splitHeaders > 0, "no record header split across pages");
        Assert.True(segmentCrossers > 0, "no record crossing a segment boundary");
        var pg = PgTools.Waldump(["-p", result.WalDirectory, "-s", result.FirstLsn.ToString(), "-e", result.EndLsn.ToString(), "-q"]);
        Assert.True(pg.ExitCode == 0, pg.Stderr);
    }

    [GeneratedRegex(@"lsn: ([0-9A-F]+/[0-9A-F]+),")]
    private static partial Regex LsnField();
}
