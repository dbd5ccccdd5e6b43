// ArchiveInventoryCommands: `pgwal archive list | verify | cleanup`. list shows per timeline the
// segment ranges, the holes between them, .partial, history and backup history files; verify reads
// every file back (both checksums) and reports damaged files and holes (exit 3 when there is any);
// cleanup removes segment and .partial files older than a given one, as pg_archivecleanup does.
using System.CommandLine;
using PgWal.Archive;
using PgWal.Cli.Common;

namespace PgWal.Cli.Archive;

internal static class ArchiveInventoryCommands
{
    public static Command List()
    {
        var repo = ArchiveCommands.Repo();
        var json = new Option<bool>("--json") { Description = "print one JSON object" };
        var command = new Command("list", "Show what the repository holds, per timeline, with the holes") { repo, json };
        command.SetAction(p => CommandBoundary.Run("archive list", () =>
        {
            var r = WalRepository.Open(p.GetValue(repo)!);
            var timelines = r.List();
            if (p.GetValue(json))
            {
                Console.WriteLine(CliJson.Line(Summary(r, timelines, null)));
                return 0;
            }
            Console.WriteLine(Header(r));
            foreach (var t in timelines)
                PrintTimeline(t);
            if (timelines.Count == 0)
                Console.WriteLine("(empty)");
            return 0;
        }));
        return command;
    }

    public static Command Verify()
    {
        var repo = ArchiveCommands.Repo();
        var json = new Option<bool>("--json") { Description = "print one JSON object" };
        var command = new Command("verify", "Read every archived file back (checksums) and check each timeline for holes; exit 3 on any problem") { repo, json };
        command.SetAction(p => CommandBoundary.Run("archive verify", () =>
        {
            var r = WalRepository.Open(p.GetValue(repo)!);
            var (damaged, timelines) = r.Verify((done, total) =>
            {
                if (done % 64 == 0 || done == total)
                    Console.Error.Write($"\rverified {done}/{total} files");
            });
            Console.Error.WriteLine();
            int holes = timelines.Sum(t => t.Missing.Count);
            if (p.GetValue(json))
            {
                Console.WriteLine(CliJson.Line(Summary(r, timelines, damaged)));
            }
            else
            {
                foreach (var d in damaged)
                    Console.WriteLine($"damaged: {d.Name}: {d.Problem}");
                foreach (var t in timelines.Where(t => t.Missing.Count > 0))
                    Console.WriteLine($"timeline {t.Timeline.Value}: missing {string.Join(", ", t.Missing)}");
                Console.WriteLine($"{timelines.Sum(t => t.Files.Count)} files checked: {damaged.Count} damaged, {holes} missing segments");
            }
            if (damaged.Count > 0 || holes > 0)
                throw new ArchiveException($"repository \"{r.Path}\" is not intact: {damaged.Count} damaged files, {holes} missing segments");
            return 0;
        }));
        return command;
    }

