// GenerateCommand: `pgwal generate -D DIR [--records N] [--seed S] [--wal-segsize MB]` writes a
// reproducible mixed workload into DIR/pg_wal and reports what it wrote.
using System.CommandLine;
using System.Diagnostics;
using PgWal.Format;
using PgWal.Workload;

namespace PgWal.Cli.Generate;

internal static class GenerateCommand
{
    public static Command Create()
    {
        var dataDir = new Option<string>("--pgdata", "-D") { Description = "data directory (created if needed); WAL goes to DIR/pg_wal", Required = true };
        var records = new Option<int>("--records") { Description = "number of records to write", DefaultValueFactory = _ => 100_000 };
        var seed = new Option<int>("--seed") { Description = "random seed (same seed, same bytes)", DefaultValueFactory = _ => 1 };
        var segSize = new Option<int>("--wal-segsize") { Description = "WAL segment size in MB (power of two, 1..1024)", DefaultValueFactory = _ => 16 };
        var command = new Command("generate", "Write a reproducible, mixed WAL workload into DIR/pg_wal")
        {
            dataDir, records, seed, segSize,
        };
        command.SetAction(parse => Run(parse.GetValue(dataDir)!, parse.GetValue(records), parse.GetValue(seed), parse.GetValue(segSize)));
        return command;
    }

    private static int Run(string dataDir, int records, int seed, int segSizeMb)
    {
        long bytes = (long)segSizeMb * 1024 * 1024;
        if (!WalGeometry.IsValidSegmentSize(bytes))
        {
            Console.Error.WriteLine($"pgwal generate: error: --wal-segsize must be a power of two between 1 and 1024 (MB), got {segSizeMb}");
            return 1;
        }
        if (records < 1)
        {
            Console.Error.WriteLine($"pgwal generate: error: --records must be at least 1, got {records}");
            return 1;
        }
        var sw = Stopwatch.StartNew();
        bool interactive = !Console.IsErrorRedirected;
        try
        {
            var result = WalWorkloadGenerator.Generate(dataDir,
                new WorkloadOptions { Records = records, Seed = seed, SegmentSize = (int)bytes },
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
        catch (Exception e) when (e is InvalidOperationException or IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"pgwal generate: error: {e.Message}");
            return 1;
        }
    }
}
