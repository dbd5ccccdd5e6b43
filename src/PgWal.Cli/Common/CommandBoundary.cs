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
    public static int Report(string program, Exception e)
    {
        e = ErrorText.Unwrap(e);
        switch (e)
        {
            case UsageException:
                Error(program, e.Message);
                TryHelpHint(program);
                return ExitCodes.Usage;
            case OutcomeUnknownException:
                Error(program, e.Message);
                Debug(e);
                return ExitCodes.OutcomeUnknown;
            case PgWal.Kv.CommitOutcomeUnknownException:
                Error(program, ErrorText.Of(e).Replace("kv: ", "", StringComparison.Ordinal));
                Debug(e);
                return ExitCodes.OutcomeUnknown;
            default:
                Error(program, ErrorText.Of(e));
                Debug(e);
                return ExitCodes.Runtime;
        }
    }

    public static void Error(string program, string message)
    {
        Console.Out.Flush();
        Console.Error.WriteLine($"{program}: error: {message}");
    }

    public static void TryHelpHint(string program) => Console.Error.WriteLine($"{program}: hint: Try \"{program} --help\" for more information.");

    /// <summary>An exception no command caught (a background thread's): one line, exit 3, instead of the runtime's trace.</summary>
    public static void HandleUnhandledExceptions()
        => AppDomain.CurrentDomain.UnhandledException += (_, args) =>
        {
            int code = args.ExceptionObject is Exception e ? Report(s_current, e) : ExitCodes.Runtime;
            Console.Error.Flush();
            Environment.Exit(code);
        };

    private static void Debug(Exception e)
    {
        if (Environment.GetEnvironmentVariable("PGWAL_DEBUG") is "1" or "on" or "true")
            Console.Error.WriteLine(e.ToString());
    }
}
