// Real WAL of PostgreSQL 16, 17 and 18 (Fixtures/pg<N>, made by pg15/make-fixtures.sh with
// PG_MAJOR=N) against that version's own pg_waldump output, kept beside the WAL because CI has
// none of those tools. `pgwal waldump` must print every record exactly as that version does.
// Work in progress (issue 17): the resource managers listed in Matching are held to every record
// equal, plain and -b; every other record is counted and reported, so the list only grows. Each
// record's lines (its rmgr line and, with -b, its block lines) are compared as one.
using PgWal.Tests.Infrastructure;
using Xunit.Abstractions;

namespace PgWal.Tests.Versions;

public sealed class VersionedWaldumpTests(ITestOutputHelper output)
{
    // Per version, the resource managers whose every record already equals pg_waldump's.
    private static readonly Dictionary<int, string[]> Matching = new()
    {
        [17] = ["BRIN", "Btree", "CLOG", "CommitTs", "Database", "Generic", "Gin", "Heap", "Heap2", "LogicalMessage", "MultiXact", "RelMap",
            "ReplicationOrigin", "Sequence", "Tablespace", "XLOG"],
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
        var expected = Records(fixture.KeptOutputLines(blocks ? "waldump-b.txt.gz" : "waldump.txt.gz"));
        var result = InProcessWaldump.Run(blocks ? [.. fixture.RangeArgs, "-b"] : fixture.RangeArgs);
        Assert.True(result.ExitCode == 0, $"pgwal waldump failed: {result.Stderr}");
        var actual = Records(System.Text.Encoding.UTF8.GetString(result.Stdout).Split('\n'));
        Assert.Equal(expected.Count, actual.Count);

        var matching = new HashSet<string>(Matching[major]);
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
            if (matching.Contains(rmgr) && failures.Count < 5)
                failures.Add($"record {i} ({rmgr}):\n  pg_waldump {major}: {text}\n  pgwal:         {actual[i].Text}");
        }
        output.WriteLine($"PostgreSQL {major} {set}{(blocks ? " -b" : "")}: {equal} of {expected.Count} records equal ({100.0 * equal / expected.Count:F1} %)");
        foreach (var (rmgr, count) in differing)
            output.WriteLine($"  {rmgr}: {count} differ{(matching.Contains(rmgr) ? "  <-- listed as matching" : "")}");
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

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
