// KvStandbyCommand: `pgwal kv standby -D DIR` runs a hot standby of a PgWal.Kv primary: the data
// directory is a base backup with standby.signal (pgwal basebackup -R, pg_basebackup -R), its
// settings come from postgresql.auto.conf / postgresql.conf unless given here. It replays what
// the primary streams (or the archive holds), and reads from the shell: commands on stdin (get,
// scan, status, pause, resume, primary, promote). Once promoted (here, with `pgwal promote -D DIR`,
// or a promote file) it goes on as a primary, with a walsender on --listen. pgwal_status.json
// tells `pgwal status` what it is doing. SIGINT/SIGTERM stop it cleanly (a last restartpoint).
using System.CommandLine;
using System.Text;
using PgWal.Cli.Common;
using PgWal.Cli.Kv;
using PgWal.Kv;
using PgWal.Recovery;

namespace PgWal.Cli.Standby;

internal static class KvStandbyCommand
{
    public static Command Create(Option<string> dir)
    {
        var conninfo = new Option<string?>("--primary-conninfo") { Description = "connection string of the primary (default: primary_conninfo from the directory's configuration)" };
        var slot = new Option<string?>("--primary-slot-name") { Description = "replication slot on the primary (default: primary_slot_name)" };
        var restore = new Option<string?>("--restore-command") { Description = "restore_command for WAL streaming cannot deliver (default: from the configuration)" };
        var listen = new Option<string?>("--listen") { Description = "address:port of the walsender this node serves once promoted (password from PGWAL_REPLICATION_PASSWORD or --password-file)" };
        var user = new Option<string>("--user", "-U") { Description = "the replication user of that walsender", DefaultValueFactory = _ => "replication" };
        var passwordFile = CliOptions.Path("--password-file", null, "file holding that user's password");
        var stats = CliOptions.Seconds("--stats", null, "print replay and receive positions every this many seconds (0 = never)", 0, 86400, 0);
        var command = new Command("standby", "Run a hot standby of a kv primary: replay its WAL, serve reads (commands on stdin), promote on request")
        {
            conninfo, slot, restore, listen, user, passwordFile, stats,
        };
        command.SetAction(p => CommandBoundary.Run("kv standby", () =>
        {
            string data = p.GetValue(dir)!;
            PathChecks.DataDirectory(data);
            if (!File.Exists(Path.Combine(data, "standby.signal")))
                throw new UsageException($"\"{data}\" has no standby.signal: make the standby from a base backup of the primary (pgwal basebackup -R -D {data} ...), or create standby.signal in a copy of the primary made for this");
            var settings = PgWal.Standby.StandbyOptions.FromConfiguration(data);
            settings = settings with
            {
                PrimaryConnInfo = p.GetValue(conninfo) ?? settings.PrimaryConnInfo,
                PrimarySlotName = p.GetValue(slot) ?? settings.PrimarySlotName,
                RestoreCommand = p.GetValue(restore) ?? settings.RestoreCommand,
            };
            if (settings.PrimaryConnInfo == null && settings.RestoreCommand == null)
                throw new UsageException("neither primary_conninfo nor restore_command is set: give --primary-conninfo (or set them in postgresql.auto.conf)");
            var instance = RecoveryConfigFile.ApplyArchiveSettings(data, new WalInstanceOptions { Standby = settings });
            if (p.GetValue(listen) is { } address)
                instance = instance with { WalSender = KvServeCommand.SenderOptions(address, null, p.GetValue(user)!, p.GetValue(passwordFile), null, null) };
            Console.WriteLine($"pgwal kv standby: opening \"{data}\" (waits for a consistent state)");
            using var store = KvStore.Open(data, new KvOptions { Instance = instance, CreateIfMissing = false });
            using var reload = ReloadOnSighup(store, data, settings.PrimaryConnInfo, settings.PrimarySlotName);
            return Run(store, data, p.GetValue(stats));
        }));
        return command;
    }

    private static int Run(KvStore store, string data, double statsSeconds)
    {
        using var signals = new StopSignals();
        using var status = new ServerStatusFile(store, "kv standby");
        Console.WriteLine($"pgwal kv standby: hot standby of {Describe(store)} ready for reads at {store.Instance.ReplayedUpTo}; commands on stdin: get KEY, scan [FROM [TO]], status, pause, resume, primary CONNINFO, promote, quit");
        var shell = new Thread(() => Shell(store, signals)) { IsBackground = true, Name = "shell" };
        shell.Start();
        var nextStats = DateTime.UtcNow;
        while (!signals.Token.IsCancellationRequested)
        {
            if (statsSeconds > 0 && DateTime.UtcNow >= nextStats)
            {
                Console.WriteLine(StatusLine(store));
                nextStats = DateTime.UtcNow + TimeSpan.FromSeconds(statsSeconds);
            }
            signals.Token.WaitHandle.WaitOne(TimeSpan.FromMilliseconds(200));
        }
        Console.WriteLine($"pgwal kv standby: {signals.Received ?? "quit"} received, shutting down");
        return ExitCodes.Success;
    }

