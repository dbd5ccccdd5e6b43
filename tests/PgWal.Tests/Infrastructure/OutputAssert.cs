// OutputAssert: compares our tool's output with PostgreSQL's, reporting the first differing line
// field by field (so a structural mismatch is readable), and stderr modulo the program name.
using System.Text;
using System.Text.RegularExpressions;

namespace PgWal.Tests.Infrastructure;

internal static partial class OutputAssert
{
    public static void SameAsPostgres(ToolResult postgres, ToolResult ours, string what)
    {
        Assert.True(postgres.ExitCode == ours.ExitCode,
            $"{what}: exit {ours.ExitCode}, pg_waldump exit {postgres.ExitCode}\nours: {ours.Stderr}\npg: {postgres.Stderr}");
        if (!postgres.Stdout.AsSpan().SequenceEqual(ours.Stdout))
            Assert.Fail($"{what}: stdout differs from pg_waldump's\n{FirstDifference(postgres.StdoutText, ours.StdoutText)}");
        Assert.Equal(NormalizeStderr(postgres.Stderr), NormalizeStderr(ours.Stderr));
    }

    public static string NormalizeStderr(string stderr)
        => ArgvZero().Replace(stderr.Replace("pgwal waldump", "pg_waldump"), "pg_waldump:");

    [GeneratedRegex(@"^\S*pg_waldump:", RegexOptions.Multiline)]
    private static partial Regex ArgvZero();

    private static string FirstDifference(string expected, string actual)
    {
        var e = expected.Split('\n');
        var a = actual.Split('\n');
        for (int i = 0; i < Math.Max(e.Length, a.Length); i++)
        {
            string el = i < e.Length ? e[i] : "<missing>", al = i < a.Length ? a[i] : "<missing>";
            if (el == al)
                continue;
            var sb = new StringBuilder($"line {i + 1} of {e.Length}:\n  pg:   {el}\n  ours: {al}\n");
            var ef = Fields(el);
            var af = Fields(al);
            foreach (var key in ef.Keys.Union(af.Keys))
            {
                if (ef.GetValueOrDefault(key) != af.GetValueOrDefault(key))
                    sb.Append($"  field {key}: pg '{ef.GetValueOrDefault(key)}' ours '{af.GetValueOrDefault(key)}'\n");
            }
            return sb.ToString();
        }
        return "lengths differ";
    }

    /// <summary>The structural fields of a pg_waldump record line.</summary>
    public static Dictionary<string, string> Fields(string line)
    {
        var m = RecordLine().Match(line);
        var fields = new Dictionary<string, string>();
        if (!m.Success)
            return fields;
        foreach (var name in new[] { "rmgr", "rec", "tot", "tx", "lsn", "prev", "desc", "blk" })
            fields[name] = m.Groups[name].Value;
        return fields;
    }

    [GeneratedRegex(@"^rmgr: (?<rmgr>\S+)\s+len \(rec/tot\):\s+(?<rec>\d+)/\s*(?<tot>\d+), tx:\s+(?<tx>\d+), lsn: (?<lsn>\S+), prev (?<prev>\S+), desc: (?<desc>.*?)(?<blk>(, blkref #.*)?)$")]
    private static partial Regex RecordLine();
}
