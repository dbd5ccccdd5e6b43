// The short replication commands, with PostgreSQL 15's exact result shapes (column names, type
// OIDs, typlen and typmod as captured from a real server): IDENTIFY_SYSTEM, SHOW,
// TIMELINE_HISTORY, CREATE/DROP/READ_REPLICATION_SLOT. START_REPLICATION and BASE_BACKUP have
// their own files.
using System.Globalization;
using System.Text;
using PgWal.Timelines;

namespace PgWal.Replication.Server;

internal sealed partial class WalSenderSession
{
    private const int TextOid = 25, Int4Oid = 23, Int8Oid = 20, OidOid = 26;

    // False when the command ended the connection (server shutdown while streaming).
    private async Task<bool> ExecuteAsync(ReplicationCommand command, CancellationToken cancellation)
    {
        var w = _connection.Writer;
        switch (command)
        {
            case IdentifySystemCommand:
                w.RowDescription(("systemid", TextOid, -1, -1), ("timeline", Int4Oid, 4, -1), ("xlogpos", TextOid, -1, -1), ("dbname", TextOid, -1, -1));
                w.DataRow(_server.SystemIdentifier.ToString(CultureInfo.InvariantCulture), _server.Timeline.Value.ToString(CultureInfo.InvariantCulture),
                    _server.FlushedUpTo.ToString(), null);
                return true;
            case ShowCommand show:
                var (name, value) = Setting(show.Name);
                w.RowDescription((name, TextOid, -1, -1));
                w.DataRow(value);
                return true;
            case TimelineHistoryCommand history:
                w.RowDescription(("filename", TextOid, -1, 0), ("content", TextOid, -1, 0));
                string file = TimelineHistory.FileName(new TimelineId(history.Timeline));
                var content = _server.ReadWalFile(file)
                    ?? throw new ReplicationError("58P01", $"could not open file \"pg_wal/{file}\": No such file or directory");
                w.DataRow(file, Encoding.UTF8.GetString(content));
                return true;
            case CreateSlotCommand create:
                CreateSlot(create);
                return true;
            case DropSlotCommand drop:
                await RequireSlots().DropAsync(drop.Name, drop.Wait, Pid, cancellation).ConfigureAwait(false);
                return true;
            case ReadSlotCommand read:
                ReadSlot(read.Name);
                return true;
            case StartReplicationCommand start:
                return await StreamAsync(start, cancellation).ConfigureAwait(false);
            case BaseBackupCommand backup:
                await BaseBackupAsync(backup, cancellation).ConfigureAwait(false);
                return true;
            default:
                throw ReplicationError.Syntax();
        }
    }

    private Slots.ReplicationSlots RequireSlots()
        => _server.Slots ?? throw new ReplicationError("55000", "replication slots can only be used if max_replication_slots > 0");

    private void CreateSlot(CreateSlotCommand create)
    {
        if (create.LogicalPlugin != null)
            throw new ReplicationError("0A000", "PgWal serves physical replication only: logical replication slots are not supported");
        var slots = RequireSlots();
        Lsn reserve = create.ReserveWal ? _server.RedoPointer : Lsn.Invalid;
        slots.Create(create.Name, create.Temporary, reserve, Pid);
        var w = _connection.Writer;
        w.RowDescription(("slot_name", TextOid, -1, -1), ("consistent_point", TextOid, -1, -1), ("snapshot_name", TextOid, -1, -1), ("output_plugin", TextOid, -1, -1));
        w.DataRow(create.Name, "0/0", null, null);
    }

    private void ReadSlot(string name)
    {
        var w = _connection.Writer;
        var slot = RequireSlots().Find(name);
        w.RowDescription(("slot_type", TextOid, -1, -1), ("restart_lsn", TextOid, -1, -1), ("restart_tli", Int8Oid, 8, -1));
        if (slot == null)
        {
            w.DataRow(null, null, null);
            return;
        }
        string? tli = null;
        if (slot.RestartLsn.IsValid)
        {
            var history = _server.CurrentHistory();
            var entry = history.Entries.FirstOrDefault(e => e.Contains(slot.RestartLsn));
            tli = (entry.Timeline.IsValid ? entry.Timeline : history.Target).Value.ToString(CultureInfo.InvariantCulture);
        }
        w.DataRow("physical", slot.RestartLsn.IsValid ? slot.RestartLsn.ToString() : null, tli);
    }

    // SHOW: the value as SQL's SHOW prints it, units included (the tools parse "16MB").
    private (string Name, string Value) Setting(string name)
    {
        var o = _server.Options;
        string? value = name switch
        {
            "wal_segment_size" => Bytes(_server.Geometry.SegmentSize),
            "data_directory_mode" => "0" + Convert.ToString(o.DataDirectoryMode, 8),
            "server_version" => o.ServerVersion,
            "server_version_num" => ServerVersionNumber(o.ServerVersion),
            "server_encoding" => "SQL_ASCII",
            "integer_datetimes" => "on",
            "max_wal_senders" => o.MaxWalSenders.ToString(CultureInfo.InvariantCulture),
            "max_replication_slots" => (_server.Slots?.Capacity ?? 0).ToString(CultureInfo.InvariantCulture),
            "wal_sender_timeout" => o.WalSenderTimeout.TotalMilliseconds % 1000 == 0 ? $"{(long)o.WalSenderTimeout.TotalSeconds}s" : $"{(long)o.WalSenderTimeout.TotalMilliseconds}ms",
            "wal_level" => "replica",
            "wal_block_size" or "block_size" => "8192",
            "timezone" => "Etc/UTC",
            _ => null,
        };
        if (value == null)
            throw new ReplicationError("42704", $"unrecognized configuration parameter \"{name}\"");
        return (name == "timezone" ? "TimeZone" : name, value);
    }

    private static string Bytes(int bytes)
        => bytes % (1 << 30) == 0 ? $"{bytes >> 30}GB" : bytes % (1 << 20) == 0 ? $"{bytes >> 20}MB" : bytes % 1024 == 0 ? $"{bytes >> 10}kB" : $"{bytes}B";

    private static string ServerVersionNumber(string version)
    {
        var parts = version.Split(' ')[0].Split('.');
        int major = int.Parse(parts[0], CultureInfo.InvariantCulture);
        int minor = parts.Length > 1 && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int m) ? m : 0;
        return (major * 10000 + minor).ToString(CultureInfo.InvariantCulture);
    }
}
