// WalInstance.Replication: replication slots and the walsender server. Slots are loaded when the
// instance opens (a damaged state file stops the open, naming the file) and keep their WAL from
// the recycler; the walsender starts with the instance when WalInstanceOptions.WalSender is set
// (or later, StartWalSender) and at a clean close lets streaming clients take the WAL up to the
// shutdown checkpoint first.
using Microsoft.Extensions.Logging;
using PgWal.Replication.Server;
using PgWal.Replication.Slots;

namespace PgWal;

public sealed partial class WalInstance
{
    private ReplicationSlots? _slots;          // null when read-only or max_replication_slots = 0
    private WalSenderServer? _walSender;       // set once

    /// <summary>The replication slots (pg_replication_slots); null when read-only or max_replication_slots is 0.</summary>
    public ReplicationSlots? Slots => _slots;

    /// <summary>The walsender server, once started.</summary>
    public WalSenderServer? WalSender => Volatile.Read(ref _walSender);

    private ReplicationSlots? LoadSlots(Storage.IDataDirectoryStorage storage, WalInstanceOptions options)
        => options.MaxReplicationSlots == 0 ? null : new ReplicationSlots(storage.Slots, options.MaxReplicationSlots, _logger);

    /// <summary>
    /// Starts serving PostgreSQL's streaming replication protocol (pg_receivewal, pg_basebackup,
    /// a standby, Npgsql's replication API) with <paramref name="options"/>.
    /// </summary>
    /// <exception cref="InvalidOperationException">It is already started, or the instance is read-only.</exception>
    /// <exception cref="IOException">The address cannot be listened on.</exception>
    public WalSenderServer StartWalSender(WalSenderOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var server = new WalSenderServer(this, _storage, _slots, options,
            _options.Wal.LoggerFactory?.CreateLogger("PgWal.WalSender") ?? Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
        if (Interlocked.CompareExchange(ref _walSender, server, null) != null)
        {
            server.Dispose();
            throw new InvalidOperationException("the walsender server is already running");
        }
        return server;
    }

    private void SlotsInvalidated(IReadOnlyList<(string Slot, int ActivePid)> lost)
    {
        foreach (var (slot, pid) in lost)
        {
            if (pid != 0)
                WalSender?.Terminate(pid, $"replication slot \"{slot}\" was invalidated (max_slot_wal_keep_size)");
        }
    }
}
