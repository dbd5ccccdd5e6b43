// ArchiveCommands: `pgwal archive init | push | get`, the repository (PgWal.Archive.WalRepository)
// from the shell and from PostgreSQL:
//   archive_command = 'pgwal archive push --repo R %p'       (%p: pg_wal/<name>, relative to PGDATA)
//   restore_command = 'pgwal archive get --repo R %f %p'
// push exits 0 once the file is durable in the repository (or already there, identical), 2 for a
// bad command line, 3 when it cannot archive (PostgreSQL keeps the segment and retries).
// get exits 0 once the file is restored, 1 (quietly, at once) when the repository does not have
// it, and 200 for everything else — a damaged archived file, an unreadable repository, a bad command
// line. 200 because PostgreSQL takes any exit status up to 125 for "not in the archive" and would
// end recovery early, as if the WAL had ended there; above 125 it stops with FATAL instead.
using System.CommandLine;
using PgWal.Archive;
using PgWal.Cli.Common;

namespace PgWal.Cli.Archive;

internal static class ArchiveCommands
{
    /// <summary>`archive get`: the file is in the repository but cannot be restored (or any other failure).</summary>
    public const int GetFailed = 200;

    /// <summary>`archive get`: the repository does not hold the file.</summary>
    public const int GetNotFound = 1;

    public static Command Create()
    {
        var command = new Command("archive", "A WAL archive repository for PgWal and PostgreSQL (archive_command / restore_command)")
        {
            Init(), Push(), PushAhead(), Get(), Prefetch(), ArchiveInventoryCommands.List(), ArchiveInventoryCommands.Verify(), ArchiveInventoryCommands.Cleanup(), ShowTargetCommand.Create(),
        };
        return command;
    }

    internal static Option<string> Repo() => new("--repo", "-r") { Description = "the repository directory", Required = true };

    private static Command Init()
    {
        var repo = Repo();
        var compress = CliOptions.Choice("--compress", null, "how files are stored", "zstd", "zstd", "lz4", "none");
        var command = new Command("init", "Create an empty repository") { repo, compress };
        command.SetAction(p => CommandBoundary.Run("archive init", () =>
        {
            ArchiveCodecs.TryParse(p.GetValue(compress)!, out var codec);   // the choice option admits no other name
            var r = WalRepository.Create(p.GetValue(repo)!, codec);
            Console.WriteLine($"created archive repository \"{r.Path}\" ({ArchiveCodecs.Name(codec)} compression)");
            return 0;
        }));
        return command;
    }

