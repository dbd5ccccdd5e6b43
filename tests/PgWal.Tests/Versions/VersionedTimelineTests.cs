// Each version's promote-1mb fixture: timeline 1 ends cleanly in zeroes, timeline 2 begins in the
// same segment (END_OF_RECOVERY), and its tail is torn in the middle of a 20 kB record. pg_waldump
// of that version read both timelines to the end of WAL (-t 1 and -t 2, no -e), plain, -b and
// --stats=record; its stdout and its exit status 1 with the last line on stderr are kept beside the
// WAL. `pgwal waldump` must print the same bytes and end with the same error, worded as that
// version words it ("wanted 24" up to 15, "expected at least 24" from 16; the page's LSN in the
// page-header errors from 16).
using PgWal.Tests.Infrastructure;

namespace PgWal.Tests.Versions;

public sealed class VersionedTimelineTests
{
    public static TheoryData<int, int, string> Cases()
    {
        var data = new TheoryData<int, int, string>();
        foreach (int major in RealWalFixture.Majors)
        {
            foreach (int timeline in new[] { 1, 2 })
            {
                foreach (var mode in new[] { "", "-b", "--stats=record" })
                    data.Add(major, timeline, mode);
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void ReadToTheEndOfEachTimeline_EqualsTheVersionsPgWaldump_ErrorIncluded(int major, int timeline, string mode)
    {
        var fixture = RealWalFixture.Get(major, RealWalFixture.PromoteSet);
        string name = (timeline == 1 ? "waldump-tl1" : "waldump") + mode switch { "-b" => "-b", "--stats=record" => "-stats", _ => "" };
        string[] args = ["-p", fixture.WalDirectory, "-t", timeline.ToString(System.Globalization.CultureInfo.InvariantCulture), "-s", fixture.First.ToString()];
        if (mode.Length > 0)
            args = [.. args, mode];

        var result = InProcessWaldump.Run(args);

        string expected = string.Join('\n', fixture.KeptOutputLines(name + ".txt.gz"));
        string actual = System.Text.Encoding.UTF8.GetString(result.Stdout);
        if (expected != actual)
        {
            var e = expected.Split('\n');
            var a = actual.Split('\n');
            int i = 0;
            while (i < Math.Min(e.Length, a.Length) && e[i] == a[i])
                i++;
            Assert.Fail($"PostgreSQL {major} -t {timeline} {mode}: line {i + 1} differs ({e.Length} lines expected, {a.Length} printed)\n" +
                $"  pg_waldump {major}: {(i < e.Length ? e[i] : "<end>")}\n  pgwal:         {(i < a.Length ? a[i] : "<end>")}");
        }
        Assert.Equal(1, result.ExitCode);
        string expectedError = File.ReadAllText(Path.Combine(fixture.Source, name + ".stderr.txt")).TrimEnd('\n');
        Assert.Equal(AfterProgramName(expectedError), AfterProgramName(result.Stderr.TrimEnd('\n', '\r')));
    }

    [Theory]
    [MemberData(nameof(Majors))]
    public void TheFixtures_HoldTheirEvents(int major)
    {
        // The fixture is what its name says: a timeline switch and a torn record (not a clean end).
        var fixture = RealWalFixture.Get(major, RealWalFixture.PromoteSet);
        var plain = fixture.KeptOutputLines("waldump.txt.gz");
        Assert.Contains(plain, l => l.Contains("desc: END_OF_RECOVERY tli 2; prev tli 1;", StringComparison.Ordinal));
        string error = File.ReadAllText(Path.Combine(fixture.Source, "waldump.stderr.txt"));
        Assert.Contains("invalid magic number 0000", error, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(fixture.WalDirectory, "00000002.history")));
    }

    public static TheoryData<int> Majors() => [.. RealWalFixture.Majors];

    // "pg_waldump: error: ..." and "pgwal waldump: error: ..." name their programs; the rest is the same.
    private static string AfterProgramName(string line)
    {
        int at = line.IndexOf(": error: ", StringComparison.Ordinal);
        return at < 0 ? line : line[at..];
    }
}
