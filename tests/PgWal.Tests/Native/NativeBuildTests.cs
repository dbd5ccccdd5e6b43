// NativeBuildTests: the native (AOT) pgwal does what the JIT build does. On the suite's real
// PostgreSQL 15 WAL it prints what pg_waldump 15 prints (plain, -b, --stats=record); controldata
// prints what pg_controldata 15 prints; kv put/get/scan, generate, init and recover print what the
// JIT build prints; every --json object parses with the same fields; and as the child process of
// the kill loops (torture's kv worker, a SIGKILLed pagetest) it loses no acknowledged commit.
using System.Text.Json;
using System.Text.RegularExpressions;
using PgWal.Tests.Infrastructure;

namespace PgWal.Tests.Native;

[Collection(NativeCollection.Name)]
public sealed partial class NativeBuildTests
{
    [Theory]
    [InlineData("mixed-1mb")]
    [InlineData("compression-1mb")]
    public void Waldump_PrintsWhatPgWaldumpPrints(string fixture)
    {
        var f = RealWalFixture.Get(fixture);
        foreach (string[] extra in new[] { Array.Empty<string>(), ["-b"], ["--stats=record"] })
        {
            string[] args = [.. f.RangeArgs, .. extra];
            var pg = PgTools.Waldump(args, timeZone: "UTC");
            var native = NativePgwal.Run(["waldump", .. args], timeZone: "UTC");
            Assert.Equal(pg.ExitCode, native.ExitCode);
            OutputAssert.SameAsPostgres(pg, native, $"native waldump {string.Join(' ', extra)} on {fixture}");
        }
    }

    [Fact]
    public void ControlData_InitAndRecover_PrintWhatTheOraclesAndTheJitBuildPrint()
    {
        using var dir = new TempDirectory("native");
        string jit = dir.Combine("jit"), native = dir.Combine("native");
        var initJ = PgTools.Pgwal(["init", "-D", jit, "--wal-segsize", "1", "-k"]);
        var initN = NativePgwal.Run(["init", "-D", native, "--wal-segsize", "1", "-k"]);
        Assert.True(initN.ExitCode == 0, initN.Stderr);
        Assert.Equal(Masked(initJ.StdoutText, jit), Masked(initN.StdoutText, native));

        var pg = PgTools.Run(PgTools.Require("pg_controldata"), [native], timeZone: "UTC");
        var ours = NativePgwal.Run(["controldata", native], timeZone: "UTC");
        Assert.Equal(pg.StdoutText, ours.StdoutText);

        foreach (var (d, run) in new (string, Func<string[], ToolResult>)[] { (jit, a => PgTools.Pgwal(a)), (native, a => NativePgwal.Run(a)) })
        {
            var recover = run(["recover", "-D", d, "--json", "-q"]);
            Assert.True(recover.ExitCode == 0, recover.Stderr);
            var json = JsonDocument.Parse(recover.StdoutText).RootElement;
            Assert.False(json.GetProperty("crash_recovery").GetBoolean());
            Assert.Equal(JsonValueKind.Null, json.GetProperty("damage").ValueKind);
        }
        Assert.Equal(Keys(PgTools.Pgwal(["recover", "-D", jit, "--json", "-q"]).StdoutText),
                     Keys(NativePgwal.Run(["recover", "-D", native, "--json", "-q"]).StdoutText));
    }

    [Fact]
    public void KvAndGenerate_PrintWhatTheJitBuildPrints()
    {
        using var dir = new TempDirectory("nativekv");
        foreach (var (name, run) in new (string, Func<string[], ToolResult>)[] { ("jit", a => PgTools.Pgwal(a)), ("native", a => NativePgwal.Run(a)) })
        {
            string data = dir.Combine(name);
            Assert.Equal(0, run(["kv", "-D", data, "put", "b", "2"]).ExitCode);
            Assert.Equal(0, run(["kv", "-D", data, "put", "a", "1"]).ExitCode);
            Assert.Equal(0, run(["kv", "-D", data, "put", "--hex", "00ff", "0a00"]).ExitCode);
        }
        foreach (string[] args in new[] { new[] { "get", "a" }, ["get", "--hex", "00ff"], ["scan"], ["scan", "--hex"], ["get", "absent"] })
        {
            var j = PgTools.Pgwal(["kv", "-D", dir.Combine("jit"), .. args]);
            var n = NativePgwal.Run(["kv", "-D", dir.Combine("native"), .. args]);
            Assert.Equal(j.ExitCode, n.ExitCode);
            Assert.Equal(j.StdoutText, n.StdoutText);
            Assert.Equal(j.Stderr.Replace(dir.Combine("jit"), "DIR"), n.Stderr.Replace(dir.Combine("native"), "DIR"));
        }
        var genJ = PgTools.Pgwal(["generate", "-D", dir.Combine("genj"), "--records", "3000", "--seed", "7", "--wal-segsize", "1"]);
        var genN = NativePgwal.Run(["generate", "-D", dir.Combine("genn"), "--records", "3000", "--seed", "7", "--wal-segsize", "1"]);
        Assert.True(genN.ExitCode == 0, genN.Stderr);
        Assert.Equal(Elapsed().Replace(genJ.StdoutText.Replace(dir.Combine("genj"), "DIR"), "in T s"), Elapsed().Replace(genN.StdoutText.Replace(dir.Combine("genn"), "DIR"), "in T s"));
        foreach (var segment in Directory.GetFiles(dir.Combine("genj", "pg_wal")).Select(Path.GetFileName))
            Assert.Equal(File.ReadAllBytes(dir.Combine("genj", "pg_wal", segment!)), File.ReadAllBytes(dir.Combine("genn", "pg_wal", segment!)));
    }

