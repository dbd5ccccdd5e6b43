// The failover loop (issue 16's acceptance): a PgWal.Kv primary in a worker process with 16
// clients and two hot standbys under synchronous replication, SIGKILLed at a random moment; the
// standby with the highest flush position is promoted; every acknowledged commit must be on it, no
// batch half there, the tree sound; the other standby follows it onto timeline 2 and converges to
// its content. Ten rounds under FIRST 1 and ten under ANY 1 (`pgwal torture --replication`); the
// soak in docs/benchmarks.md runs the same command for hundreds of rounds.
using System.Globalization;
using PgWal.Tests.Infrastructure;

namespace PgWal.Tests.Standby;

public sealed class FailoverLoopTests
{
    [Theory]
    [InlineData("FIRST 1 (s1, s2)", 11)]
    [InlineData("ANY 1 (s1, s2)", 23)]
    public void TenKillNineFailoversLoseNoAcknowledgedCommit(string rule, int seed)
    {
        using var dir = new TempDirectory("failover");
        var result = PgTools.Run("dotnet", [Path.Combine(AppContext.BaseDirectory, "pgwal.dll"), "torture", "-D", dir.Combine("run"), "--replication", "-n", "10", "-c", "16",
            "--min-run-ms", "200", "--max-run-ms", "1500", "--seed", seed.ToString(CultureInfo.InvariantCulture), "--synchronous-standby-names", rule], timeout: TimeSpan.FromMinutes(5));
        Assert.True(result.ExitCode == 0, result.StdoutText + result.Stderr);
        Assert.Contains($"10 failovers survived", result.StdoutText);
        Assert.Equal(10, result.StdoutText.Split('\n').Count(l => l.StartsWith("round ", StringComparison.Ordinal) && l.EndsWith(": ok", StringComparison.Ordinal)));
        Assert.DoesNotContain(" 0 acknowledged commits present", result.StdoutText);
    }
}
