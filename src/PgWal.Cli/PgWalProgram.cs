// PgWalProgram: command dispatch for `pgwal`.
using PgWal.Cli.Bench;
using PgWal.Cli.Generate;
using PgWal.Cli.WalDump;

namespace PgWal.Cli;

internal static class PgWalProgram
{
    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Length > 0 && args[0] == "waldump")
        {
            using var cancel = new CancellationTokenSource();
            Console.CancelKeyPress += (_, e) =>
            {
                e.Cancel = true;
                cancel.Cancel();
            };
            // fd 1 as a plain stream: unlike Console's stream it reports a broken pipe (EPIPE).
            using var stdout = new FileStream(new Microsoft.Win32.SafeHandles.SafeFileHandle(1, ownsHandle: false), FileAccess.Write, bufferSize: 0);
            return WalDumpCommand.Run(args[1..], stdout, Console.Error, cancel.Token);
        }
        var root = new System.CommandLine.RootCommand("PgWal: PostgreSQL's write-ahead log for .NET")
        {
            GenerateCommand.Create(),
            BenchCommand.Create(),
            DataDir.DataDirCommands.Init(),
            DataDir.DataDirCommands.Recover(),
            DataDir.DataDirCommands.ControlData(),
            DataDir.DataDirCommands.ResetWal(),
            PageTest.PageTestCommand.Create(),
            Kv.KvCommands.Create(),
            Kv.DemoCommand.Create(),
            Kv.TortureCommand.Create(),
        };
        root.Subcommands.Add(new System.CommandLine.Command("waldump", "Decode and display WAL, like pg_waldump (run `pgwal waldump --help`)"));
        return await root.Parse(args).InvokeAsync();
    }
}
