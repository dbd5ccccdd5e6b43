// DataDirCommands: `pgwal init`, `pgwal recover`, `pgwal controldata`, `pgwal resetwal` — the
// data-directory tools (initdb's bootstrap, a startup that recovers and shuts down, pg_controldata,
// pg_resetwal). Errors go to stderr as "pgwal CMD: error: ..." with exit status 1.
using System.CommandLine;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using PgWal.Checkpoint;
using PgWal.Cli.PageTest;
using PgWal.Diagnostics;
using PgWal.Format;
using PgWal.Recovery;
using PgWal.Storage;

namespace PgWal.Cli.DataDir;

internal static class DataDirCommands
{
    public static Command Init()
    {
        var dir = new Option<string>("--pgdata", "-D") { Description = "data directory to create", Required = true };
        var segSize = new Option<int>("--wal-segsize") { Description = "WAL segment size in MB (power of two, 1..1024)", DefaultValueFactory = _ => 16 };
        var checksums = new Option<bool>("--data-checksums", "-k") { Description = "use data page checksums" };
        var command = new Command("init", "Create a data directory (control file, first WAL segment, bootstrap checkpoint)") { dir, segSize, checksums };
        command.SetAction(p => Guard("init", () =>
        {
            long bytes = (long)p.GetValue(segSize) * 1024 * 1024;
            if (!WalGeometry.IsValidSegmentSize(bytes))
                throw new ArgumentException($"--wal-segsize must be a power of two between 1 and 1024 (MB), got {p.GetValue(segSize)}");
            string path = p.GetValue(dir)!;
            var control = WalInstance.Initialize(path, new WalInitOptions { SegmentSize = (int)bytes, DataChecksums = p.GetValue(checksums) });
            Console.WriteLine($"initialised data directory \"{path}\": system identifier {control.SystemIdentifier}, WAL segment size {bytes / 1048576} MB, data checksums {(control.DataChecksumVersion != 0 ? "on" : "off")}");
            Console.WriteLine($"checkpoint at {control.CheckPointLocation} ({SegmentFileName.Format(TimelineId.First, new WalGeometry((int)bytes).SegmentOf(control.CheckPointLocation), new WalGeometry((int)bytes))})");
            return 0;
        }));
        return command;
    }

    public static Command Recover()
    {
        var dir = new Option<string>("--pgdata", "-D") { Description = "data directory", Required = true };
        var json = new Option<bool>("--json") { Description = "print the result as one JSON object" };
        var decodeOnly = new Option<bool>("--decode-only") { Description = "only read and decode the WAL recovery would replay (changes nothing)" };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "no progress log" };
        var command = new Command("recover", "Open a data directory (crash recovery when needed), write a shutdown checkpoint, exit") { dir, json, decodeOnly, quiet };
        command.SetAction(p => Guard("recover", () =>
        {
            string path = p.GetValue(dir)!;
            if (p.GetValue(decodeOnly))
                return DecodeOnly.Run(path, p.GetValue(json));
            using var logging = new StderrLoggerFactory(p.GetValue(quiet) ? LogLevel.Warning : LogLevel.Information);
            var options = new WalInstanceOptions
            {
                Wal = new Write.WalOptions { LoggerFactory = logging },
                ResourceManagers = new ResourceManagerRegistry().Register(PageTestResourceManager.Instance).Register(PgWal.Kv.KvResourceManager.Instance),
                BackgroundCheckpointer = false,
            };
            RecoveryResult result;
            using (var instance = WalInstance.Open(path, options))
                result = instance.Recovery;
            Print(result, p.GetValue(json));
            return 0;
        }));
        return command;
    }

    internal static void Print(RecoveryResult r, bool json)
    {
        if (json)
        {
            Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object?>
            {
                ["crash_recovery"] = r.CrashRecovery, ["checkpoint"] = r.Checkpoint.ToString(), ["redo_start"] = r.RedoStart.ToString(),
                ["end_of_wal"] = r.EndOfWal.ToString(), ["records"] = r.Records, ["replayed_mb"] = Math.Round(r.Bytes / 1048576.0, 3),
                ["replay_seconds"] = Math.Round(r.Elapsed.TotalSeconds, 4), ["replay_mb_per_sec"] = Math.Round(r.MegabytesPerSecond, 1),
                ["images_restored"] = r.ImagesRestored, ["end_reason"] = r.EndReason,
                ["aborted_record"] = r.AbortedRecord.IsValid ? r.AbortedRecord.ToString() : null,
                ["end_of_recovery_checkpoint"] = r.EndOfRecoveryCheckpoint.IsValid ? r.EndOfRecoveryCheckpoint.ToString() : null,
            }));
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

    public static Command ControlData()
    {
        var dir = new Option<string?>("--pgdata", "-D") { Description = "data directory" };
        var positional = new Argument<string?>("DATADIR") { Arity = ArgumentArity.ZeroOrOne };
        var command = new Command("controldata", "Print the control file, exactly as pg_controldata does") { dir, positional };
        command.SetAction(p => Guard("controldata", () =>
        {
            string path = p.GetValue(dir) ?? p.GetValue(positional) ?? Environment.GetEnvironmentVariable("PGDATA")
                ?? throw new ArgumentException("no data directory specified");
            var bytes = new byte[ControlFileData.FileSize];
            int n = new FileSystemDataDirectory(path).Control.Read(bytes);
            if (n < 0)
                throw new IOException($"could not open file \"{path}/global/pg_control\" for reading: No such file or directory");
            if (n < ControlFileData.DataSize)
                throw new IOException($"could not read file \"{path}/global/pg_control\": read {n} of {ControlFileData.FileSize}");
            Console.Write(ControlDataText.Format(ControlFileData.Decode(bytes), ControlFileData.CrcMatches(bytes)));
            return 0;
        }));
        return command;
    }

    public static Command ResetWal()
    {
        var dir = new Option<string?>("--pgdata", "-D") { Description = "data directory" };
        var positional = new Argument<string?>("DATADIR") { Arity = ArgumentArity.ZeroOrOne };
        var force = new Option<bool>("--force", "-f") { Description = "force the update even if the directory was not shut down cleanly" };
        var dryRun = new Option<bool>("--dry-run", "-n") { Description = "no update, just show what would be done" };
        var walFile = new Option<string?>("--next-wal-file", "-l") { Description = "set the minimum starting location for new WAL (a segment file name)" };
        var xid = new Option<uint?>("--next-transaction-id", "-x") { Description = "set the next transaction id" };
        var oid = new Option<uint?>("--next-oid", "-o") { Description = "set the next OID" };
        var command = new Command("resetwal", "Reset the WAL and control information (disaster recovery), like pg_resetwal") { dir, positional, force, dryRun, walFile, xid, oid };
        command.SetAction(p => Guard("resetwal", () => ResetWalCommand.Run(
            p.GetValue(dir) ?? p.GetValue(positional) ?? throw new ArgumentException("no data directory specified"),
            p.GetValue(force), p.GetValue(dryRun), p.GetValue(walFile), p.GetValue(xid), p.GetValue(oid))));
        return command;
    }

    internal static int Guard(string name, Func<int> action, int errorExitCode = 1)
    {
        try
        {
            return action();
        }
        catch (Exception e) when (e is IOException or InvalidDataException or ArgumentException or InvalidOperationException or RecoveryException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"pgwal {name}: error: {e.Message}");
            return errorExitCode;
        }
    }
}
