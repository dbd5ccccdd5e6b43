using PgWal.Format;
using PgWal.Tests.Infrastructure;

namespace PgWal.Tests.Interop;

// WAL that ends badly — truncated segment files, --end anywhere — must end exactly as pg_waldump 15
// ends: same records, same statistics, same message, same exit status.
public class DamagedWalInteropTests
{
    [Theory]
    [InlineData(9000)]
    [InlineData(100)]
    [InlineData(16384)]
    [InlineData(0)]
    [InlineData(500_000)]
    public void TruncatedSegment_EndsLikePgWaldump(int keepBytes)
    {
        var f = RealWalFixture.Get("mixed-1mb");
        using var dir = new TempDirectory("trunc");
        foreach (var file in Directory.GetFiles(f.WalDirectory))
            File.Copy(file, Path.Combine(dir.Path, Path.GetFileName(file)));
        string victim = Directory.GetFiles(dir.Path).Order(StringComparer.Ordinal).ElementAt(2);
        using (var s = new FileStream(victim, FileMode.Open))
            s.SetLength(keepBytes);
        foreach (var extra in new[] { Array.Empty<string>(), ["--stats=record"], ["-f", "-q"] })
        {
            string[] args = ["-p", dir.Path, "-s", f.First.ToString(), .. extra];
            OutputAssert.SameAsPostgres(PgTools.Waldump(args), InProcessWaldump.Run(args), $"{keepBytes} bytes {string.Join(' ', extra)}");
        }
    }

    [Fact]
    public void EndPositions_AnywhereInTheWal_StopLikePgWaldump()
    {
        var f = RealWalFixture.Get("compression-1mb");
        var rng = new Random(12);
        for (int i = 0; i < 60; i++)
        {
            var end = new Lsn(f.First.Value + (ulong)rng.NextInt64(1, (long)(f.End - f.First)));
            if (CutsRecordContinuingOnASegmentStart(end, f.SegmentSize))
                continue; // pg_waldump 15 reads stale bytes there; see docs/waldump.md, "Deliberate differences"
            string[] args = ["-p", f.WalDirectory, "-s", f.First.ToString(), "-e", end.ToString(), "--stats=record"];
            OutputAssert.SameAsPostgres(PgTools.Waldump(args), InProcessWaldump.Run(args), $"-e {end}");
        }
    }

    // The one place where pg_waldump 15's reader uses bytes it did not load: --end inside the first
    // page of a segment while a record continues onto it.
    private static bool CutsRecordContinuingOnASegmentStart(Lsn end, int segmentSize)
        => (end.Value % (ulong)segmentSize) < WalGeometry.PageSize;
}
