// CommandBoundary: where every `pgwal` command (but waldump, controldata and resetwal, which fail
// exactly as PostgreSQL's tools do) turns a failure into one line on stderr and an exit code:
//   UsageException                      "pgwal CMD: error: ..." + hint line          exit 2
//   CommitOutcomeUnknownException,
//   OutcomeUnknownException             "pgwal CMD: error: ..." (what is known)      exit 4
//   anything else                       "pgwal CMD: error: <ErrorText.Of(e)>"        exit 3
// Never a stack trace: PGWAL_DEBUG=1 adds the exception's full text for developers. The same
// applies to an exception escaping a background thread (the process exits 3).
namespace PgWal.Cli.Common;

internal static class CommandBoundary
{
    private static string s_current = "pgwal";   // the running command, for failures outside Run

    /// <summary>"pgwal" or "pgwal CMD".</summary>
    public static string Program(string command) => command.Length == 0 ? "pgwal" : "pgwal " + command;

    /// <summary>Runs a command's action; any exception becomes one error line and its exit code.</summary>
    public static int Run(string command, Func<int> action)
    {
        s_current = Program(command);
        try
        {
            return action();
        }
        catch (Exception e)
        {
            return Report(s_current, e);
        }
    }

    /// <summary>Prints <paramref name="e"/> as the error of <paramref name="program"/> and returns its exit code.</summary>
    public static int Report(string program, Exception e) => Report(program, e, Console.Error);

    internal static int Report(string program, Exception e, TextWriter stderr)
    {
        e = ErrorText.Unwrap(e);
        switch (e)
        {
            case UsageException:
                Error(program, e.Message, stderr);
                TryHelpHint(program, stderr);
                return ExitCodes.Usage;
            case OutcomeUnknownException:
                Error(program, e.Message, stderr);
                Debug(e, stderr);
                return ExitCodes.OutcomeUnknown;
            case PgWal.Kv.CommitOutcomeUnknownException:
                Error(program, ErrorText.Of(e).Replace("kv: ", "", StringComparison.Ordinal), stderr);
                Debug(e, stderr);
                return ExitCodes.OutcomeUnknown;
            default:
                Error(program, ErrorText.Of(e), stderr);
                Debug(e, stderr);
                return ExitCodes.Runtime;
        }
    }

    public static void Error(string program, string message) => Error(program, message, Console.Error);

    public static void TryHelpHint(string program) => TryHelpHint(program, Console.Error);

    private static void Error(string program, string message, TextWriter stderr)
    {
        Console.Out.Flush();
        stderr.WriteLine($"{program}: error: {message}");
    }

    private static void TryHelpHint(string program, TextWriter stderr) => stderr.WriteLine($"{program}: hint: Try \"{program} --help\" for more information.");

    /// <summary>An exception no command caught (a background thread's): one line, exit 3, instead of the runtime's trace.</summary>
    public static void HandleUnhandledExceptions()
        => AppDomain.CurrentDomain.UnhandledException += (_, args) =>
        {
            int code = args.ExceptionObject is Exception e ? Report(s_current, e) : ExitCodes.Runtime;
            Console.Error.Flush();
            Environment.Exit(code);
        };

    private static void Debug(Exception e, TextWriter stderr)
    {
        if (Environment.GetEnvironmentVariable("PGWAL_DEBUG") is "1" or "on" or "true")
            stderr.WriteLine(e.ToString());
    }
}