    public static Command Cleanup()
    {
        var repo = ArchiveCommands.Repo();
        var oldest = new Argument<string?>("OLDESTKEPTWALFILE") { Arity = ArgumentArity.ZeroOrOne, Description = "the oldest segment to keep (a segment, .partial or backup history file name; %r in archive_cleanup_command)" };
        var keepBackups = CliOptions.OptionalInt("--keep-backups", null, "instead of OLDESTKEPTWALFILE: keep the WAL the newest N base backups need (their backup history files in the repository), remove the older", 1, 100000);
        var dryRun = new Option<bool>("--dry-run", "-n") { Description = "print the files that would be removed, remove nothing" };
        var command = new Command("cleanup", "Remove archived segments older than OLDESTKEPTWALFILE on every timeline, as pg_archivecleanup does (history and backup history files stay)") { repo, oldest, keepBackups, dryRun };
        command.SetAction(p => CommandBoundary.Run("archive cleanup", () =>
        {
            var r = WalRepository.Open(p.GetValue(repo)!);
            string? cutoff = p.GetValue(oldest);
            if ((cutoff == null) == (p.GetValue(keepBackups) == null))
                throw new UsageException("give either OLDESTKEPTWALFILE or --keep-backups N");
            if (p.GetValue(keepBackups) is int keep)
            {
                cutoff = r.OldestKeptBackup(keep);
                if (cutoff == null)
                {
                    Console.Error.WriteLine($"the repository knows of fewer than {keep} base backup(s): nothing removed");
                    return 0;
                }
                Console.Error.WriteLine($"keeping the WAL of the newest {keep} base backup(s), from {cutoff[..24]} on");
            }
            var removed = r.Cleanup(cutoff!, p.GetValue(dryRun));
            if (p.GetValue(dryRun))
            {
                foreach (string path in removed)
                    Console.WriteLine(path);
            }
            else
            {
                Console.Error.WriteLine($"removed {removed.Count} files");
            }
            return 0;
        }));
        return command;
    }

    private static string Header(WalRepository r)
        => $"repository \"{r.Path}\": {(r.SystemIdentifier is { } id ? $"system identifier {id}, {r.SegmentSize / 1048576} MB segments" : "no WAL yet")}, {ArchiveCodecs.Name(r.Compression)} compression";

    private static void PrintTimeline(TimelineInventory t)
    {
        int segments = t.Files.Count(f => f.Name.Kind == ArchivedFileKind.Segment);
        long bytes = t.Files.Sum(f => f.StoredBytes);
        Console.WriteLine($"timeline {t.Timeline.Value}: {segments} segments, {bytes / 1048576.0:F1} MB stored");
        foreach (var (first, last) in t.Ranges)
            Console.WriteLine(first == last ? $"  segment  {first}" : $"  segments {first} .. {last}");
        if (t.Missing.Count > 0)
            Console.WriteLine($"  HOLE: {t.Missing.Count} missing: {string.Join(", ", t.Missing.Take(8))}{(t.Missing.Count > 8 ? ", ..." : "")}");
        foreach (var f in t.Files.Where(f => f.Name.Kind != ArchivedFileKind.Segment))
            Console.WriteLine($"  {Kind(f.Name.Kind),-15} {f.Name.Name}");
    }

    private static string Kind(ArchivedFileKind kind) => kind switch
    {
        ArchivedFileKind.Partial => "partial",
        ArchivedFileKind.History => "history",
        ArchivedFileKind.BackupHistory => "backup history",
        _ => "segment",
    };

    private static Dictionary<string, object?> Summary(WalRepository r, IReadOnlyList<TimelineInventory> timelines, IReadOnlyList<DamagedFile>? damaged)
    {
        var result = new Dictionary<string, object?>
        {
            ["repository"] = r.Path,
            ["system_identifier"] = r.SystemIdentifier?.ToString(),
            ["segment_size"] = r.SegmentSize,
            ["compression"] = ArchiveCodecs.Name(r.Compression),
            ["timelines"] = timelines.Select(t => new Dictionary<string, object?>
            {
                ["timeline"] = (long)t.Timeline.Value,
                ["segments"] = t.Files.Count(f => f.Name.Kind == ArchivedFileKind.Segment),
                ["ranges"] = t.Ranges.Select(x => new[] { x.First, x.Last }).ToArray(),
                ["missing"] = t.Missing.ToArray(),
                ["other_files"] = t.Files.Where(f => f.Name.Kind != ArchivedFileKind.Segment).Select(f => f.Name.Name).ToArray(),
                ["stored_bytes"] = t.Files.Sum(f => f.StoredBytes),
            }).ToArray(),
        };
        if (damaged != null)
            result["damaged"] = damaged.Select(d => new Dictionary<string, object?> { ["name"] = d.Name, ["problem"] = d.Problem }).ToArray();
        return result;
    }
}
