// GenerateCommand: `pgwal generate -D DIR [--records N] [--seed S] [--wal-segsize MB]` writes a
// reproducible mixed workload into DIR/pg_wal and reports what it wrote.
using System.CommandLine;
using System.Diagnostics;
using PgWal.Cli.Common;
using PgWal.Cli.DataDir;
using PgWal.Workload;

namespace PgWal.Cli.Generate;

internal static class GenerateCommand
{
    public static Command Create()
    {
        var dataDir = CliOptions.DataDirectory("data directory (created if needed); WAL goes to DIR/pg_wal");
        var records = CliOptions.Int("--records", null, "number of records to write", 1, int.MaxValue, 100_000);
        var seed = CliOptions.Int("--seed", null, "random seed (same seed, same bytes)", int.MinValue, int.MaxValue, 1);
        var segSize = DataDirCommands.SegmentSizeOption("WAL segment size in MB, a power of two");
        var command = new Command("generate", "Write a reproducible, mixed WAL workload into DIR/pg_wal")
        {
            dataDir, records, seed, segSize,
        };
        command.SetAction(parse => CommandBoundary.Run("generate", () => Run(parse.GetValue(dataDir)!, parse.GetValue(records), parse.GetValue(seed), parse.GetValue(segSize))));
        return command;
    }

    private static int Run(string dataDir, int records, int seed, int segSizeMb)
    {
        PathChecks.DataDirectory(dataDir);
        var sw = Stopwatch.StartNew();
        bool interactive = !Console.IsErrorRedirected;
        var result = WalWorkloadGenerator.Generate(dataDir,
            new WorkloadOptions { Records = records, Seed = seed, SegmentSize = segSizeMb << 20 },
            onProgress: n =>
            {
                if (interactive && sw.ElapsedMilliseconds > 500)
                    Console.Error.Write($"\r  {n:N0} / {records:N0} records ({100.0 * n / records:F0}%)");
            });
        if (interactive && sw.ElapsedMilliseconds > 500)
            Console.Error.WriteLine();
        double mb = (double)(result.EndLsn - result.FirstLsn) / (1024 * 1024);
        Console.WriteLine($"wrote {result.Records} records to {result.WalDirectory}: first {result.FirstLsn}, last {result.LastLsn}, end {result.EndLsn}");
        Console.WriteLine($"{result.Segments} segment(s) of {segSizeMb} MB, {mb:F1} MB of WAL in {sw.Elapsed.TotalSeconds:F1} s; system identifier {result.SystemIdentifier}");
        Console.WriteLine("shapes: " + string.Join(", ", result.Shapes.OrderBy(k => k.Key, StringComparer.Ordinal).Select(k => $"{k.Key}={k.Value}")));
        Console.WriteLine($"check it: pg_waldump -p {result.WalDirectory} -s {result.FirstLsn} -e {result.EndLsn} --stats");
        return 0;
    }
}
