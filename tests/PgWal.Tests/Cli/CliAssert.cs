// CliAssert: what every failing `pgwal` command must look like to a script (docs/cli.md): the
// documented exit code, one "pgwal CMD: error: ..." line on stderr (plus at most the hint line
// 'pgwal CMD: hint: Try "pgwal CMD --help" for more information.'), and nothing of .NET's: no
// stack frame, no type name, no "(Parameter ...)".
using System.Text.RegularExpressions;
using PgWal.Tests.Infrastructure;

namespace PgWal.Tests.Cli;

internal static partial class CliAssert
{
    /// <summary>Exit <paramref name="exitCode"/> with one clean error line containing <paramref name="message"/>.</summary>
    public static void CleanError(ToolResult r, int exitCode, string message, string what)
    {
        string context = $"{what}\nexit {r.ExitCode}\nstderr:\n{r.Stderr}\nstdout:\n{r.StdoutText}";
        NoInternals(r.Stderr + r.StdoutText, context);
        Assert.True(r.ExitCode == exitCode, $"expected exit {exitCode}: {context}");
        var lines = r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length is 1 or 2, $"expected one error line (and at most a hint): {context}");
        Assert.True(ErrorLine().IsMatch(lines[0]), $"not a \"pgwal CMD: error:\" line: {context}");
        if (lines.Length == 2)
            Assert.True(HintLine().IsMatch(lines[1]), $"second line is not the hint: {context}");
        Assert.True(lines[0].Contains(message, StringComparison.Ordinal), $"expected \"{message}\" in the error: {context}");
    }

    /// <summary>No stack trace, no .NET type or parameter names.</summary>
    public static void NoInternals(string text, string context)
    {
        foreach (string bad in new[] { "   at ", "System.", "(Parameter", "Exception", "Unhandled", "Nullable`" })
            Assert.False(text.Contains(bad, StringComparison.Ordinal), $"\"{bad}\" in the output: {context}");
    }

    [GeneratedRegex(@"^pgwal(?: [a-z]+)*: error: \S")]
    private static partial Regex ErrorLine();

    [GeneratedRegex(@"^(pgwal(?: [a-z]+)*): hint: Try ""\1 --help"" for more information\.$")]
    private static partial Regex HintLine();
}
