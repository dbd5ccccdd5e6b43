// ServerStatusFile: what a running `pgwal kv serve` / `pgwal kv standby` publishes about itself
// for `pgwal status`, in pgwal_status.json in its data directory, rewritten every second
// (written whole, then renamed over the old one): its role and positions, and the issue-9
// metrics — pg_stat_replication's rows on a primary, pg_stat_wal_receiver's on a standby, and
// the slots. A file not rewritten for a while belongs to a server that is gone.
using System.Globalization;
using System.Text.Json;
using PgWal.Kv;

namespace PgWal.Cli.Standby;

internal sealed class ServerStatusFile : IDisposable
{
    public const string FileName = "pgwal_status.json";
    private readonly KvStore _store;
    private readonly string _path;
    private readonly Timer _timer;
    private readonly string _name;
    private int _writing;

    public ServerStatusFile(KvStore store, string name)
    {
        _store = store;
        _name = name;
        _path = Path.Combine(store.Instance.Location, FileName);
        _timer = new Timer(_ => Write(), null, TimeSpan.Zero, TimeSpan.FromSeconds(1));
    }

    public void Write()
    {
        if (Interlocked.Exchange(ref _writing, 1) != 0)
            return;
        try
        {
            string temp = _path + ".tmp";
            using (var stream = File.Create(temp))
                Render(stream, _store.Instance, _name);
            File.Move(temp, _path, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException or ObjectDisposedException)
        {
            // shutting down, or the disk is full: the next tick tries again
        }
        finally
        {
            Volatile.Write(ref _writing, 0);
        }
    }

    private static void Render(Stream stream, WalInstance instance, string name)
    {
        using var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
        json.WriteStartObject();
        json.WriteString("name", name);
        json.WriteNumber("pid", Environment.ProcessId);
        json.WriteString("updated", DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture));
        json.WriteString("data_directory", instance.Location);
        bool standby = instance.IsStandby;
        json.WriteString("role", standby ? "standby" : "primary");
        json.WriteNumber("timeline", standby ? instance.ReplayTimeline.Value : instance.Wal.Options.Timeline.Value);
        if (standby)
        {
            json.WriteString("replay_lsn", instance.ReplayedUpTo.ToString());
            json.WriteString("receive_lsn", instance.ReceivedUpTo.IsValid ? instance.ReceivedUpTo.ToString() : null);
            json.WriteBoolean("streaming", instance.IsStreaming);
            json.WriteBoolean("replay_paused", instance.IsReplayPaused);
            json.WriteString("receiver_error", instance.StandbyStreamError);
            json.WriteNumber("restartpoints", instance.RestartpointsCompleted);
        }
        else
        {
            json.WriteString("insert_lsn", instance.Wal.InsertedUpTo.ToString());
            json.WriteString("flush_lsn", instance.Wal.FlushedUpTo.ToString());
        }
        json.WriteStartArray("replication");
        foreach (var s in instance.WalSender?.Snapshot() ?? [])
        {
            json.WriteStartObject();
            json.WriteNumber("pid", s.Pid);
            json.WriteString("application_name", s.ApplicationName);
            json.WriteString("client_addr", $"{s.ClientAddress}:{s.ClientPort}");
            json.WriteString("state", s.State);
            Position(json, "sent_lsn", s.SentLsn);
            Position(json, "write_lsn", s.WriteLsn);
            Position(json, "flush_lsn", s.FlushLsn);
            Position(json, "replay_lsn", s.ReplayLsn);
            Lag(json, "write_lag_ms", s.WriteLag);
            Lag(json, "flush_lag_ms", s.FlushLag);
            Lag(json, "replay_lag_ms", s.ReplayLag);
            json.WriteString("slot", s.Slot);
            json.WriteNumber("sync_priority", s.SyncPriority);
            json.WriteString("sync_state", s.SyncState);
            json.WriteEndObject();
        }
        json.WriteEndArray();
        json.WriteStartArray("slots");
        foreach (var (slot, walStatus, _) in standby ? [] : instance.ReplicationSlotStatus())
        {
            json.WriteStartObject();
            json.WriteString("slot_name", slot.Name);
            json.WriteBoolean("active", slot.Active);
            Position(json, "restart_lsn", slot.RestartLsn);
            json.WriteString("wal_status", walStatus);
            json.WriteEndObject();
        }
        json.WriteEndArray();
        json.WriteEndObject();
    }

    private static void Position(Utf8JsonWriter json, string name, Lsn lsn)
    {
        if (lsn.IsValid)
            json.WriteString(name, lsn.ToString());
        else
            json.WriteNull(name);
    }

    private static void Lag(Utf8JsonWriter json, string name, TimeSpan? lag)
    {
        if (lag is { } l)
            json.WriteNumber(name, Math.Round(l.TotalMilliseconds, 3));
        else
            json.WriteNull(name);
    }

    public void Dispose()
    {
        _timer.Dispose();
        try
        {
            File.Delete(_path);
        }
        catch (IOException)
        {
        }
    }
}
