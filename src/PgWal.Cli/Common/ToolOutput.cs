// ToolOutput: stdout as a buffered byte stream fed from a TextBuffer (no per-line allocations), and
// PostgreSQL frontend-style messages on stderr ("prog: error: ...", "prog: detail: ...",
// "prog: hint: ..."), as src/common/logging.c prints them.
using PgWal.Diagnostics.Text;

namespace PgWal.Cli.Common;

internal sealed class ToolOutput(string programName, Stream stdout, TextWriter stderr)
{
    private const int FlushThreshold = 256 * 1024;

    public string ProgramName { get; } = programName;

    public TextBuffer Text { get; } = new(FlushThreshold + 64 * 1024);

    public TextWriter Error { get; } = stderr;

    /// <summary>Writes buffered text out when enough has accumulated.</summary>
    public void MaybeFlush()
    {
        if (Text.Length >= FlushThreshold)
            Flush();
    }

    /// <summary>True once writing to stdout failed (broken pipe).</summary>
    public bool StdoutBroken { get; private set; }

    public void Flush()
    {
        if (StdoutBroken)
            return;
        try
        {
            if (Text.Length > 0)
            {
                stdout.Write(Text.Written);
                Text.Clear();
            }
            stdout.Flush();
        }
        catch (IOException)
        {
            StdoutBroken = true;
            Text.Clear();
            throw;
        }
    }

    public void ErrorLine(string message)
    {
        if (!StdoutBroken)
            Flush();
        Error.WriteLine($"{ProgramName}: error: {message}");
    }

    /// <summary>pg_log_info: a plain message on stderr.</summary>
    public void Info(string message) => Error.WriteLine($"{ProgramName}: {message}");

    public void Detail(string message) => Error.WriteLine($"{ProgramName}: detail: {message}");

    public void Hint(string message) => Error.WriteLine($"{ProgramName}: hint: {message}");

    public void TryHelpHint() => Hint($"Try \"{ProgramName} --help\" for more information.");
}