    [Fact]
    public void BenchJson_ParsesWithTheFieldsOfTheJitBuild()
    {
        using var dir = new TempDirectory("nativebench");
        string[] bench = ["bench", "--workers", "2", "--record-size", "100", "--flush", "each", "--records", "2000", "--json"];
        string[] kvBench = ["bench", "--workload", "commit", "--keys", "1000", "--clients", "4", "--duration", "0.5", "--json"];
        var j = PgTools.Pgwal([.. bench[..1], "-D", dir.Combine("bj"), .. bench[1..]]);
        var n = NativePgwal.Run([.. bench[..1], "-D", dir.Combine("bn"), .. bench[1..]]);
        Assert.True(n.ExitCode == 0, n.Stderr);
        Assert.Equal(Keys(LastLine(j.StdoutText)), Keys(LastLine(n.StdoutText)));
        var kj = PgTools.Pgwal(["kv", "-D", dir.Combine("kj"), .. kvBench]);
        var kn = NativePgwal.Run(["kv", "-D", dir.Combine("kn"), .. kvBench]);
        Assert.True(kn.ExitCode == 0, kn.Stderr);
        Assert.Equal(Keys(LastLine(kj.StdoutText)), Keys(LastLine(kn.StdoutText)));
        Assert.True(JsonDocument.Parse(LastLine(kn.StdoutText)).RootElement.GetProperty("ops").GetInt64() > 0);
    }

    [Fact]
    public void Torture_WithTheNativeWorkerAsTheKilledChild_LosesNothing()
    {
        using var dir = new TempDirectory("nativetorture");
        var torture = NativePgwal.Run(["torture", "-D", dir.Path, "-n", "3", "--clients", "4", "--min-run-ms", "50", "--max-run-ms", "600"]);
        Assert.True(torture.ExitCode == 0, torture.Stderr + torture.StdoutText);
        Assert.Contains("3 kills survived", torture.StdoutText);
        Assert.Contains("every check passed", torture.StdoutText);
    }

    [Fact]
    public void PageTest_SigkilledNativeChild_LosesNoAcknowledgedOp()
    {
        using var dir = new TempDirectory("nativekill");
        string data = dir.Combine("data"), acks = dir.Combine("acks");
        for (int i = 0; i < 4; i++)
        {
            var psi = new System.Diagnostics.ProcessStartInfo(NativePgwal.Path) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var a in new[] { "pagetest", "-D", data, "--workers", "2", "--pages", "32", "--ack-file", acks, "--duration", "60", "--wal-segsize", "1", "--checkpoint-timeout", "1" })
                psi.ArgumentList.Add(a);
            using var child = System.Diagnostics.Process.Start(psi)!;
            _ = child.StandardOutput.ReadToEndAsync();
            _ = child.StandardError.ReadToEndAsync();
            long before = File.Exists(acks) ? new FileInfo(acks).Length : 0;
            Assert.True(SpinWait.SpinUntil(() => (File.Exists(acks) ? new FileInfo(acks).Length : 0) > before + 2000 || child.HasExited, TimeSpan.FromSeconds(60)));
            Assert.False(child.HasExited, "pagetest exited early");
            child.Kill();
            child.WaitForExit();
            var verify = NativePgwal.Run(["pagetest", "-D", data, "--ack-file", acks, "--verify"]);
            Assert.True(verify.ExitCode == 0, $"kill {i}: {verify.Stderr}{verify.StdoutText}");
        }
    }

    private static string LastLine(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1];

    private static List<string> Keys(string json) => JsonDocument.Parse(json).RootElement.EnumerateObject().Select(p => p.Name).ToList();

    // The system identifier is random; the path differs.
    private static string Masked(string text, string dir) => Digits().Replace(text.Replace(dir, "DIR"), "N");

    [GeneratedRegex(@"\d{12,}")]
    private static partial Regex Digits();

    [GeneratedRegex(@"in \d+(\.\d+)? s")]
    private static partial Regex Elapsed();
}

// The native build's tests run by themselves, after the parallel tests: its publish (the AOT
// compiler) takes both cores for half a minute.
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class NativeCollection
{
    public const string Name = "native build";
}
