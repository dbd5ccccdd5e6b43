// BaseBackupCommand: `pgwal basebackup`, pg_basebackup 15's core over BaseBackupReceiver:
// -D, -F p|t, -X stream|fetch|none, -P, -c fast|spread, -R, --manifest-checksums, -S/-C, -l,
// -v, --no-sync and the connection options. Progress (-P) is pg_basebackup's line on stderr,
// rewritten in place: "N/M kB (P%), k/n tablespace".
using System.CommandLine;
using System.Globalization;
using PgWal.Cli.Common;
using PgWal.Replication.Client;

namespace PgWal.Cli.Replication;

internal static class BaseBackupCommand
{
    private const string Program = "pgwal basebackup";

    public static Command Create()
    {
        var directory = new Option<string>("--pgdata", "-D") { Description = "receive base backup into directory", Required = true };
        var format = CliOptions.Choice("--format", "-F", "output format (plain (default), tar)", "plain", "plain", "p", "tar", "t");
        var walMethod = CliOptions.Choice("--wal-method", "-X", "include required WAL files with specified method", "stream", "none", "n", "fetch", "f", "stream", "s");
        var progress = new Option<bool>("--progress", "-P") { Description = "show progress information" };
        var checkpoint = CliOptions.Choice("--checkpoint", "-c", "set fast or spread checkpointing", "spread", "fast", "spread");
        var recovery = new Option<bool>("--write-recovery-conf", "-R") { Description = "write configuration for replication" };
        var checksums = new Option<string?>("--manifest-checksums") { Description = "use algorithm for manifest checksums (NONE, CRC32C, SHA224, SHA256, SHA384, SHA512)" };
        var slot = new Option<string?>("--slot", "-S") { Description = "replication slot to use" };
        var createSlot = new Option<bool>("--create-slot", "-C") { Description = "create replication slot" };
        var label = new Option<string>("--label", "-l") { Description = "set backup label", DefaultValueFactory = _ => "pg_basebackup base backup" };
        var verbose = new Option<bool>("--verbose", "-v") { Description = "output verbose messages" };
        var noSync = new Option<bool>("--no-sync", "-N") { Description = "do not wait for changes to be written safely to disk" };
        var noEstimate = new Option<bool>("--no-estimate-size") { Description = "do not estimate backup size in server side" };
        var connection = new ConnectionOptions();
        var command = new Command("basebackup", "Take a base backup of a running PostgreSQL 15 server, like pg_basebackup 15")
        {
            directory, format, walMethod, progress, checkpoint, recovery, checksums, slot, createSlot, label, verbose, noSync, noEstimate,
        };
        connection.AddTo(command);
        command.SetAction(p => CommandBoundary.Run("basebackup", () =>
        {
            bool progressShown = false;   // a progress line is on the terminal without its newline
            void Say(string message)
            {
                if (progressShown)
                    Console.Error.WriteLine();
                progressShown = false;
                Console.Error.WriteLine($"{Program}: {message}");
            }
            var settings = connection.Settings(p, "pg_basebackup");
            if (p.GetValue(createSlot) && p.GetValue(slot) == null)
                throw new UsageException("--create-slot needs a slot to be specified using --slot");
            var method = p.GetValue(walMethod)![0] switch { 'n' => BackupWalMethod.None, 'f' => BackupWalMethod.Fetch, _ => BackupWalMethod.Stream };
            if (p.GetValue(slot) != null && method != BackupWalMethod.Stream)
                throw new UsageException("replication slots can only be used with WAL streaming");
            if (p.GetValue(checksums) is { } c && c.ToUpperInvariant() is not ("NONE" or "CRC32C" or "SHA224" or "SHA256" or "SHA384" or "SHA512"))
                throw new UsageException($"unrecognized manifest checksum algorithm: \"{c}\"");
            bool showProgress = p.GetValue(progress);
            var options = new BaseBackupOptions
            {
                Connection = settings,
                TargetDirectory = p.GetValue(directory)!,
                Format = p.GetValue(format)![0] == 't' ? BackupFormat.Tar : BackupFormat.Plain,
                WalMethod = method,
                FastCheckpoint = p.GetValue(checkpoint) == "fast",
                Label = p.GetValue(label)!,
                ManifestChecksums = p.GetValue(checksums)?.ToUpperInvariant(),
                Slot = p.GetValue(slot),
                CreateSlot = p.GetValue(createSlot),
                WriteRecoveryConfig = p.GetValue(recovery),
                EstimateSize = !p.GetValue(noEstimate),
                Sync = !p.GetValue(noSync),
                Verbose = p.GetValue(verbose) ? Say : null,
                Progress = showProgress ? progressNow =>
                {
                    ShowProgress(progressNow);
                    progressShown = true;
                } : null,
            };
            BaseBackupReceiver.RunAsync(options).GetAwaiter().GetResult();
            if (progressShown)
                Console.Error.WriteLine();
            return 0;
        }));
        return command;
    }

    // pg_basebackup's progress_report: "done/total kB (P%), k/n tablespace(s)"; the total grows
    // with what was received when the estimate was low.
    private static void ShowProgress(BackupProgress progress)
    {
        long doneKb = progress.BytesDone / 1024, totalKb = Math.Max(progress.BytesEstimated / 1024, doneKb);
        int percent = totalKb == 0 ? 100 : (int)(doneKb * 100 / totalKb);
        string plural = progress.ArchiveCount == 1 ? "" : "s";
        Console.Error.Write(string.Create(CultureInfo.InvariantCulture,
            $"{doneKb,10}/{totalKb} kB ({percent}%), {progress.ArchivesDone}/{progress.ArchiveCount} tablespace{plural}\r"));
    }
}
