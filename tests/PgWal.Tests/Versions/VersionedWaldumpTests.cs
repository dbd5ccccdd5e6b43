// Real WAL of PostgreSQL 16, 17 and 18 (Fixtures/pg<N>, made by pg15/make-fixtures.sh with
// PG_MAJOR=N) against that version's own pg_waldump output, kept beside the WAL because CI has
// none of those tools. `pgwal waldump` must print every record exactly as that version does.
// A version listed in Matching with null is held to every record equal, plain and -b, and to
// --stats=record; one still in progress lists the resource managers already held, and its other
// records are counted and reported. Each record's lines (its rmgr line and, with -b, its block
// lines) are compared as one.
using PgWal.Tests.Infrastructure;
using Xunit.Abstractions;

namespace PgWal.Tests.Versions;

public sealed class VersionedWaldumpTests(ITestOutputHelper output)
{
    // Per version, the resource managers whose every record already equals pg_waldump's; null: all
    // of them (every record of every set must be equal).
    private static readonly Dictionary<int, string[]?> Matching = new()
    {
        [16] = null,
        [17] = null,
        [18] = null,
    };

    public static TheoryData<int, string, bool> Cases()
    {
        var data = new TheoryData<int, string, bool>();
        foreach (int major in Matching.Keys)
        {
            foreach (var set in RealWalFixture.Names)
            {
                data.Add(major, set, false);
                data.Add(major, set, true);
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchingResourceManagers_EqualTheVersionsPgWaldump_RecordForRecord(int major, string set, bool blocks)
    {
        var fixture = RealWalFixture.Get(major, set);
        var expected = Records(fixture.KeptOutputLines(blocks ? "waldump-b.txt.gz" : "waldump.txt.gz").Select(l => AsReleased(major, l)));
        var result = InProcessWaldump.Run(blocks ? [.. fixture.RangeArgs, "-b"] : fixture.RangeArgs);
        Assert.True(result.ExitCode == 0, $"pgwal waldump failed: {result.Stderr}");
        var actual = Records(System.Text.Encoding.UTF8.GetString(result.Stdout).Split('\n'));
        Assert.Equal(expected.Count, actual.Count);

        var listed = Matching[major];
        var matching = new HashSet<string>(listed ?? []);
        var failures = new List<string>();
        var differing = new SortedDictionary<string, int>(StringComparer.Ordinal);
        int equal = 0;
        for (int i = 0; i < expected.Count; i++)
        {
            var (rmgr, text) = expected[i];
            if (text == actual[i].Text)
            {
                equal++;
                continue;
            }
            differing[rmgr] = differing.GetValueOrDefault(rmgr) + 1;
            if ((listed == null || matching.Contains(rmgr)) && failures.Count < 5)
                failures.Add($"record {i} ({rmgr}):\n  pg_waldump {major}: {text}\n  pgwal:         {actual[i].Text}");
        }
        output.WriteLine($"PostgreSQL {major} {set}{(blocks ? " -b" : "")}: {equal} of {expected.Count} records equal ({100.0 * equal / expected.Count:F1} %)");
        foreach (var (rmgr, count) in differing)
            output.WriteLine($"  {rmgr}: {count} differ{(listed == null || matching.Contains(rmgr) ? "  <-- must match" : "")}");
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Theory]
    [MemberData(nameof(StatsCases))]
    public void StatsRecord_EqualsTheVersionsPgWaldump(int major, string set)
    {
        var fixture = RealWalFixture.Get(major, set);
        string expected = File.ReadAllText(Path.Combine(fixture.Source, "waldump-stats.txt"));
        var result = InProcessWaldump.Run([.. fixture.RangeArgs, "--stats=record"]);
        Assert.True(result.ExitCode == 0, $"pgwal waldump failed: {result.Stderr}");
        Assert.Equal(expected, System.Text.Encoding.UTF8.GetString(result.Stdout));
    }

    public static TheoryData<int, string> StatsCases()
    {
        var data = new TheoryData<int, string>();
        foreach (var (major, listed) in Matching)
        {
            if (listed != null)
                continue;   // names and order are checked once every record type is described as that version does
            foreach (var set in RealWalFixture.Names)
                data.Add(major, set);
        }
        return data;
    }

    // The 16 fixtures' tools are a build of 16's branch point (16beta2; Debian ships no 16 source, see
    // Fixtures/pg16/README.md), whose catalog version differs from every 16 release's. A tablespace
    // path names it; pgwal prints the released 16's (PG_16_202307071), as real 16 WAL needs.
    private static string AsReleased(int major, string line)
        => major == 16 ? line.Replace("/PG_16_202306141/", "/PG_16_202307071/", StringComparison.Ordinal) : line;

    // A record is its "rmgr:" line and the lines after it up to the next one.
    private static List<(string Rmgr, string Text)> Records(IEnumerable<string> lines)
    {
        var records = new List<(string, string)>();
        foreach (var line in lines)
        {
            if (line.StartsWith("rmgr: ", StringComparison.Ordinal))
            {
                int end = line.IndexOf(' ', 6);
                records.Add((line[6..end].TrimEnd(), line));
            }
            else if (line.Length > 0 && records.Count > 0)
            {
                records[^1] = (records[^1].Item1, records[^1].Item2 + "\n" + line);
            }
        }
        return records;
    }
}
