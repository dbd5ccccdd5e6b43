// ChildProcess: `pgwal` started for signal tests — output collected as it comes, signals sent by
// pid, children found in /proc. It is started through `env --default-signal`, so SIGINT reaches it
// even when the test runner was started with SIGINT ignored (a background job of a script), which
// .NET would otherwise keep ignoring.
using System.Diagnostics;
using System.Text;
using PgWal.Tests.Infrastructure;

namespace PgWal.Tests.Cli;

internal sealed class ChildProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stdout = new(), _stderr = new();

    public ChildProcess(IEnumerable<string> pgwalArgs, bool redirectStdin = false)
    {
        var psi = new ProcessStartInfo("env")
        {
            RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = redirectStdin, UseShellExecute = false,
        };
        foreach (var a in new[] { "--default-signal=INT,TERM,HUP", "dotnet", Path.Combine(AppContext.BaseDirectory, "pgwal.dll") }.Concat(pgwalArgs))
            psi.ArgumentList.Add(a);
        psi.Environment["LC_ALL"] = "C";
        _process = Process.Start(psi)!;
        _process.OutputDataReceived += (_, e) => Append(_stdout, e.Data);
        _process.ErrorDataReceived += (_, e) => Append(_stderr, e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public int Id => _process.Id;

    public StreamWriter StandardInput => _process.StandardInput;

    public string Stdout
    {
        get
        {
            lock (_stdout)
                return _stdout.ToString();
        }
    }

    public string Stderr
    {
        get
        {
            lock (_stderr)
                return _stderr.ToString();
        }
    }

    public string Describe() => $"exit {(_process.HasExited ? _process.ExitCode.ToString() : "(running)")}\nstdout:\n{Stdout}\nstderr:\n{Stderr}";

    /// <summary>Sends <paramref name="signal"/> ("TERM", "INT", "KILL") with kill(1).</summary>
    public void Signal(string signal) => Send(_process.Id, signal);

    public static void Send(int pid, string signal)
    {
        var r = PgTools.Run("kill", [$"-{signal}", pid.ToString()]);
        Assert.True(r.ExitCode == 0, $"kill -{signal} {pid}: {r.Stderr}");
    }

    /// <summary>The exit code, or fails the test when the process is still running after <paramref name="timeout"/>.</summary>
    public int WaitForExit(TimeSpan timeout)
    {
        if (!_process.WaitForExit(timeout))
            Assert.Fail($"still running after {timeout.TotalSeconds} s: {Describe()}");
        _process.WaitForExit();   // the output read to its end
        return _process.ExitCode;
    }

    /// <summary>Waits until <paramref name="condition"/> holds, failing the test after <paramref name="timeout"/>.</summary>
    public void WaitUntil(Func<bool> condition, TimeSpan timeout, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > timeout)
                Assert.Fail($"{what} did not happen within {timeout.TotalSeconds} s: {Describe()}");
            if (_process.HasExited)
                Assert.Fail($"exited while waiting for {what}: {Describe()}");
            Thread.Sleep(50);
        }
    }

    /// <summary>Pids of the running (not zombie) processes whose parent is <paramref name="parent"/> and whose command line contains <paramref name="text"/>.</summary>
    public static List<int> Children(int parent, string text)
    {
        var found = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out int pid) || Stat(pid) is not { } stat || stat.ParentPid != parent || stat.State == 'Z')
                continue;
            if (CommandLine(pid).Contains(text, StringComparison.Ordinal))
                found.Add(pid);
        }
        return found;
    }

    /// <summary>True while <paramref name="pid"/> runs <paramref name="text"/> (a zombie, or another program under a reused pid, is not running it).</summary>
    public static bool IsRunning(int pid, string text)
        => Stat(pid) is { State: not 'Z' and not 'X' } && CommandLine(pid).Contains(text, StringComparison.Ordinal);

    private static (char State, int ParentPid)? Stat(int pid)
    {
        try
        {
            string stat = File.ReadAllText($"/proc/{pid}/stat");
            string[] rest = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');   // after "pid (comm) "
            return (rest[0][0], int.Parse(rest[1]));
        }
        catch (IOException)
        {
            return null;
        }
    }

    private static string CommandLine(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ');
        }
        catch (IOException)
        {
            return "";
        }
    }

    private static void Append(StringBuilder sb, string? line)
    {
        if (line == null)
            return;
        lock (sb)
            sb.Append(line).Append('\n');
    }

    public void Dispose()
    {
        if (!_process.HasExited)
            _process.Kill(entireProcessTree: true);
        _process.Dispose();
    }
}
