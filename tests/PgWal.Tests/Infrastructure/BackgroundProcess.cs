// BackgroundProcess: a client tool (pg_receivewal, pg_basebackup ...) running while the test goes
// on. Its output is collected; Interrupt sends SIGINT (a clean stop), Kill SIGKILL; Dispose kills
// it if still running, also when the test failed.
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace PgWal.Tests.Infrastructure;

internal sealed partial class BackgroundProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    public BackgroundProcess(string file, IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null, bool input = false)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = input, UseShellExecute = false };
        foreach (var a in args)
            psi.ArgumentList.Add(a);
        psi.Environment["LC_ALL"] = "C";
        foreach (var (k, v) in environment ?? new Dictionary<string, string>())
            psi.Environment[k] = v;
        _process = new Process { StartInfo = psi };
        _process.OutputDataReceived += (_, e) => Append(e.Data);
        _process.ErrorDataReceived += (_, e) => Append(e.Data);
        _process.Start();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    /// <summary>Writes a line to the process's standard input (started with input: true).</summary>
    public void WriteLine(string line)
    {
        _process.StandardInput.WriteLine(line);
        _process.StandardInput.Flush();
    }

    private void Append(string? line)
    {
        if (line == null)
            return;
        lock (_output)
            _output.AppendLine(line);
    }

    public string Output
    {
        get
        {
            lock (_output)
                return _output.ToString();
        }
    }

    public bool HasExited => _process.HasExited;

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int SysKill(int pid, int signal);

    public void Interrupt() => SysKill(_process.Id, 2);

    public void Terminate() => SysKill(_process.Id, 15);

    public void Kill() => _process.Kill(entireProcessTree: true);

    /// <summary>Waits for the exit; its code.</summary>
    public int WaitForExit(TimeSpan timeout)
    {
        if (!_process.WaitForExit(timeout))
            throw new TimeoutException($"{_process.StartInfo.FileName} did not exit within {timeout}; output:\n{Output}");
        _process.WaitForExit();
        return _process.ExitCode;
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
                _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
        }
        _process.Dispose();
    }
}
