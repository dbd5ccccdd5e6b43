// KvBackupCommands: `pgwal kv backup TARGET` (a base backup of the store, as pg_basebackup -Fp -X
// fetch makes one, with a progress line on stderr) and `pgwal kv restore-point NAME`
// (pg_create_restore_point: a named target for point-in-time recovery).
using System.CommandLine;
using System.Diagnostics;
using PgWal.Backup;
using PgWal.Cli.Common;

namespace PgWal.Cli.Kv;

internal static class KvBackupCommands
{
    public static Command Backup(Option<string> dir)
    {
        var target = new Argument<string>("TARGET") { Description = "directory to write the backup into (must not exist, or be empty)" };
        var label = new Option<string>("--label", "-l") { Description = "the backup's label", DefaultValueFactory = _ => "pgwal kv backup" };
        var noWal = new Option<bool>("--no-wal") { Description = "leave the WAL out (restore it from an archive then: recovery.signal + restore_command)" };
        var command = new Command("backup", "Take a base backup of the store (backup_label, backup_manifest, its WAL); pg_verifybackup checks it") { target, label, noWal };
        command.SetAction(p => CommandBoundary.Run("kv backup", () => KvSession.Run(p.GetValue(dir)!, session =>
        {
            string to = p.GetValue(target)!;
            var store = session.Open(create: false);
            var clock = Stopwatch.StartNew();
            var progress = new ProgressLine();
            var stop = store.Backup(to, new BaseBackupOptions { Label = p.GetValue(label)!, IncludeWal = !p.GetValue(noWal) }, progress);
            progress.Done();
            Console.WriteLine($"base backup written to \"{to}\" in {clock.Elapsed.TotalSeconds:F2} s: {progress.Bytes / 1048576.0:F1} MB, {progress.Files} files");
            Console.WriteLine($"consistent at {stop.StopLsn} (timeline {stop.Timeline.Value}); backup history file {stop.HistoryFileName}");
            return ExitCodes.Success;
        })));
        return command;
    }

    public static Command RestorePoint(Option<string> dir)
    {
        var name = new Argument<string>("NAME") { Description = "the restore point's name (at most 63 bytes): recovery_target_name" };
        var command = new Command("restore-point", "Write a named restore point into the WAL (pg_create_restore_point)") { name };
        command.SetAction(p => CommandBoundary.Run("kv restore-point", () => KvSession.Run(p.GetValue(dir)!, session =>
        {
            string n = p.GetValue(name)!;
            if (n.Length == 0 || System.Text.Encoding.UTF8.GetByteCount(n) > 63)
                throw new UsageException($"invalid restore point name \"{n}\": 1 to 63 bytes");
            var lsn = session.Open(create: false).CreateRestorePoint(n);
            Console.WriteLine($"restore point \"{n}\" at {lsn}");
            return ExitCodes.Success;
        })));
        return command;
    }

    // A progress line on stderr, at most twice a second.
    private sealed class ProgressLine : IProgress<BaseBackupProgress>
    {
        private readonly Stopwatch _since = Stopwatch.StartNew();
        private readonly bool _terminal = !Console.IsErrorRedirected;
        public long Bytes;
        public int Files;

        public void Report(BaseBackupProgress value)
        {
            (Bytes, Files) = (value.BytesDone, value.FilesDone);
            if (_since.ElapsedMilliseconds < 500 && value.Phase != "done")
                return;
            _since.Restart();
            int percent = value.BytesTotal > 0 ? (int)(100 * value.BytesDone / value.BytesTotal) : 100;
            string bar = new string('#', percent / 5).PadRight(20, '.');
            string line = $"backup [{bar}] {percent,3}% {value.BytesDone / 1048576.0,8:F1}/{value.BytesTotal / 1048576.0:F1} MB  {value.Phase} {value.CurrentFile}";
            Console.Error.Write(_terminal ? "\r" + line.PadRight(100)[..100] : line + "\n");
        }

        public void Done()
        {
            if (_terminal)
                Console.Error.WriteLine();
        }
    }
}
