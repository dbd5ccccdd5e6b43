using PgWal.Cli.WalDump;
using PgWal.Format;
using PgWal.Tests.Infrastructure;
using PgWal.Workload;

namespace PgWal.Tests.Interop;

// --follow: at the end of the WAL, keep retrying; WAL that appears later is printed.
public class WaldumpFollowTests
{
    [Fact]
    public async Task Follow_PrintsWalThatAppearsLater()
    {
        using var dir = new TempDirectory("follow");
        var starts = new List<Lsn>();
        var result = WalWorkloadGenerator.Generate(dir.Path, new WorkloadOptions { Records = 3000, Seed = 4, SegmentSize = WalGeometry.MinSegmentSize },
            r => starts.Add(r.Start));
        var segments = Directory.GetFiles(result.WalDirectory).Order(StringComparer.Ordinal).ToArray();
        Assert.True(segments.Length >= 3);
        string hidden = segments[^1] + ".hidden";
        File.Move(segments[^1], hidden);

        var stdout = new MemoryStream();
        var stderr = new StringWriter();
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var run = Task.Run(() => WalDumpCommand.Run(["-p", result.WalDirectory, "-s", result.FirstLsn.ToString(), "-f", "-q"], stdout, stderr, cancel.Token));
        await Task.Delay(1500);
        Assert.False(run.IsCompleted, "waldump --follow stopped at the end of the WAL");
        File.Move(hidden, segments[^1]); // appears within pg_waldump's 5 s of retries
        await Task.Delay(2500);
        cancel.Cancel();
        Assert.Equal(0, await run);

        // Now without -q: the last record, which lives in the late segment, is printed.
        stdout = new MemoryStream();
        using var cancel2 = new CancellationTokenSource(TimeSpan.FromSeconds(3));
        Assert.Equal(0, WalDumpCommand.Run(["-p", result.WalDirectory, "-s", result.FirstLsn.ToString(), "-f"], stdout, stderr, cancel2.Token));
        string text = System.Text.Encoding.UTF8.GetString(stdout.ToArray());
        Assert.Contains($"lsn: {starts[^1].ToPaddedString()},", text);
        Assert.Equal(starts.Count, text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
    }

    [Fact]
    public void Follow_GivesUpOnASegmentThatNeverAppears_LikePgWaldump()
    {
        using var dir = new TempDirectory("follow");
        var result = WalWorkloadGenerator.Generate(dir.Path, new WorkloadOptions { Records = 3000, Seed = 4, SegmentSize = WalGeometry.MinSegmentSize });
        var segments = Directory.GetFiles(result.WalDirectory).Order(StringComparer.Ordinal).ToArray();
        File.Delete(segments[^1]);
        string[] args = ["-p", result.WalDirectory, "-s", result.FirstLsn.ToString(), "-f", "-q"];
        var pg = PgTools.Waldump(args);
        var ours = InProcessWaldump.Run(args);
        OutputAssert.SameAsPostgres(pg, ours, "--follow with a missing segment");
        Assert.Contains("could not find file", ours.Stderr);
    }
}
