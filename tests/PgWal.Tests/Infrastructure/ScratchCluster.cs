// ScratchCluster: a real PostgreSQL 15 server for a test. It runs as the `postgres` user when the
// tests run as root (postgres refuses root), listens on 127.0.0.1 only on a free port, keeps its
// socket in its own directory, and is stopped (immediately) on Dispose, also when the test failed.
// Also: pgwal where such a server (or the postgres user) can run it.
using System.Net;
using System.Net.Sockets;

namespace PgWal.Tests.Infrastructure;

internal sealed class ScratchCluster : IDisposable
{
    private ScratchCluster(string dataDirectory, string socketDirectory, int port)
    {
        DataDirectory = dataDirectory;
        SocketDirectory = socketDirectory;
        Port = port;
    }

    public string DataDirectory { get; }

    public string SocketDirectory { get; }

    public int Port { get; }

    public string LogFile => Path.Combine(SocketDirectory, "log");

    /// <summary>
    /// initdb a cluster in <paramref name="dataDirectory"/> (which must not exist; its parent must be
    /// one <see cref="MakeShared"/> prepared), add <paramref name="settings"/> and start it.
    /// </summary>
    public static ScratchCluster Init(string dataDirectory, string settings)
    {
        var r = AsPostgres(PgTools.Require("initdb"), ["-D", dataDirectory, "-A", "trust", "-U", "postgres", "-N", "--no-instructions"]);
        Assert.True(r.ExitCode == 0, $"initdb: {r.Stderr}");
        return StartExisting(dataDirectory, settings);
    }

    /// <summary>Starts a data directory that already exists (a restored base backup), with <paramref name="settings"/> appended.</summary>
    public static ScratchCluster StartExisting(string dataDirectory, string settings)
    {
        string sockets = dataDirectory + ".run";
        Directory.CreateDirectory(sockets);
        MakeShared(sockets);
        int port = FreePort();
        File.AppendAllText(Path.Combine(dataDirectory, "postgresql.conf"),
            $"\nlisten_addresses = '127.0.0.1'\nport = {port}\nunix_socket_directories = '{sockets}'\n{settings}\n");
        var cluster = new ScratchCluster(dataDirectory, sockets, port);
        var r = AsPostgres(PgTools.Require("pg_ctl"), ["-D", dataDirectory, "-l", cluster.LogFile, "-w", "-t", "120", "start"]);
        if (r.ExitCode != 0)
        {
            string log = File.Exists(cluster.LogFile) ? File.ReadAllText(cluster.LogFile) : "(no log)";
            cluster.Dispose();
            Assert.Fail($"pg_ctl start: {r.Stderr}\n{log}");
        }
        return cluster;
    }

    /// <summary>Runs one SQL statement with psql; returns its unaligned output, trimmed.</summary>
    public string Sql(string sql)
    {
        var r = Psql(sql);
        Assert.True(r.ExitCode == 0, $"psql -c \"{sql}\": {r.Stderr}");
        return r.StdoutText.Trim();
    }

    /// <summary>Polls <paramref name="sql"/> until it returns <paramref name="expected"/>, failing after <paramref name="timeout"/>.</summary>
    public void WaitFor(string sql, string expected, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        string last = "";
        while (DateTime.UtcNow < deadline)
        {
            var r = Psql(sql);
            last = r.ExitCode == 0 ? r.StdoutText.Trim() : r.Stderr.Trim();
            if (r.ExitCode == 0 && last == expected)
                return;
            Thread.Sleep(200);
        }
        Assert.Fail($"\"{sql}\" gave \"{last}\", not \"{expected}\", within {timeout.TotalSeconds} s; server log:\n{Log()}");
    }

    // One statement through psql, unaligned and quiet, stopping at the first error.
    private ToolResult Psql(string sql) => PgTools.Run(PgTools.Require("psql"),
        ["-h", "127.0.0.1", "-p", Port.ToString(), "-U", "postgres", "-d", "postgres", "-XAtq", "-v", "ON_ERROR_STOP=1", "-c", sql]);

    public string Log() => File.Exists(LogFile) ? File.ReadAllText(LogFile) : "";

    public void Dispose()
    {
        if (File.Exists(Path.Combine(DataDirectory, "postmaster.pid")))
            AsPostgres(PgTools.Require("pg_ctl"), ["-D", DataDirectory, "-m", "immediate", "-w", "stop"]);
    }

    /// <summary>Runs a tool as the postgres user when we are root, else as ourselves.</summary>
    public static ToolResult AsPostgres(string tool, string[] args, TimeSpan? timeout = null)
        => Environment.UserName == "root"
            ? PgTools.Run("runuser", ["-u", "postgres", "--", tool, .. args], timeout: timeout)
            : PgTools.Run(tool, args, timeout: timeout);

    /// <summary>Lets the postgres user create files in <paramref name="directory"/> (and enter the ones above it).</summary>
    public static void MakeShared(string directory)
    {
        Assert.Equal(0, PgTools.Run("chmod", ["777", directory]).ExitCode);
        for (var d = Directory.GetParent(directory); d != null && d.FullName != "/"; d = d.Parent)
        {
            if (PgTools.Run("chmod", ["o+x", d.FullName]).ExitCode != 0)
                break;
        }
    }

    /// <summary>
    /// The command line that runs pgwal for the postgres user (e.g. in archive_command): the JIT build
    /// through dotnet, from the build output or, when the postgres user cannot read that, from a
    /// world-readable copy.
    /// </summary>
    public static string PgwalCommand => $"{DotnetHost} {PgwalForOthers.Value}";

    public static string DotnetHost => Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "/usr/bin/dotnet";

    /// <summary>pgwal.dll where the postgres user can read it.</summary>
    public static readonly Lazy<string> PgwalForOthers = new(() =>
    {
        string dll = Path.Combine(AppContext.BaseDirectory, "pgwal.dll");
        if (Environment.UserName != "root" || PgTools.Run("runuser", ["-u", "postgres", "--", "test", "-r", dll]).ExitCode == 0)
            return dll;
        string copy = Path.Combine(Path.GetTempPath(), $"pgwal-for-others-{Environment.ProcessId}");
        Directory.CreateDirectory(copy);
        foreach (var file in Directory.GetFiles(AppContext.BaseDirectory))
            File.Copy(file, Path.Combine(copy, Path.GetFileName(file)), overwrite: true);
        Assert.Equal(0, PgTools.Run("chmod", ["-R", "a+rX", copy]).ExitCode);
        return Path.Combine(copy, "pgwal.dll");
    }, LazyThreadSafetyMode.ExecutionAndPublication);

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