    // SIGHUP, as PostgreSQL's reload: primary_conninfo / primary_slot_name read again from the
    // configuration files; when they changed, the walreceiver reconnects to the new primary.
    private static System.Runtime.InteropServices.PosixSignalRegistration ReloadOnSighup(KvStore store, string data, string? conninfo, string? slot)
    {
        var gate = new object();
        return System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGHUP, context =>
        {
            context.Cancel = true;
            lock (gate)
            {
                try
                {
                    var now = PgWal.Standby.StandbyOptions.FromConfiguration(data);
                    if (!store.Instance.IsStandby || (now.PrimaryConnInfo == conninfo && now.PrimarySlotName == slot))
                    {
                        Console.WriteLine("pgwal kv standby: SIGHUP: configuration reloaded, primary_conninfo unchanged");
                        return;
                    }
                    store.Instance.ChangePrimary(now.PrimaryConnInfo, now.PrimarySlotName);
                    (conninfo, slot) = (now.PrimaryConnInfo, now.PrimarySlotName);
                    Console.WriteLine("pgwal kv standby: SIGHUP: primary_conninfo changed, following the new primary");
                }
                catch (Exception e) when (e is RecoveryException or InvalidOperationException or IOException)
                {
                    Console.Error.WriteLine($"pgwal kv standby: SIGHUP: configuration not reloaded: {e.Message}");
                }
            }
        });
    }

    private static string Describe(KvStore store) => store.Instance.IsStandby ? "the primary" : "nothing (promoted)";

    internal static string StatusLine(KvStore store)
    {
        var i = store.Instance;
        if (!i.IsStandby)
            return $"-- {DateTime.UtcNow:HH:mm:ss} primary (promoted) on timeline {i.Wal.Options.Timeline.Value}, flushed {i.Wal.FlushedUpTo}";
        return $"-- {DateTime.UtcNow:HH:mm:ss} standby timeline {i.ReplayTimeline.Value} replayed {i.ReplayedUpTo} received {(i.ReceivedUpTo.IsValid ? i.ReceivedUpTo.ToString() : "-")} " +
            $"streaming {(i.IsStreaming ? "yes" : "no")}{(i.IsReplayPaused ? " (replay paused)" : "")}{(i.StandbyStreamError is { } e ? $" last error: {e}" : "")}";
    }

    // One command per line; answers on stdout, problems on stderr; EOF just ends the shell.
    private static void Shell(KvStore store, StopSignals signals)
    {
        while (!signals.Token.IsCancellationRequested && Console.In.ReadLine() is { } line)
        {
            var words = line.Trim().Split(' ', 2, StringSplitOptions.RemoveEmptyEntries);
            if (words.Length == 0)
                continue;
            try
            {
                switch (words[0])
                {
                    case "get" when words.Length == 2:
                        var value = store.Get(Encoding.UTF8.GetBytes(words[1]));
                        Console.WriteLine(value == null ? $"(absent) at {store.Instance.ReplayedUpTo}" : Encoding.UTF8.GetString(value));
                        break;
                    case "scan":
                        var bounds = words.Length == 2 ? words[1].Split(' ', StringSplitOptions.RemoveEmptyEntries) : [];
                        int shown = 0;
                        foreach (var (k, v) in store.Scan(bounds.Length > 0 ? Encoding.UTF8.GetBytes(bounds[0]) : null, bounds.Length > 1 ? Encoding.UTF8.GetBytes(bounds[1]) : null))
                        {
                            if (shown++ == 20)
                            {
                                Console.WriteLine("...");
                                break;
                            }
                            Console.WriteLine($"{Encoding.UTF8.GetString(k)}\t{Encoding.UTF8.GetString(v)}");
                        }
                        break;
                    case "status":
                        Console.WriteLine(StatusLine(store));
                        break;
                    case "pause":
                        store.Instance.PauseReplay();
                        Console.WriteLine($"replay paused at {store.Instance.ReplayedUpTo}");
                        break;
                    case "resume":
                        store.Instance.ResumeReplay();
                        Console.WriteLine("replay resumed");
                        break;
                    case "primary" when words.Length == 2:
                        store.Instance.ChangePrimary(words[1]);
                        Console.WriteLine("following the new primary");
                        break;
                    case "promote":
                        var result = store.Promote();
                        Console.WriteLine($"promoted: timeline {result.NewTimeline.Value}, WAL ended at {result.EndOfWal}; writes accepted");
                        break;
                    case "quit" or "exit":
                        signals.Stop();
                        return;
                    default:
                        Console.Error.WriteLine("commands: get KEY | scan [FROM [TO]] | status | pause | resume | primary CONNINFO | promote | quit");
                        break;
                }
            }
            catch (Exception e) when (e is InvalidOperationException or RecoveryException or ArgumentException or InvalidDataException or IOException)
            {
                Console.Error.WriteLine($"pgwal kv standby: {e.Message}");
            }
        }
    }
}
