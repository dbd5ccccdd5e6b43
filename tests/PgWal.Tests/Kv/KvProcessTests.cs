// KvProcessTests: the kv store as processes. `pgwal torture` SIGKILLs the kv workload ≥ 30 times
// and checks after each recovery (a) every acknowledged commit, (b) no partial batch, (c) the
// tree's invariants; its WAL is then walked by pg_waldump 15. `pgwal demo` — the README's main job —
// runs to completion and exits 0. PGWAL_KILL_ITERATIONS overrides the kill count.
using System.Text.RegularExpressions;
using PgWal.Tests.Crash;
using PgWal.Tests.Infrastructure;

namespace PgWal.Tests.Kv;

[Collection(CrashCollection.Name)]
public sealed partial class KvProcessTests
{
    private static readonly string Pgwal = Path.Combine(AppContext.BaseDirectory, "pgwal.dll");

    [Fact]
    public void Torture_SurvivesThirtySigkills_WithAllThreeChecks()
    {
        int iterations = int.TryParse(Environment.GetEnvironmentVariable("PGWAL_KILL_ITERATIONS"), out int n) ? n : 30;
        using var dir = new TempDirectory("kvtorture");
        string root = dir.Combine("run");
        var result = PgTools.Run("dotnet", [Pgwal, "torture", "-D", root, "-n", iterations.ToString(), "--clients", "4", "--min-run-ms", "50", "--max-run-ms", "700", "--seed", "9"],
            timeout: TimeSpan.FromMinutes(10));
        Assert.True(result.ExitCode == 0, result.StdoutText + result.Stderr);
        var lines = IterationLine().Matches(result.StdoutText);
        Assert.Equal(iterations, lines.Count);
        var acknowledged = lines.Select(m => long.Parse(m.Groups[1].Value.Replace(",", ""))).ToList();
        Assert.True(acknowledged[^1] > acknowledged[0], "the workload made no progress between kills");
        Assert.Contains($"{iterations} kills survived", result.StdoutText);

        string data = Path.Combine(root, "data");
        var control = Format.ControlFileData.Decode(File.ReadAllBytes(Path.Combine(data, "global", "pg_control")));
        string dump = WaldumpWalk.AssertWalks(Path.Combine(data, "pg_wal"), control);
        Assert.Contains("rmgr: custom140", dump);
    }

    [Fact]
    public void Demo_RunsToCompletion_AndExitsZero()
    {
        using var dir = new TempDirectory("kvdemo");
        var result = PgTools.Run("dotnet", [Pgwal, "demo", "-D", dir.Combine("demo"), "--duration", "2", "--clients", "4"], timeout: TimeSpan.FromMinutes(3));
        Assert.True(result.ExitCode == 0, result.StdoutText + result.Stderr);
        Assert.Contains("SIGKILL: worker killed after", result.StdoutText);
        Assert.Contains("acknowledged commits present", result.StdoutText);
        Assert.Contains("pgwal demo: OK", result.StdoutText);
        // A second run in the same place replaces the previous demo; a foreign directory is refused.
        Assert.Equal(0, PgTools.Run("dotnet", [Pgwal, "demo", "-D", dir.Combine("demo"), "--duration", "1", "--clients", "2"]).ExitCode);
        Directory.CreateDirectory(dir.Combine("other"));
        File.WriteAllText(dir.Combine("other", "keep.txt"), "precious");
        var refused = PgTools.Run("dotnet", [Pgwal, "demo", "-D", dir.Combine("other"), "--duration", "1"]);
        Assert.NotEqual(0, refused.ExitCode);
        Assert.True(File.Exists(dir.Combine("other", "keep.txt")));
    }

    [Fact]
    public void DemoPitr_RestoresToJustBeforeTheAccident_AndTheBackupPassesPgVerifybackup()
    {
        using var dir = new TempDirectory("kvpitr");
        var result = PgTools.Run("dotnet", [Pgwal, "demo", "--pitr", "-D", dir.Combine("demo"), "--duration", "3"], timeout: TimeSpan.FromMinutes(3));
        Assert.True(result.ExitCode == 0, result.StdoutText + result.Stderr);
        Assert.Contains("recovery stopping at restore point \"before-accident\"", result.StdoutText);
        Assert.Contains("new timeline 2 from", result.StdoutText);
        Assert.Contains("the 500 keys the accident deleted are back", result.StdoutText);
        Assert.Contains("pgwal demo --pitr: OK", result.StdoutText);
        var verified = PgTools.Run(PgTools.Require("pg_verifybackup"), [dir.Combine("demo", "backup")]);
        Assert.True(verified.ExitCode == 0, verified.Stderr);
        // The restored store is a store like any other: the CLI reads it, and archive list shows the backup.
        var scan = PgTools.Run("dotnet", [Pgwal, "kv", "-D", dir.Combine("demo", "restored"), "scan", "--limit", "1", "client1/"]);
        Assert.Equal(0, scan.ExitCode);
        Assert.StartsWith("client1/", scan.StdoutText);
        var list = PgTools.Run("dotnet", [Pgwal, "archive", "list", "--repo", dir.Combine("demo", "repo")]);
        Assert.Contains("backup history", list.StdoutText);
    }

    [Fact]
    public void KvCommands_PutGetDeleteScanStats()
    {
        using var dir = new TempDirectory("kvcli");
        string data = dir.Combine("data");
        ToolResult Kv(params string[] args) => PgTools.Run("dotnet", [Pgwal, "kv", "-D", data, .. args]);
        Assert.Equal(0, Kv("put", "user:2", "bob").ExitCode);
        Assert.Equal(0, Kv("put", "user:1", "alice").ExitCode);
        Assert.Equal(0, Kv("put", "zeta", "z").ExitCode);
        Assert.Equal("alice\n", Kv("get", "user:1").StdoutText);
        var missing = Kv("get", "user:3");
        Assert.Equal(1, missing.ExitCode);
        Assert.Contains("not found", missing.Stderr);
        Assert.Equal("user:1\talice\nuser:2\tbob\n", Kv("scan", "user:", "user;").StdoutText);
        Assert.Equal("zeta\tz\nuser:2\tbob\nuser:1\talice\n", Kv("scan", "--reverse").StdoutText);
        Assert.Equal(0, Kv("delete", "user:1").ExitCode);
        Assert.Equal(1, Kv("delete", "user:1").ExitCode);
        var stats = Kv("stats");
        Assert.Equal(0, stats.ExitCode);
        Assert.Matches(@"keys:\s+2\n", stats.StdoutText);
        Assert.Contains("tree check:          ok", stats.StdoutText);
        var dump = PgTools.Pgwal(["waldump", "-p", Path.Combine(data, "pg_wal"), "-r", "kv", "000000010000000000000001"]);
        Assert.Contains("desc: INSERT key \"user:1\", value 5 bytes", dump.StdoutText);
        Assert.Contains("desc: DELETE key \"user:1\"", dump.StdoutText);
    }

    [GeneratedRegex(@"^iteration \d+/\d+: .*?; ([\d,]+) acknowledged commits present .*: ok$", RegexOptions.Multiline)]
    private static partial Regex IterationLine();
}
