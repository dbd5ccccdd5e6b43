// NativePgwal: the native (AOT) pgwal, published once per test run with the README's command
// (`dotnet publish src/PgWal.Cli -c Release -o DIR`) into a temporary directory, with its own
// artifacts path so it never touches the build the other tests run. Fails loudly when the publish
// fails (the ILCompiler packages come from the NuGet mirror, as every package does).
using System.Diagnostics;
using PgWal.Tests.Infrastructure;

namespace PgWal.Tests.Native;

internal static class NativePgwal
{
    private static readonly Lazy<string> s_path = new(Publish, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>The native executable.</summary>
    public static string Path => s_path.Value;

    /// <summary>Runs the native pgwal with <paramref name="args"/>.</summary>
    public static ToolResult Run(IEnumerable<string> args, string? timeZone = null) => PgTools.Run(Path, args, timeZone);

    private static string Publish()
    {
        string root = RepositoryRoot();
        string work = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"pgwal-native-{Environment.ProcessId}");
        string output = System.IO.Path.Combine(work, "out");
        var clock = Stopwatch.StartNew();
        var publish = PgTools.Run("dotnet", ["publish", System.IO.Path.Combine(root, "src", "PgWal.Cli"), "-c", "Release", "-o", output,
            "--artifacts-path", System.IO.Path.Combine(work, "artifacts"), "-nologo"], timeout: TimeSpan.FromMinutes(10));
        Assert.True(publish.ExitCode == 0, $"dotnet publish of the native pgwal failed ({clock.Elapsed.TotalSeconds:F0} s):\n{publish.StdoutText}\n{publish.Stderr}");
        Assert.DoesNotContain("warning", publish.StdoutText, StringComparison.OrdinalIgnoreCase);
        string exe = System.IO.Path.Combine(output, "pgwal");
        Assert.True(File.Exists(exe), $"no native pgwal at {exe}");
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try
            {
                Directory.Delete(work, true);
            }
            catch (IOException)
            {
            }
        };
        return exe;
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "PgWal.slnx")))
                return dir.FullName;
        }
        throw new InvalidOperationException($"PgWal.slnx not found above {AppContext.BaseDirectory}");
    }
}
