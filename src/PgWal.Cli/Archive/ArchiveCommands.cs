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
using PgWal.Format;

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
            Init(), Push(), Get(), ArchiveInventoryCommands.List(), ArchiveInventoryCommands.Verify(), ArchiveInventoryCommands.Cleanup(), ShowTargetCommand.Create(),
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
            ArchiveCodecs(p.GetValue(compress)!, out var codec);
            var r = WalRepository.Create(p.GetValue(repo)!, codec);
            Console.WriteLine($"created archive repository \"{r.Path}\" ({p.GetValue(compress)} compression)");
            return 0;
        }));
        return command;
    }

    private static Command Push()
    {
        var repo = Repo();
        var path = new Argument<string>("PATH") { Description = "the file to archive (PostgreSQL's %p)" };
        var name = new Option<string?>("--name") { Description = "archive it under this name (default: PATH's file name, PostgreSQL's %f)" };
        var command = new Command("push", "Archive one WAL segment, .partial, history or backup history file (archive_command)") { repo, path, name };
        command.SetAction(p => CommandBoundary.Run("archive push", () =>
        {
            string source = p.GetValue(path)!;
            var file = ParseName(p.GetValue(name) ?? System.IO.Path.GetFileName(source));
            var r = WalRepository.Open(p.GetValue(repo)!);
            r.Push(source, file);
            return 0;
        }));
        return command;
    }

    private static Command Get()
    {
        var repo = Repo();
        var name = new Argument<string>("NAME") { Description = "the file wanted (PostgreSQL's %f)" };
        var destination = new Argument<string>("DEST") { Description = "where to write it (PostgreSQL's %p)" };
        var command = new Command("get", "Restore one archived file (restore_command): exit 1 when the repository does not have it") { repo, name, destination };
        command.SetAction(p =>
        {
            int code = CommandBoundary.Run("archive get", () =>
            {
                var file = ParseName(p.GetValue(name)!);
                var r = WalRepository.Open(p.GetValue(repo)!);
                return r.TryRestore(file, p.GetValue(destination)!) ? 0 : GetNotFound;
            });
            return code is 0 or GetNotFound ? code : GetFailed;
        });
        return command;
    }

    private static ArchivedFileName ParseName(string name)
    {
        if (ArchivedFileName.TryParse(name, out var parsed) is { } problem)
            throw new UsageException(problem);
        return parsed;
    }

    private static void ArchiveCodecs(string name, out ArchiveCodec codec)
        => codec = name switch { "lz4" => ArchiveCodec.Lz4, "none" => ArchiveCodec.None, _ => ArchiveCodec.Zstd };
}
