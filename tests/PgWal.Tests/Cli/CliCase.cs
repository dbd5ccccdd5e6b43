// CliCase: one row of the table-driven error tests — a command line, the exit code and a piece of
// the error line. In the command line DIR stands for a fresh path, FILE for a regular file and LOOP
// for a symbolic link pointing to itself. Usage errors (exit 2) must happen before anything is
// done: DIR is never created.
using PgWal.Tests.Infrastructure;
using Xunit.Abstractions;

namespace PgWal.Tests.Cli;

public sealed class CliCase : IXunitSerializable
{
    public CliCase()
    {
    }

    public CliCase(int exitCode, string message, params string[] args)
    {
        ExitCode = exitCode;
        Message = message;
        Args = args;
    }

    public int ExitCode { get; private set; }
    public string Message { get; private set; } = "";
    public string[] Args { get; private set; } = [];

    /// <summary>Runs the case under <paramref name="root"/> and checks the clean error.</summary>
    internal void Check(TempDirectory root)
    {
        string dir = root.Combine("d" + Guid.NewGuid().ToString("N")[..8]);
        string file = root.Combine("file"), loop = root.Combine("loop");
        if (!File.Exists(file))
            File.WriteAllText(file, "not a directory\n");
        if (!Path.Exists(loop) && new FileInfo(loop).LinkTarget == null)
            File.CreateSymbolicLink(loop, loop);
        var args = Args.Select(a => a.Replace("DIR", dir, StringComparison.Ordinal).Replace("FILE", file, StringComparison.Ordinal)
            .Replace("LOOP", loop, StringComparison.Ordinal)).ToArray();
        var r = PgTools.Pgwal(args);
        CliAssert.CleanError(r, ExitCode, Message, "pgwal " + string.Join(' ', args));
        if (ExitCode == 2)
            Assert.False(Path.Exists(dir), $"a usage error created {dir}");
    }

    public void Deserialize(IXunitSerializationInfo info)
    {
        ExitCode = info.GetValue<int>(nameof(ExitCode));
        Message = info.GetValue<string>(nameof(Message));
        Args = info.GetValue<string[]>(nameof(Args));
    }

    public void Serialize(IXunitSerializationInfo info)
    {
        info.AddValue(nameof(ExitCode), ExitCode);
        info.AddValue(nameof(Message), Message);
        info.AddValue(nameof(Args), Args);
    }

    public override string ToString() => $"{string.Join(' ', Args)} => {ExitCode}";
}
