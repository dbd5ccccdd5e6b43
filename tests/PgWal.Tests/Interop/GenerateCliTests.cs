using System.Security.Cryptography;
using PgWal.Tests.Infrastructure;

namespace PgWal.Tests.Interop;

// `pgwal generate` as a user runs it: creates the directory, reports what it wrote, is reproducible.
public class GenerateCliTests
{
    [Fact]
    public void Generate_CreatesDirectory_ReportsCountAndEnd_AndIsReproducible()
    {
        using var root = new TempDirectory("cli");
        string a = root.Combine("a", "nested"), b = root.Combine("b");
        var ra = PgTools.Pgwal(["generate", "-D", a, "--records", "3000", "--seed", "9", "--wal-segsize", "1"]);
        var rb = PgTools.Pgwal(["generate", "-D", b, "--records", "3000", "--seed", "9", "--wal-segsize", "1"]);
        Assert.True(ra.ExitCode == 0, ra.Stderr);
        Assert.True(rb.ExitCode == 0, rb.Stderr);
        Assert.Contains("wrote 3000 records to", ra.StdoutText);
        Assert.Matches(@"end [0-9A-F]+/[0-9A-F]+", ra.StdoutText);
        var filesA = Directory.GetFiles(Path.Combine(a, "pg_wal")).Order(StringComparer.Ordinal).ToArray();
        var filesB = Directory.GetFiles(Path.Combine(b, "pg_wal")).Order(StringComparer.Ordinal).ToArray();
        Assert.True(filesA.Length >= 3);
        Assert.Equal(filesA.Select(Path.GetFileName), filesB.Select(Path.GetFileName));
        for (int i = 0; i < filesA.Length; i++)
            Assert.Equal(SHA256.HashData(File.ReadAllBytes(filesA[i])), SHA256.HashData(File.ReadAllBytes(filesB[i])));
    }

    [Fact]
    public void Generate_RefusesADirectoryThatAlreadyHoldsWal()
    {
        using var root = new TempDirectory("cli");
        Assert.Equal(0, PgTools.Pgwal(["generate", "-D", root.Path, "--records", "10", "--wal-segsize", "1"]).ExitCode);
        var again = PgTools.Pgwal(["generate", "-D", root.Path, "--records", "10", "--wal-segsize", "1"]);
        Assert.Equal(3, again.ExitCode);   // a runtime error (docs/cli.md); bad options: Cli/WorkloadCommandErrorTests
        Assert.Contains("already contains WAL segments", again.Stderr);
    }
}
