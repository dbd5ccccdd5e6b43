// ClientCluster: what the replication client tests need around ScratchCluster: a real PostgreSQL
// 15 initialised with 1 MB segments (so tests fill segments quickly) and no checkpoints of its own
// during a test, optional pg_hba.conf lines placed before initdb's trust lines, settings for the
// client, and `pgwal` running in the background (receivewal) with its stderr kept.
using System.Diagnostics;
using PgWal.Replication.Client;
using PgWal.Tests.Infrastructure;

namespace PgWal.Tests.Replication.Client;

internal static class ClientCluster
{
    public const int SegmentSize = 1024 * 1024;

    public static ScratchCluster Start(TempDirectory dir, string name, string settings = "", string? hbaFirst = null, Action<string>? beforeStart = null)
    {
        ScratchCluster.MakeShared(dir.Path);
        string data = dir.Combine(name);
        var r = ScratchCluster.AsPostgres(PgTools.Require("initdb"), ["-D", data, "-A", "trust", "-U", "postgres", "-N", "--no-instructions", "--wal-segsize=1"]);
        Assert.True(r.ExitCode == 0, $"initdb: {r.Stderr}");
        if (hbaFirst != null)
        {
            string hba = Path.Combine(data, "pg_hba.conf");
            File.WriteAllText(hba, hbaFirst + "\n" + File.ReadAllText(hba));
        }
        beforeStart?.Invoke(data);
        return ScratchCluster.StartExisting(data, "checkpoint_timeout = 1h\nmax_wal_size = 1GB\n" + settings);
    }

    public static ConnectionSettings Settings(ScratchCluster pg, string user = "postgres", string? password = null, SslMode ssl = SslMode.Disable)
        => new() { Host = "127.0.0.1", Port = pg.Port, User = user, Password = password, SslMode = ssl, ApplicationName = "pgwal-test", PasswordFile = "/nonexistent" };

    public static string[] ConnectionArgs(ScratchCluster pg) => ["-h", "127.0.0.1", "-p", pg.Port.ToString(), "-U", "postgres", "-w"];

    /// <summary>Runs pgbench's initialisation and a short run against <paramref name="pg"/>.</summary>
    public static void Pgbench(ScratchCluster pg, int transactions, bool initialise)
    {
        string[] env = ["-h", "127.0.0.1", "-p", pg.Port.ToString(), "-U", "postgres"];
        if (initialise)
        {
            var init = ScratchCluster.AsPostgres(PgTools.Require("pgbench"), [.. env, "-i", "-s", "1", "-q", "postgres"], TimeSpan.FromMinutes(2));
            Assert.True(init.ExitCode == 0, init.Stderr);
        }
        var run = ScratchCluster.AsPostgres(PgTools.Require("pgbench"), [.. env, "-c", "2", "-t", transactions.ToString(), "postgres"], TimeSpan.FromMinutes(2));
        Assert.True(run.ExitCode == 0, run.Stderr);
    }

    /// <summary>Waits until <paramref name="path"/> exists.</summary>
    public static void WaitForFile(string path, BackgroundPgwal process, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!File.Exists(path))
        {
            if (DateTime.UtcNow > deadline)
                Assert.Fail($"{path} did not appear within {timeout.TotalSeconds} s; pgwal said:\n{process.Stderr}");
            if (process.HasExited)
                Assert.Fail($"pgwal exited ({process.ExitCode}) before {path} appeared:\n{process.Stderr}");
            Thread.Sleep(100);
        }
    }
}

/// <summary>`pgwal` in a child process, killed on Dispose if still running.</summary>
internal sealed class BackgroundPgwal : IDisposable
{
    private readonly Process _process;
    private readonly System.Text.StringBuilder _stderr = new();

    public BackgroundPgwal(params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "pgwal.dll"));
        foreach (var a in args)
            psi.ArgumentList.Add(a);
        psi.Environment["LC_ALL"] = "C";
        _process = Process.Start(psi)!;
        _process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data != null)
                lock (_stderr)
                    _stderr.AppendLine(e.Data);
        };
        _process.BeginErrorReadLine();
        _process.OutputDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
    }

    public string Stderr
    {
        get
        {
            lock (_stderr)
                return _stderr.ToString();
        }
    }

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    /// <summary>SIGINT, then waits for the exit; returns the exit code.</summary>
    public int Interrupt(TimeSpan timeout)
    {
        Assert.Equal(0, PgTools.Run("kill", ["-INT", _process.Id.ToString()]).ExitCode);
        return WaitForExit(timeout);
    }

    public int WaitForExit(TimeSpan timeout)
    {
        if (!_process.WaitForExit(timeout))
            Assert.Fail($"pgwal did not exit within {timeout.TotalSeconds} s:\n{Stderr}");
        _process.WaitForExit();
        return _process.ExitCode;
    }

    /// <summary>kill -9.</summary>
    public void KillHard()
    {
        _process.Kill();
        _process.WaitForExit();
    }

    public void Dispose()
    {
        if (!_process.HasExited)
            KillHard();
        _process.Dispose();
    }
}
