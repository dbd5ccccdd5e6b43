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
        var server = new WalSenderServer(this, _storage, options,
            _options.Wal.LoggerFactory?.CreateLogger("PgWal.WalSender") ?? Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
        if (Interlocked.CompareExchange(ref _walSender, server, null) != null)
        {
            server.Dispose();
            throw new InvalidOperationException("the walsender server is already running");
        }
        SyncRep.Attach(server);   // from now on commits may wait for synchronous standbys
        return server;
    }

    /// <summary>
    /// pg_replication_slots: every slot with PostgreSQL's wal_status (reserved, extended,
    /// unreserved, lost; null while it reserves nothing) and safe_wal_size (null without a
    /// max_slot_wal_keep_size, or when lost).
    /// </summary>
    public IReadOnlyList<ReplicationSlotStatus> ReplicationSlotStatus()
    {
        if (_slots == null)
            return [];
        var geometry = Wal.Geometry;
        ulong segmentSize = (ulong)geometry.SegmentSize;
        ulong current = geometry.SegmentOf(Wal.InsertedUpTo).Value;
        ulong maxWalSegments = (ulong)Math.Max(1, _options.MaxWalSize / geometry.SegmentSize);
        ulong maxWalSizeSegment = current > maxWalSegments + 1 ? current - (maxWalSegments + 1) : 1;
        long limit = _options.MaxSlotWalKeepSize;
        ulong slotKeepSegment = _slots.RequiredLsn() is { IsValid: true } required ? geometry.SegmentOf(required).Value : current;
        if (limit >= 0 && current - slotKeepSegment > (ulong)limit / segmentSize)
            slotKeepSegment = current - (ulong)limit / segmentSize;
        ulong oldest = OldestSegmentOnDisk(geometry) ?? current;
        var result = new List<ReplicationSlotStatus>();
        foreach (var slot in _slots.Snapshot())
        {
            string? status;
            long? safe = null;
            if (!slot.RestartLsn.IsValid)
            {
                status = slot.InvalidatedAt.IsValid ? "lost" : null;
            }
            else
            {
                ulong target = geometry.SegmentOf(slot.RestartLsn).Value;
                status = target >= slotKeepSegment ? (target >= maxWalSizeSegment ? "reserved" : "extended")
                    : target >= oldest || slot.Active ? "unreserved" : "lost";
                if (limit >= 0 && status != "lost")
                {
                    ulong keep = Math.Max((ulong)limit / segmentSize, (ulong)_options.WalKeepSize / segmentSize);
                    safe = (long)geometry.SegmentStart(new SegmentNumber(target + keep + 1)).Value - (long)Wal.InsertedUpTo.Value;
                }
            }
            result.Add(new ReplicationSlotStatus(slot, status, safe));
        }
        return result;
    }

    private ulong? OldestSegmentOnDisk(Format.WalGeometry geometry)
    {
        ulong? oldest = null;
        foreach (var name in _storage.Wal.ListFiles())
        {
            if (Format.SegmentFileName.TryParse(name, geometry, out _, out var segment) && (oldest == null || segment.Value < oldest))
                oldest = segment.Value;
        }
        return oldest;
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

/// <summary>A slot as pg_replication_slots shows it.</summary>
/// <param name="Slot">The slot.</param>
/// <param name="WalStatus">reserved, extended, unreserved or lost; null while it reserves no WAL.</param>
/// <param name="SafeWalSize">Bytes that may still be written before the slot is lost; null without max_slot_wal_keep_size or when lost.</param>
public sealed record ReplicationSlotStatus(ReplicationSlotInfo Slot, string? WalStatus, long? SafeWalSize);
