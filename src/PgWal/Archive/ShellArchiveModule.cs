// ShellArchiveModule: archive_command (PostgreSQL's shell_archive). %p becomes the file's path
// relative to the data directory (pg_wal/<name>), %f its name, %% a percent sign; any other %x is
// copied as it is. The command runs through /bin/sh -c with the data directory as working
// directory; exit 0 is success. Its output is captured: a failure's message carries the exit code
// (or signal), the expanded command and the last lines the command wrote to stderr.
using System.Diagnostics;
using System.Text;

namespace PgWal.Archive;

/// <summary>Archives by running a shell command per file (<c>archive_command</c>).</summary>
public sealed class ShellArchiveModule : IArchiveModule
{
    private const int MaxCommandBytes = 1023;    // MAXPGPATH - 1: PostgreSQL truncates beyond it
    private readonly string _dataDirectory;

    /// <summary>Runs <paramref name="command"/> in <paramref name="dataDirectory"/>.</summary>
    public ShellArchiveModule(string command, string dataDirectory)
    {
        Command = command ?? "";
        _dataDirectory = dataDirectory;
    }

    /// <summary>The command with its placeholders.</summary>
    public string Command { get; }

    /// <inheritdoc/>
    public bool IsConfigured => Command.Length > 0;

    /// <summary>The command as run for <paramref name="fileName"/>.</summary>
    public string Expand(string fileName)
    {
        string expanded = PercentCommand.Expand(Command, c => c switch { 'p' => "pg_wal/" + fileName, 'f' => fileName, _ => null });
        while (Encoding.UTF8.GetByteCount(expanded) > MaxCommandBytes)
            expanded = expanded[..^1];
        return expanded;
    }

    /// <inheritdoc/>
    public void Archive(string fileName, string path, CancellationToken cancellation)
    {
        string expanded = Expand(fileName);
        var start = new ProcessStartInfo("/bin/sh")
        {
            WorkingDirectory = _dataDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(expanded);
        using var process = Process.Start(start) ?? throw new ArchiveCommandException("could not start /bin/sh for the archive command", expanded, -1);
        process.StandardInput.Close();
        var errors = new StderrTail();
        process.ErrorDataReceived += (_, e) => errors.Add(e.Data);
        process.OutputDataReceived += (_, _) => { };
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        // Not WaitForExit(): that also waits for the end of the output, which a daemon the command
        // started could hold open forever.
        using (cancellation.Register(() => Kill(process)))
        {
            while (!process.WaitForExit(1000))
            {
            }
        }
        cancellation.ThrowIfCancellationRequested();
        process.WaitForExit(100);   // the last lines of stderr, when it is closed
        if (process.ExitCode == 0)
            return;
        string reason = process.ExitCode > 128
            ? $"archive command failed with exit code {process.ExitCode} (terminated by signal {process.ExitCode - 128})"
            : $"archive command failed with exit code {process.ExitCode}";
        string detail = errors.Text is { Length: > 0 } tail ? $"; it wrote: {tail}" : "";
        throw new ArchiveCommandException($"{reason}; the failed archive command was: {expanded}{detail}", expanded, process.ExitCode);
    }

    private static void Kill(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // it has exited
        }
    }

    // The last few lines of the command's stderr, for the failure message.
    private sealed class StderrTail
    {
        private readonly Queue<string> _lines = new();

        public void Add(string? line)
        {
            if (line == null)
                return;
            lock (_lines)
            {
                _lines.Enqueue(line.Length > 300 ? line[..300] + "…" : line);
                if (_lines.Count > 5)
                    _lines.Dequeue();
            }
        }

        public string Text
        {
            get
            {
                lock (_lines)
                    return string.Join(" | ", _lines);
            }
        }
    }
}

/// <summary>An archive command exited with a failure code or was killed.</summary>
public sealed class ArchiveCommandException(string message, string command, int exitCode) : IOException(message)
{
    /// <summary>The command as run.</summary>
    public string Command { get; } = command;

    /// <summary>Its exit code (128 + N when it was killed by signal N); -1 when it could not start.</summary>
    public int ExitCode { get; } = exitCode;

    /// <summary>
    /// True for exit codes above 125 (not executable, not found, killed by a signal), which
    /// PostgreSQL treats as FATAL for the archiver: the pass stops at once, without the retries.
    /// </summary>
    public bool IsFatal => ExitCode > 125 || ExitCode < 0;
}
