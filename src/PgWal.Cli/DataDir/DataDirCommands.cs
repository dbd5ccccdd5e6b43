// DataDirCommands: `pgwal init` (initdb's bootstrap) and `pgwal recover` (a startup that recovers
// and shuts down). Their siblings pg_controldata and pg_resetwal live in ControlDataCommand and
// ResetWalCommand. Errors are reported by CommandBoundary (exit 2 for a bad command line, 3 for a
// failure).
using System.CommandLine;
using Microsoft.Extensions.Logging;
using PgWal.Cli.Common;
using PgWal.Cli.PageTest;
using PgWal.Format;
using PgWal.Recovery;

namespace PgWal.Cli.DataDir;

internal static class DataDirCommands
{
    public static Command Init()
    {
        var dir = CliOptions.DataDirectory("data directory to create");
        var segSize = SegmentSizeOption("WAL segment size in MB, a power of two");
        var checksums = new Option<bool>("--data-checksums", "-k") { Description = "use data page checksums" };
        var command = new Command("init", "Create a data directory (control file, first WAL segment, bootstrap checkpoint)") { dir, segSize, checksums };
        command.SetAction(p => CommandBoundary.Run("init", () =>
        {
            long bytes = (long)p.GetValue(segSize) << 20;
            string path = p.GetValue(dir)!;
            PathChecks.DataDirectory(path);
            var control = WalInstance.Initialize(path, new WalInitOptions { SegmentSize = (int)bytes, DataChecksums = p.GetValue(checksums) });
            Console.WriteLine($"initialised data directory \"{path}\": system identifier {control.SystemIdentifier}, WAL segment size {bytes / 1048576} MB, data checksums {(control.DataChecksumVersion != 0 ? "on" : "off")}");
            Console.WriteLine($"checkpoint at {control.CheckPointLocation} ({SegmentFileName.Format(TimelineId.First, new WalGeometry((int)bytes).SegmentOf(control.CheckPointLocation), new WalGeometry((int)bytes))})");
            return 0;
        }));
        return command;
    }

    /// <summary>--wal-segsize in MB: a power of two, 1..1024, as initdb's.</summary>
    public static Option<int> SegmentSizeOption(string description)
        => CliOptions.Int("--wal-segsize", null, description, 1, 1024, 16, mb => WalGeometry.IsValidSegmentSize(mb << 20), "must be a power of two, 1..1024");

