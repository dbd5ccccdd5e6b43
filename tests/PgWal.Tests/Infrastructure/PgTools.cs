// PgTools: runs PostgreSQL 15's own binaries (the oracle) and `pgwal` as processes.
// The binaries must exist: CI installs postgresql-15; a missing binary fails the test loudly.
using System.Diagnostics;

namespace PgWal.Tests.Infrastructure;

internal sealed record ToolResult(int ExitCode, byte[] Stdout, string Stderr)
{
    public string StdoutText => System.Text.Encoding.UTF8.GetString(Stdout);
}

internal static class PgTools
{
    public const string BinDirectory = "/usr/lib/postgresql/15/bin";

    public static string PgWaldump => Require("pg_waldump");

    public static string Require(string tool)
    {
        string path = Path.Combine(Environment.GetEnvironmentVariable("PGBIN") ?? BinDirectory, tool);
        if (!File.Exists(path))
            throw new InvalidOperationException($"PostgreSQL 15's {tool} is required at {path} (apt-get install -y postgresql-15; .ci/run does this)");
        return path;
    }

    /// <summary>Runs pg_waldump 15 with <paramref name="args"/>.</summary>
    public static ToolResult Waldump(IEnumerable<string> args, string? timeZone = null) => Run(PgWaldump, args, timeZone);

    /// <summary>Runs the built `pgwal` (pgwal.dll next to the tests) in a child process.</summary>
    public static ToolResult Pgwal(IEnumerable<string> args, string? timeZone = null, IReadOnlyDictionary<string, string>? environment = null)
    {
        string dll = Path.Combine(AppContext.BaseDirectory, "pgwal.dll");
        return Run("dotnet", new[] { dll }.Concat(args), timeZone, environment: environment);
    }

    public static ToolResult Run(string file, IEnumerable<string> args, string? timeZone = null, TimeSpan? timeout = null, IReadOnlyDictionary<string, string>? environment = null)
    {
        var psi = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in args)
            psi.ArgumentList.Add(a);
        if (timeZone != null)
            psi.Environment["TZ"] = timeZone;
        psi.Environment["LC_ALL"] = "C";
        foreach (var (k, v) in environment ?? new Dictionary<string, string>())
            psi.Environment[k] = v;
        using var process = Process.Start(psi)!;
        var stdout = new MemoryStream();
        var copy = process.StandardOutput.BaseStream.CopyToAsync(stdout);
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout ?? TimeSpan.FromMinutes(5)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', args)} did not finish");
        }
        copy.Wait();
        return new ToolResult(process.ExitCode, stdout.ToArray(), stderr.Result);
    }
}
