// PgToolErrorParityTests: `pgwal controldata` and `pgwal resetwal` fail exactly as PostgreSQL 15's
// pg_controldata and pg_resetwal do — same exit status (1), same stdout, same stderr but for the
// program name — on bad command lines (getopt's messages, strtoul's checks, the hint lines) and
// unusable directories. pg_resetwal refuses root, so under root it runs as postgres. FILE, LOOP and
// SHORT stand for a regular file, a symbolic-link loop and a data directory whose pg_control is
// 100 bytes long. (`pgwal waldump` has its own: Interop/WaldumpArgumentParityTests.)
using System.Text.RegularExpressions;
using PgWal.Tests.Infrastructure;

namespace PgWal.Tests.Cli;

public sealed partial class PgToolErrorParityTests : IDisposable
{
    private readonly TempDirectory _root = new("cliparity");

    public static TheoryData<string> ControlData() =>
    [
        "", "--foo", "-k", "-D", "a b", "/nonexistent", "-D /nonexistent", "--pgdata=/nonexistent extra", "FILE", "LOOP", "SHORT",
    ];

    public static TheoryData<string> ResetWal() =>
    [
        "", "--foo", "-k", "-D", "-n", "-f -n", "a b", "/nonexistent", "FILE", "LOOP", "--dry-run=3 x", "--next-oid",
        "-x abc -n /nonexistent", "-x 0 -n /nonexistent", "-x 1 /nonexistent", "-x 08 /nonexistent", "-x 0x10 -n /nonexistent",
        "-x 18446744073709551616 /nonexistent", "-x 4294967296 /nonexistent", "-x -1 /nonexistent",
        "-o 0 /nonexistent", "-o abc /nonexistent", "-o -1 /nonexistent", "-o 4294967296 /nonexistent",
        "-l bogus /nonexistent", "-l 0000000100000000000000 /nonexistent", "-l 000000010000000000000001xyz /nonexistent",
    ];

    [Theory]
    [MemberData(nameof(ControlData))]
    public void ControlData_FailsLikePgControldata(string commandLine)
    {
        var args = Args(commandLine);
        AssertSame(PgTools.Run(PgTools.Require("pg_controldata"), args), PgTools.Pgwal(["controldata", .. args]), "pg_controldata", commandLine);
    }

    [Theory]
    [MemberData(nameof(ResetWal))]
    public void ResetWal_FailsLikePgResetwal(string commandLine)
    {
        var args = Args(commandLine);
        string tool = PgTools.Require("pg_resetwal");
        var pg = Environment.UserName == "root" ? PgTools.Run("runuser", ["-u", "postgres", "--", tool, .. args]) : PgTools.Run(tool, args);
        AssertSame(pg, PgTools.Pgwal(["resetwal", .. args]), "pg_resetwal", commandLine);
    }

    private string[] Args(string commandLine)
    {
        string file = _root.Combine("file"), loop = _root.Combine("loop"), shortControl = _root.Combine("short");
        if (!File.Exists(file))
        {
            File.WriteAllText(file, "not a directory\n");
            File.CreateSymbolicLink(loop, loop);
            Directory.CreateDirectory(Path.Combine(shortControl, "global"));
            File.WriteAllBytes(Path.Combine(shortControl, "global", "pg_control"), new byte[100]);
        }
        return commandLine.Split(' ', StringSplitOptions.RemoveEmptyEntries)
            .Select(a => a switch { "FILE" => file, "LOOP" => loop, "SHORT" => shortControl, _ => a }).ToArray();
    }

    private static void AssertSame(ToolResult pg, ToolResult ours, string tool, string what)
    {
        string context = $"{tool} {what}\npg: exit {pg.ExitCode}\n{pg.Stderr}{pg.StdoutText}\nours: exit {ours.ExitCode}\n{ours.Stderr}{ours.StdoutText}";
        Assert.True(pg.ExitCode == ours.ExitCode, context);
        Assert.True(pg.StdoutText == ours.StdoutText, context);
        string ourName = "pgwal " + tool[3..];   // pg_resetwal -> pgwal resetwal
        Assert.True(Normalize(pg.Stderr, tool) == Normalize(ours.Stderr.Replace(ourName, tool, StringComparison.Ordinal), tool), context);
        CliAssert.NoInternals(ours.Stderr + ours.StdoutText, context);
    }

    // getopt prints argv[0] ("/usr/lib/postgresql/15/bin/pg_resetwal: invalid option -- 'k'").
    private static string Normalize(string stderr, string tool) => ArgvZero().Replace(stderr, m => tool + ":");

    [GeneratedRegex(@"^\S*/pg_\w+:", RegexOptions.Multiline)]
    private static partial Regex ArgvZero();

    public void Dispose() => _root.Dispose();
}