    public static Command Recover()
    {
        var dir = CliOptions.DataDirectory("data directory");
        var json = new Option<bool>("--json") { Description = "print the result as one JSON object" };
        var decodeOnly = new Option<bool>("--decode-only") { Description = "only read and decode the WAL recovery would replay (changes nothing)" };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "no progress log" };
        var acceptLoss = new Option<bool>("--accept-wal-loss")
        {
            Description = "when the WAL is damaged, recover up to the damage and set the WAL after it aside in pg_wal/quarantine/ (default: stop and change nothing)",
        };
        var repo = CliOptions.Path("--repo", null, "with recovery.signal: restore archived WAL from this PgWal repository in-process (instead of restore_command)");
        var command = new Command("recover", "Open a data directory (crash recovery when needed; archive recovery to a target with recovery.signal and postgresql.conf, as PostgreSQL), write a shutdown checkpoint, exit") { dir, json, decodeOnly, quiet, acceptLoss, repo };
        command.SetAction(p => CommandBoundary.Run("recover", () =>
        {
            string path = p.GetValue(dir)!;
            PathChecks.DataDirectory(path);
            if (p.GetValue(decodeOnly))
                return DecodeOnly.Run(path, p.GetValue(json));
            using var logging = new StderrLoggerFactory(p.GetValue(quiet) ? LogLevel.Warning : LogLevel.Information);
            var options = RecoveryConfigFile.ApplyArchiveSettings(path, new WalInstanceOptions
            {
                Wal = new Write.WalOptions { LoggerFactory = logging },
                ResourceManagers = new ResourceManagerRegistry().Register(PageTestResourceManager.Instance).Register(PgWal.Kv.KvResourceManager.Instance),
                BackgroundCheckpointer = false,
                RecoveryMode = p.GetValue(acceptLoss) ? WalRecoveryMode.PointInTime : WalRecoveryMode.TolerateTornTail,
            });
            if (p.GetValue(repo) is { } repository && File.Exists(Path.Combine(path, "recovery.signal")))
            {
                var settings = RecoveryConfigFile.Read(path) with { Restorer = new PgWal.Archive.RepositoryRestorer(PgWal.Archive.WalRepository.Open(repository)) };
                options = options with { ArchiveRecovery = settings };
            }
            RecoveryResult result;
            try
            {
                using var instance = WalInstance.Open(path, options);
                result = instance.Recovery;
            }
            catch (RecoveryTargetReachedException e)
            {
                // recovery_target_action shutdown (or pause): recovering to the target is this command's whole job.
                Print(e.Result, p.GetValue(json));
                Console.WriteLine(e.Message);
                return 0;
            }
            catch (WalDamagedException e) when (p.GetValue(json))
            {
                // The damage report on stdout for scripts; the error line and exit code as usual.
                Console.WriteLine(CliJson.Line(new Dictionary<string, object?> { ["stopped"] = true, ["damage"] = DamageJson(e.Report) }));
                throw;
            }
            Print(result, p.GetValue(json));
            return 0;
        }));
        return command;
    }

    internal static Dictionary<string, object?> DamageJson(WalDamageReport d) => new()
    {
        ["kind"] = d.Kind.ToString(), ["check"] = d.Check.ToString(), ["message"] = d.Message, ["lsn"] = d.Lsn.ToString(),
        ["file"] = d.SegmentFile, ["offset"] = d.FileOffset, ["valid_up_to"] = d.ValidUpTo.ToString(), ["certain"] = d.Certain, ["evidence"] = d.Evidence,
        ["beyond"] = new Dictionary<string, object?>
        {
            ["segments"] = d.Beyond.Segments.ToArray(), ["missing_segments"] = d.Beyond.MissingSegments.ToArray(),
            ["from"] = d.Beyond.From.IsValid ? d.Beyond.From.ToString() : null, ["up_to"] = d.Beyond.UpTo.IsValid ? d.Beyond.UpTo.ToString() : null,
            ["records"] = d.Beyond.Records, ["commits"] = d.Beyond.Commits,
        },
        ["data_pages_ahead"] = d.DataPagesAhead, ["data_pages_ahead_up_to"] = d.DataPagesAheadUpTo.IsValid ? d.DataPagesAheadUpTo.ToString() : null,
        ["quarantine_directory"] = d.QuarantineDirectory, ["quarantined"] = d.Quarantined.ToArray(),
    };

    internal static void Print(RecoveryResult r, bool json)
    {
        if (json)
        {
            Console.WriteLine(CliJson.Line(new Dictionary<string, object?>
            {
                ["crash_recovery"] = r.CrashRecovery, ["checkpoint"] = r.Checkpoint.ToString(), ["redo_start"] = r.RedoStart.ToString(),
                ["end_of_wal"] = r.EndOfWal.ToString(), ["records"] = r.Records, ["replayed_mb"] = Math.Round(r.Bytes / 1048576.0, 3),
                ["replay_seconds"] = Math.Round(r.Elapsed.TotalSeconds, 4), ["replay_mb_per_sec"] = Math.Round(r.MegabytesPerSecond, 1),
                ["images_restored"] = r.ImagesRestored, ["end_reason"] = r.EndReason,
                ["aborted_record"] = r.AbortedRecord.IsValid ? r.AbortedRecord.ToString() : null,
                ["end_of_recovery_checkpoint"] = r.EndOfRecoveryCheckpoint.IsValid ? r.EndOfRecoveryCheckpoint.ToString() : null,
                ["damage"] = r.Damage is { } damage ? DamageJson(damage) : null,
                ["archive_recovery"] = r.ArchiveRecovery, ["stop"] = r.StopMessage, ["files_restored"] = r.FilesRestored,
                ["new_timeline"] = r.NewTimeline.IsValid ? (long)r.NewTimeline.Value : null,
            }));
            return;
        }
        if (r.Damage is { } found)
            Console.WriteLine(found.Describe());
        if (r.ArchiveRecovery)
        {
            Console.WriteLine($"archive recovery from checkpoint {r.Checkpoint}: redo {r.RedoStart} .. {r.EndOfWal}, {r.FilesRestored} file(s) restored from the archive");
            Console.WriteLine($"replayed {r.Records:N0} records, {r.Bytes / 1048576.0:F1} MB in {r.Elapsed.TotalSeconds:F2} s ({r.MegabytesPerSecond:F0} MB/s)");
            Console.WriteLine(r.StopMessage ?? $"end of archived WAL: {r.EndReason}");
            if (r.NewTimeline.IsValid)
                Console.WriteLine($"new timeline {r.NewTimeline.Value} begins at {r.EndOfWal}; end-of-recovery checkpoint at {r.EndOfRecoveryCheckpoint}; shut down cleanly");
            return;
        }
        if (!r.CrashRecovery)
        {
            Console.WriteLine($"data directory was shut down cleanly at checkpoint {r.Checkpoint}; nothing to replay");
            return;
        }
        Console.WriteLine($"crash recovery from checkpoint {r.Checkpoint}: redo {r.RedoStart} .. {r.EndOfWal}");
        Console.WriteLine($"replayed {r.Records:N0} records, {r.Bytes / 1048576.0:F1} MB in {r.Elapsed.TotalSeconds:F2} s ({r.MegabytesPerSecond:F0} MB/s), {r.ImagesRestored:N0} full-page images restored");
        Console.WriteLine($"end of WAL: {r.EndReason}");
        if (r.AbortedRecord.IsValid)
            Console.WriteLine($"torn record at {r.AbortedRecord} overwritten (continuation was missing at {r.MissingContinuation})");
        Console.WriteLine($"end-of-recovery checkpoint at {r.EndOfRecoveryCheckpoint}; shut down cleanly");
    }
}
