// SharedStdoutTests: `pgwal waldump` writes to a standard output it shares with other programs the
// way pg_waldump does. `{ echo header; pgwal waldump ...; echo footer; } > file` must give the header,
// the dump and the footer in that order: the dump used to be written with pwrite from offset 0 of
// the file (FileStream's own position), overwriting the header, and the footer then overwrote the
// dump because the shell's file offset had not moved.
using PgWal.Tests.Infrastructure;

namespace PgWal.Tests.Cli;

public sealed class SharedStdoutTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Waldump_IntoAFileOthersWriteToo_KeepsEveryonesOutputInOrder(bool append)
    {
        var f = RealWalFixture.Get("mixed-1mb");
        using var dir = new TempDirectory("sharedstdout");
        string args = string.Join(' ', f.RangeArgs.Select(Quote));
        string pgwal = $"dotnet {Quote(Path.Combine(AppContext.BaseDirectory, "pgwal.dll"))} waldump";
        string redirect = append ? ">>" : ">";
        string Run(string name, string tool)
        {
            string file = dir.Combine(name);
            if (append)
                File.WriteAllText(file, "existing line\n");
            var r = PgTools.Run("bash", ["-c", $"{{ echo header; {tool} {args}; echo footer; }} {redirect} {Quote(file)}"], timeZone: "UTC");
            Assert.True(r.ExitCode == 0, r.Stderr);
            return File.ReadAllText(file);
        }

        string expected = Run("pg.txt", Quote(PgTools.PgWaldump));
        string ours = Run("pgwal.txt", pgwal);
        Assert.StartsWith((append ? "existing line\n" : "") + "header\n", expected);
        Assert.EndsWith("footer\n", expected);
        Assert.True(expected.Length > 10_000, "the fixture's dump is not trivially short");
        Assert.Equal(expected, ours);
    }

    private static string Quote(string s) => "'" + s.Replace("'", "'\\''") + "'";
}
