// PromoteCommand: `pgwal promote -D DIR`, as pg_ctl promote: the data directory must be a standby
// (standby.signal) run by a live process (postmaster.pid naming it); a promote file asks it to end
// recovery, and unless --no-wait the command waits (--timeout) until standby.signal is gone.
// `pgwal status -D DIR` prints what a running server publishes (ServerStatusFile).
using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using PgWal.Cli.Common;

namespace PgWal.Cli.Standby;

internal static class PromoteCommand
{
    public static Command Create()
    {
        var dir = CliOptions.DataDirectory("the standby's data directory");
        var noWait = new Option<bool>("--no-wait", "-W") { Description = "do not wait for the promotion to complete" };
        var timeout = CliOptions.Seconds("--timeout", "-t", "seconds to wait", 1, 86400, 60);
        var command = new Command("promote", "Promote a running standby to a primary (pg_ctl promote)") { dir, noWait, timeout };
        command.SetAction(p => CommandBoundary.Run("promote", () =>
        {
            string data = p.GetValue(dir)!;
            PathChecks.DataDirectory(data);
            if (RunningPid(data) is not { } pid)
                throw new UsageException($"no server running in \"{data}\" (postmaster.pid is missing or names no live process): start it with pgwal kv standby -D {data}");
            if (!File.Exists(Path.Combine(data, "standby.signal")))
                throw new UsageException($"cannot promote server in \"{data}\": server is not in standby mode");
            string trigger = Path.Combine(data, "promote");
            File.WriteAllText(trigger, "");
            if (p.GetValue(noWait))
            {
                Console.WriteLine("server promoting");
                return ExitCodes.Success;
            }
            Console.Write("waiting for server to promote...");
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(p.GetValue(timeout));
            while (File.Exists(Path.Combine(data, "standby.signal")))
            {
                if (DateTime.UtcNow > deadline)
                {
                    Console.WriteLine(" stopped waiting");
                    CommandBoundary.Error("pgwal promote", $"server (pid {pid}) did not promote in time");
                    return ExitCodes.Runtime;
                }
                Thread.Sleep(100);
                Console.Write('.');
            }
            Console.WriteLine(" done");
            Console.WriteLine("server promoted");
            return ExitCodes.Success;
        }));
        return command;
    }

    // The pid of the live process holding the directory (0 when it is held but its pid cannot be
    // read: pgwal keeps postmaster.pid locked, and the lock dies with its process), or null.
    private static int? RunningPid(string data)
    {
        string path = Path.Combine(data, "postmaster.pid");
        if (!File.Exists(path))
            return null;
        try
        {
            string first;
            using (var reader = new StreamReader(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite)))
                first = reader.ReadLine() ?? "";
            if (!int.TryParse(first.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out int pid))
                return null;
            using var process = System.Diagnostics.Process.GetProcessById(pid);
            return process.HasExited ? null : pid;
        }
        catch (IOException)
        {
            return 0;   // locked: a pgwal process has it open
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    public static Command Status()
    {
        var dir = CliOptions.DataDirectory("the data directory of a running pgwal kv serve / kv standby");
        var json = new Option<bool>("--json") { Description = "print the status file as it is" };
        var command = new Command("status", "Show a running server's role, positions and replication (pg_stat_replication, pg_stat_wal_receiver)") { dir, json };
        command.SetAction(p => CommandBoundary.Run("status", () =>
        {
            string data = p.GetValue(dir)!;
            PathChecks.DataDirectory(data);
            string path = Path.Combine(data, ServerStatusFile.FileName);
            if (!File.Exists(path))
                throw new UsageException($"no server publishes its status in \"{data}\" ({ServerStatusFile.FileName} is missing): is pgwal kv serve or pgwal kv standby running there?");
            string text = File.ReadAllText(path);
            using var doc = JsonDocument.Parse(text);
            var root = doc.RootElement;
            var updated = DateTimeOffset.Parse(root.GetProperty("updated").GetString()!, CultureInfo.InvariantCulture);
            bool stale = DateTimeOffset.UtcNow - updated > TimeSpan.FromSeconds(5) || RunningPid(data) == null;
            if (p.GetValue(json))
            {
                Console.WriteLine(text);
                return stale ? ExitCodes.Runtime : ExitCodes.Success;
            }
            Console.WriteLine($"server:      {root.GetProperty("name").GetString()} (pid {root.GetProperty("pid").GetInt32()}){(stale ? $"  NOT RUNNING: last update {updated:u}" : "")}");
            Console.WriteLine($"role:        {root.GetProperty("role").GetString()}, timeline {root.GetProperty("timeline").GetUInt32()}");
            foreach (var name in new[] { "insert_lsn", "flush_lsn", "replay_lsn", "receive_lsn", "streaming", "replay_paused", "receiver_error", "restartpoints" })
            {
                if (root.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null)
                    Console.WriteLine($"{name + ":",-13}{value}");
            }
            foreach (var s in root.GetProperty("replication").EnumerateArray())
                Console.WriteLine($"walsender {s.GetProperty("application_name")} {s.GetProperty("client_addr")} state={s.GetProperty("state")} sent={s.GetProperty("sent_lsn")} write={s.GetProperty("write_lsn")} flush={s.GetProperty("flush_lsn")} replay={s.GetProperty("replay_lsn")} " +
                    $"write_lag_ms={s.GetProperty("write_lag_ms")} flush_lag_ms={s.GetProperty("flush_lag_ms")} replay_lag_ms={s.GetProperty("replay_lag_ms")}{(s.TryGetProperty("sync_state", out var sync) ? $" sync_state={sync}" : "")}");
            foreach (var s in root.GetProperty("slots").EnumerateArray())
                Console.WriteLine($"slot {s.GetProperty("slot_name")} active={s.GetProperty("active")} restart_lsn={s.GetProperty("restart_lsn")} wal_status={s.GetProperty("wal_status")}");
            return stale ? ExitCodes.Runtime : ExitCodes.Success;
        }));
        return command;
    }
}
