// ResetWalInteropTests: `pgwal resetwal` against PostgreSQL 15's own pg_resetwal, each on a copy of
// the same crashed data directory. -n prints the same bytes (with and without -l, -x, -o); without
// -f both refuse a directory that was not shut down, alike; with -f -l -x -o both print the same,
// leave control files that pg_controldata prints alike (but for the two times) and start the WAL
// with the same record in the same file, which PgWal then opens. pg_resetwal refuses to run as
// root, so under root it runs as the postgres user on a copy that user owns.
using System.Text.RegularExpressions;
using PgWal.Format;
using PgWal.Tests.Infrastructure;

namespace PgWal.Tests.Interop;

public sealed partial class ResetWalInteropTests
{
    private static readonly WalGeometry Geometry = new(1 << 20);

    [Fact]
    public void ResetWal_PrintsAndWritesWhatPgResetwalDoes()
    {
        using var dir = new TempDirectory("resetwal");
        string original = dir.Combine("original");
        var init = PgTools.Pgwal(["init", "-D", original, "--wal-segsize", "1"]);
        Assert.True(init.ExitCode == 0, init.Stderr);
        var run = PgTools.Pgwal(["pagetest", "-D", original, "--workers", "2", "--pages", "16", "--ops", "400", "--crash"]);
        Assert.True(run.ExitCode == 0, run.Stderr);
        // Closing the instance (here without a shutdown checkpoint) removes postmaster.pid, which
        // pg_resetwal would otherwise stop at.
        Assert.False(File.Exists(Path.Combine(original, "postmaster.pid")), "closing the instance left postmaster.pid behind");

        string ours = CopyDirectory(original, dir.Combine("ours"));
        string theirs = CopyDirectory(original, dir.Combine("theirs"));
        File.WriteAllText(Path.Combine(theirs, "PG_VERSION"), "15\n");   // pg_resetwal checks the major version there
        GiveToPostgres(dir.Path, theirs);

        ulong last = Directory.GetFiles(Path.Combine(original, "pg_wal"))
            .Select(f => SegmentFileName.TryParse(Path.GetFileName(f), Geometry, out _, out var s) ? s.Value : 0).Max();
        string later = SegmentFileName.Format(TimelineId.First, new SegmentNumber(last + 3), Geometry);
        string newTimeline = SegmentFileName.Format(new TimelineId(2), new SegmentNumber(last + 5), Geometry);

        foreach (string[] options in new string[][] { ["-n"], ["-n", "-x", "123456", "-o", "70000"], ["-n", "-l", later], ["-n", "-l", "000000010000000000000001"] })
            AssertSame(options, ours, theirs, expectedExit: 0);
        var refused = AssertSame(["-o", "70000"], ours, theirs, expectedExit: 1);
        Assert.Contains("not shut down cleanly", refused);

        string reset = AssertSame(["-f", "-l", newTimeline, "-x", "123456", "-o", "70000"], ours, theirs, expectedExit: 0);
        Assert.Equal("Write-ahead log reset\n", reset);
        string control = WithoutTimes(ControlData(ours));
        Assert.Equal(WithoutTimes(ControlData(theirs)), control);
        Assert.Contains("Latest checkpoint's TimeLineID:       2", control);
        Assert.Contains("Latest checkpoint's NextOID:          70000", control);
        Assert.Contains("Latest checkpoint's NextXID:          0:123456", control);
        Assert.Equal(WalFiles(theirs), WalFiles(ours));
        Assert.Equal([newTimeline], WalFiles(ours));

        var theirWal = PgTools.Waldump(["-p", Path.Combine(theirs, "pg_wal"), newTimeline]);
        var ourWal = PgTools.Waldump(["-p", Path.Combine(ours, "pg_wal"), newTimeline]);
        Assert.Equal(theirWal.StdoutText, ourWal.StdoutText);
        Assert.Equal(theirWal.ExitCode, ourWal.ExitCode);
        Assert.Contains("CHECKPOINT_SHUTDOWN", ourWal.StdoutText);

        // PgWal opens the reset directory (and PostgreSQL's), continuing on timeline 2.
        foreach (var d in new[] { ours, theirs })
        {
            var recover = PgTools.Pgwal(["recover", "-D", d]);
            Assert.True(recover.ExitCode == 0, d + ": " + recover.Stderr);
        }
        Assert.Contains("Latest checkpoint's TimeLineID:       2", ControlData(ours));
    }

    // Runs pg_resetwal on theirs and pgwal resetwal on ours with the same options; both must
    // print the same and exit alike. Returns the output.
    private static string AssertSame(string[] options, string ours, string theirs, int expectedExit)
    {
        var pg = RunPgResetwal([.. options, theirs]);
        var pw = PgTools.Pgwal(["resetwal", .. options, ours]);
        string what = string.Join(' ', options);
        Assert.True(pg.ExitCode == expectedExit, $"pg_resetwal {what}: exit {pg.ExitCode}: {pg.Stderr}{pg.StdoutText}");
        Assert.True(pw.ExitCode == expectedExit, $"pgwal resetwal {what}: exit {pw.ExitCode}: {pw.Stderr}{pw.StdoutText}");
        OutputAssert.SameAsPostgres(pg, pw, "resetwal " + what);
        return pw.StdoutText;
    }

    private static ToolResult RunPgResetwal(string[] args)
    {
        string tool = PgTools.Require("pg_resetwal");
        return Environment.UserName == "root"
            ? PgTools.Run("runuser", ["-u", "postgres", "--", tool, .. args])
            : PgTools.Run(tool, args);
    }

    private static void GiveToPostgres(string parent, string dataDirectory)
    {
        if (Environment.UserName != "root")
            return;
        var chown = PgTools.Run("chown", ["-R", "postgres:", dataDirectory]);
        Assert.True(chown.ExitCode == 0, chown.Stderr);
        var chmod = PgTools.Run("chmod", ["o+x", parent]);   // postgres must reach the copy
        Assert.True(chmod.ExitCode == 0, chmod.Stderr);
    }

    private static string ControlData(string dataDirectory)
    {
        var pg = PgTools.Run(PgTools.Require("pg_controldata"), [dataDirectory], timeZone: "UTC");
        Assert.True(pg.ExitCode == 0, pg.Stderr);
        return pg.StdoutText;
    }

    private static string WithoutTimes(string controlData) => TimeLines().Replace(controlData, "");

    private static List<string> WalFiles(string dataDirectory) =>
        Directory.GetFiles(Path.Combine(dataDirectory, "pg_wal")).Select(f => Path.GetFileName(f)!)
            .Where(n => SegmentFileName.IsSegmentFileName(n)).Order(StringComparer.Ordinal).ToList();

    private static string CopyDirectory(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from))
            File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        foreach (var sub in Directory.GetDirectories(from))
            CopyDirectory(sub, Path.Combine(to, Path.GetFileName(sub)));
        return to;
    }

    [GeneratedRegex(@"^(pg_control last modified|Time of latest checkpoint):.*\n", RegexOptions.Multiline)]
    private static partial Regex TimeLines();
}