    private static Command Push()
    {
        var repo = Repo();
        var path = new Argument<string>("PATH") { Description = "the file to archive (PostgreSQL's %p)" };
        var name = new Option<string?>("--name") { Description = "archive it under this name (default: PATH's file name, PostgreSQL's %f)" };
        var async = new Option<bool>("--async") { Description = "asynchronous: a background push-ahead pushes the files already waiting (.ready) several at a time, so later pushes of them are quick (needs --spool)" };
        var spool = new Option<string?>("--spool") { Description = "the push-ahead spool directory (for --async)" };
        var processMax = CliOptions.Int("--process-max", null, "with --async: files pushed ahead at once", 1, 64, 2);
        var command = new Command("push", "Archive one WAL segment, .partial, history or backup history file (archive_command)") { repo, path, name, async, spool, processMax };
        command.SetAction(p => CommandBoundary.Run("archive push", () =>
        {
            string source = p.GetValue(path)!;
            var file = ParseName(p.GetValue(name) ?? System.IO.Path.GetFileName(source));
            var r = WalRepository.Open(p.GetValue(repo)!);
            if (!p.GetValue(async))
            {
                r.Push(source, file);
                return 0;
            }
            var ahead = new PushAheadSpool(p.GetValue(spool) ?? throw new UsageException("--async needs --spool DIR"));
            if (!ahead.TryTakePushed(r, source, file))
                r.Push(source, file);
            string walDirectory = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(source))!;
            if (ahead.NeedsFill(walDirectory, file.Name))
                StartDetached(["archive", "push-ahead", "--repo", r.Path, "--spool", ahead.Directory, "--wal-dir", walDirectory,
                    "--process-max", p.GetValue(processMax).ToString(System.Globalization.CultureInfo.InvariantCulture), file.Name]);
            return 0;
        }));
        return command;
    }

    private static Command PushAhead()
    {
        var repo = Repo();
        var spool = new Option<string>("--spool") { Description = "the spool directory", Required = true };
        var walDir = new Option<string>("--wal-dir") { Description = "pg_wal, whose archive_status lists the files waiting", Required = true };
        var processMax = CliOptions.Int("--process-max", null, "files pushed at once", 1, 64, 2);
        var current = new Argument<string>("CURRENT") { Description = "the file PostgreSQL offered just now (pushed by it)" };
        var command = new Command("push-ahead", "Push the files waiting in archive_status ahead of PostgreSQL's archiver (started by push --async)") { repo, spool, walDir, processMax, current };
        command.SetAction(p => CommandBoundary.Run("archive push-ahead", () =>
        {
            new PushAheadSpool(p.GetValue(spool)!).Fill(WalRepository.Open(p.GetValue(repo)!), p.GetValue(walDir)!, p.GetValue(current)!, 64, p.GetValue(processMax));
            return 0;
        }));
        return command;
    }

    private static Command Get()
    {
        var repo = Repo();
        var name = new Argument<string>("NAME") { Description = "the file wanted (PostgreSQL's %f)" };
        var destination = new Argument<string>("DEST") { Description = "where to write it (PostgreSQL's %p)" };
        var prefetch = CliOptions.Int("--prefetch", null, "restore this many following segments ahead into --spool, in the background", 0, 256, 0);
        var spool = new Option<string?>("--spool") { Description = "the prefetch spool directory (on the file system of DEST, so that taking a file is a rename)" };
        var command = new Command("get", "Restore one archived file (restore_command): exit 1 when the repository does not have it") { repo, name, destination, prefetch, spool };
        command.SetAction(p =>
        {
            int code = CommandBoundary.Run("archive get", () =>
            {
                var file = ParseName(p.GetValue(name)!);
                int ahead = p.GetValue(prefetch);
                if (ahead > 0 && p.GetValue(spool) is null)
                    throw new UsageException("--prefetch needs --spool DIR");
                var r = WalRepository.Open(p.GetValue(repo)!);
                var queue = ahead > 0 ? new PrefetchSpool(p.GetValue(spool)!) : null;
                bool found = (queue != null && file.Kind == ArchivedFileKind.Segment && queue.TryTake(file, p.GetValue(destination)!))
                    || r.TryRestore(file, p.GetValue(destination)!);
                if (found && queue != null && file.Kind == ArchivedFileKind.Segment && queue.NeedsFill(ahead))
                    StartPrefetch(r.Path, queue.Directory, file.Name, ahead);
                return found ? 0 : GetNotFound;
            });
            return code is 0 or GetNotFound ? code : GetFailed;
        });
        return command;
    }

    // `archive prefetch` in the background, detached: PostgreSQL waits only for this get.
    private static void StartPrefetch(string repo, string spool, string name, int count)
        => StartDetached(["archive", "prefetch", "--repo", repo, "--spool", spool, name, count.ToString(System.Globalization.CultureInfo.InvariantCulture)]);

    // Another pgwal in the background, not waited for.
    private static void StartDetached(string[] args) => System.Diagnostics.Process.Start(SelfProcess.StartInfo(args))?.Dispose();

    private static Command Prefetch()
    {
        var repo = Repo();
        var spool = new Option<string>("--spool") { Description = "the spool directory", Required = true };
        var name = new Argument<string>("NAME") { Description = "the segment just restored" };
        var count = new Argument<int>("COUNT") { Description = "how many following segments to restore ahead" };
        var command = new Command("prefetch", "Restore the segments after NAME into the spool (started by get --prefetch)") { repo, spool, name, count };
        command.SetAction(p => CommandBoundary.Run("archive prefetch", () =>
        {
            var file = ParseName(p.GetValue(name)!);
            new PrefetchSpool(p.GetValue(spool)!).Fill(WalRepository.Open(p.GetValue(repo)!), file, Math.Clamp(p.GetValue(count), 0, 256));
            return 0;
        }));
        return command;
    }

    private static ArchivedFileName ParseName(string name)
    {
        if (ArchivedFileName.TryParse(name, out var parsed) is { } problem)
            throw new UsageException(problem);
        return parsed;
    }
}
