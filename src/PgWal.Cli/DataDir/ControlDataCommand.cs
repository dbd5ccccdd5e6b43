// ControlDataCommand: `pgwal controldata [OPTION] [DATADIR]` — pg_controldata 15: the same
// command line (getopt: -D/--pgdata, an operand, PGDATA; --help/-V only as the first argument),
// the same output, and the same failures: every error is one "error:" line (with the hint line
// where pg_controldata prints one) and exit status 1, which the interop tests compare with the
// real tool. So unlike the other commands it does not use exit 2/3 (docs/cli.md).
using PgWal.Cli.Common;
using PgWal.Diagnostics;
using PgWal.Format;
using PgWal.Storage;

namespace PgWal.Cli.DataDir;

internal static class ControlDataCommand
{
    private const string ProgramName = "pgwal controldata";

    // sizeof(ControlFileData): the data and its CRC, MAXALIGNed — what pg_controldata reads.
    private const int StructSize = (ControlFileData.DataSize + 7) & ~7;

    private static readonly LongOption[] s_longOptions = [new("pgdata", ArgumentKind.Required, 'D')];

    public static int Run(IReadOnlyList<string> args)
    {
        if (args.Count > 0 && args[0] is "--help" or "-?")
        {
            Console.Write(Usage);
            return 0;
        }
        if (args.Count > 0 && args[0] is "--version" or "-V")
        {
            Console.WriteLine($"{ProgramName} (PgWal) {ToolVersion.Short}; prints pg_controldata 15's output");
            return 0;
        }
        var options = new List<ParsedOption>();
        var operands = new List<string>();
        if (!new GetOptLong(ProgramName, "D:", s_longOptions).TryParse(args, options, operands, Console.Error))
            return Hint();
        string? dataDir = options.LastOrDefault(o => o.Option == 'D').Argument;
        int next = 0;
        if (dataDir == null)
            dataDir = next < operands.Count ? operands[next++] : Environment.GetEnvironmentVariable("PGDATA");
        if (next < operands.Count)
            return Fail($"too many command-line arguments (first is \"{operands[next]}\")", hint: true);
        if (dataDir == null)
            return Fail("no data directory specified", hint: true);
        try
        {
            return Print(dataDir);
        }
        catch (Exception e)
        {
            return Fail(ErrorText.Of(e), hint: false);   // pg_fatal: one line, exit 1
        }
    }

    private static int Print(string dataDir)
    {
        string file = $"{dataDir}/global/pg_control";
        int errno = Posix.PathError(file);
        if (errno != 0)
            return Fail($"could not open file \"{file}\" for reading: {Posix.Describe(errno)}", hint: false);
        if (Directory.Exists(file))
            return Fail($"could not read file \"{file}\": Is a directory", hint: false);
        var bytes = new byte[ControlFileData.FileSize];
        int n = new FileSystemDataDirectory(dataDir).Control.Read(bytes);
        if (n < StructSize)
            return Fail($"could not read file \"{file}\": read {Math.Max(n, 0)} of {StructSize}", hint: false);
        Console.Write(ControlDataText.Format(ControlFileData.Decode(bytes), ControlFileData.CrcMatches(bytes)));
        return 0;
    }

    private static int Fail(string message, bool hint)
    {
        Console.Error.WriteLine($"{ProgramName}: error: {message}");
        return hint ? Hint() : 1;
    }

    private static int Hint()
    {
        Console.Error.WriteLine($"{ProgramName}: hint: Try \"{ProgramName} --help\" for more information.");
        return 1;
    }

    private const string Usage = """
        pgwal controldata displays control information of a PgWal (or PostgreSQL 15) data directory,
        exactly as pg_controldata does.

        Usage:
          pgwal controldata [OPTION] [DATADIR]

        Options:
         [-D, --pgdata=]DATADIR  data directory
          -V, --version          output version information, then exit
          -?, --help             show this help, then exit

        If no data directory (DATADIR) is specified, the environment variable PGDATA
        is used.

        """;
}
