// PgWalProgram: command dispatch for `pgwal`. waldump, controldata and resetwal parse their
// command lines as pg_waldump, pg_controldata and pg_resetwal do (getopt) and fail as they do;
// the other commands use System.CommandLine, whose parse errors become one line + a hint (exit 2,
// CommandLineErrors) and whose actions run inside CommandBoundary (docs/cli.md). Actions run on
// the main thread: workers started from it get PR_SET_PDEATHSIG bound to a thread that lives as
// long as the process (KvKillLoop).
using System.CommandLine;
using PgWal.Cli.Bench;
using PgWal.Cli.Common;
using PgWal.Cli.DataDir;
using PgWal.Cli.Generate;
using PgWal.Cli.WalDump;

namespace PgWal.Cli;

internal static class PgWalProgram
{
    public static int Run(string[] args)
    {
        CommandBoundary.HandleUnhandledExceptions();
        switch (args.Length > 0 ? args[0] : "")
        {
            case "waldump":
                return WalDump(args[1..]);
            case "controldata":
                return ControlDataCommand.Run(args[1..]);
            case "resetwal":
                return ResetWalCommand.Run(args[1..]);
            case "--version" when args.Length == 1:
                // What System.CommandLine prints, without building the command tree first.
                Console.Out.Write(ToolVersion.Informational + "\n");
                return 0;
        }
        var root = new RootCommand("PgWal: PostgreSQL's write-ahead log for .NET")
        {
            GenerateCommand.Create(),
            BenchCommand.Create(),
            DataDirCommands.Init(),
            DataDirCommands.Recover(),
            PageTest.PageTestCommand.Create(),
            Kv.KvCommands.Create(),
            Kv.DemoCommand.Create(),
            Kv.TortureCommand.Create(),
            Archive.ArchiveCommands.Create(),
            Replication.ReceiveWalCommand.Create(),
            Replication.BaseBackupCommand.Create(),
            Standby.PromoteCommand.Create(),
            Standby.PromoteCommand.Status(),
        };
        // Listed for `pgwal --help`; dispatched above.
        root.Subcommands.Add(new Command("waldump", "Decode and display WAL, like pg_waldump (run `pgwal waldump --help`)"));
        root.Subcommands.Add(new Command("controldata", "Print the control file, exactly as pg_controldata does (run `pgwal controldata --help`)"));
        root.Subcommands.Add(new Command("resetwal", "Reset the WAL and control information (disaster recovery), like pg_resetwal (run `pgwal resetwal --help`)"));
        // No response files: a kv key or value may well start with '@'.
        var result = root.Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = null });
        if (result.Errors.Count > 0)
        {
            int code = CommandLineErrors.Report(result);
            // As restore_command, a bad command line must stop PostgreSQL, not read as "not archived".
            return args is ["archive", "get", ..] ? Archive.ArchiveCommands.GetFailed : code;
        }
        return result.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = null });
    }

    private static int WalDump(string[] args)
    {
        using var cancel = new CancellationTokenSource();
        // SIGINT ends a dump early with its statistics, as pg_waldump 15 does. PosixSignalRegistration,
        // not Console.CancelKeyPress: that one also sets up the terminal, a tenth of the start-up.
        using var sigint = System.Runtime.InteropServices.PosixSignalRegistration.Create(
            System.Runtime.InteropServices.PosixSignal.SIGINT, context =>
            {
                context.Cancel = true;
                cancel.Cancel();
            });
        try
        {
            using var stdout = new StdoutStream();
            return WalDumpCommand.Run(args, stdout, Console.Error, cancel.Token);
        }
        catch (Exception e)
        {
            // What WalDumpCommand does not report itself: one line and exit 1, as pg_fatal would.
            Console.Error.WriteLine($"{WalDumpCommand.ProgramName}: error: {ErrorText.Of(e)}");
            return 1;
        }
    }
}
