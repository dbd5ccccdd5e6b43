// ReplicationSlots: PostgreSQL 15's physical replication slots (slot.c). A slot remembers the
// oldest WAL its consumer still needs (restart_lsn), so that WAL is kept across checkpoints and
// restarts even while the consumer is away. Persistent slots are written to pg_replslot when
// created and, once their restart_lsn moved, at the next checkpoint (the state written there is
// what retention uses, so a crash never leaves a slot pointing at removed WAL); temporary slots
// live in memory with the session that made them. max_slot_wal_keep_size caps what a slot can keep:
// a slot further behind is invalidated ("lost") at a checkpoint rather than filling the disk.
//
// Locking: every field of every slot is guarded by _lock; storage writes happen under it too
// (they are rare: create, drop, checkpoint).
using Microsoft.Extensions.Logging;
using PgWal.Format;
using PgWal.Replication.Server;
using PgWal.Storage;

namespace PgWal.Replication.Slots;

/// <summary>One replication slot (a snapshot of it, as pg_replication_slots shows).</summary>
/// <param name="Name">The slot's name.</param>
/// <param name="Temporary">Dropped when its session ends.</param>
/// <param name="Active">A walsender is using it.</param>
/// <param name="ActivePid">That walsender's process id (0 when inactive).</param>
/// <param name="RestartLsn">The oldest WAL kept for it (Invalid: none yet, or lost).</param>
/// <param name="InvalidatedAt">Its restart_lsn when max_slot_wal_keep_size invalidated it (Invalid: never).</param>
/// <param name="Xmin">Hot-standby feedback's xmin (0: none).</param>
public sealed record ReplicationSlotInfo(string Name, bool Temporary, bool Active, int ActivePid, Lsn RestartLsn, Lsn InvalidatedAt, uint Xmin);

/// <summary>The replication slots of one instance.</summary>
public sealed class ReplicationSlots
{
    private sealed class Slot
    {
        public required string Name;
        public bool Temporary;
        public Lsn RestartLsn;
        public Lsn SavedRestartLsn;     // what pg_replslot says; retention keeps from the older of the two
        public Lsn InvalidatedAt;
        public uint Xmin;
        public int ActivePid;           // 0: not in use
        public int OwnerPid;            // temporary slots: the session that created it
        public bool Dirty;
    }

    private readonly object _lock = new();
    private readonly Dictionary<string, Slot> _slots = new(StringComparer.Ordinal);
    private readonly ISlotStorage? _storage;
    private readonly int _max;
    private readonly ILogger _logger;

    /// <summary>Loads the persistent slots from <paramref name="storage"/> (null: none are kept on disk).</summary>
    /// <exception cref="InvalidDataException">A state file is damaged: the message names it (PostgreSQL stops with PANIC).</exception>
    public ReplicationSlots(ISlotStorage? storage, int maxSlots, ILogger logger)
    {
        _storage = storage;
        _max = maxSlots;
        _logger = logger;
        if (storage == null)
            return;
        foreach (var name in storage.ListAndCleanUp())
        {
            string path = Path.Combine(storage.Location, name, "state");
            var bytes = storage.ReadState(name) ?? throw new InvalidDataException($"replication slot directory \"{Path.Combine(storage.Location, name)}\" has no state file");
            var data = ReplicationSlotFile.Decode(bytes, path);
            if (data.Persistency != SlotPersistency.Persistent)
            {
                storage.Delete(name);   // RestoreSlotFromDisk: ephemeral leftovers go
                continue;
            }
            if (data.DatabaseOid != 0 || data.Plugin.Length > 0)
                throw new InvalidDataException($"replication slot file \"{path}\" is a logical slot (plugin \"{data.Plugin}\"), which PgWal does not serve; drop it with PostgreSQL or remove the directory");
            if (data.Name != name)
                throw new InvalidDataException($"replication slot file \"{path}\" names slot \"{data.Name}\", not \"{name}\"");
            if (_slots.Count >= maxSlots)
                throw new InvalidDataException($"too many replication slots active before shutdown: {_slots.Count + 1} in \"{storage.Location}\" (increase max_replication_slots, now {maxSlots})");
            _slots[name] = new Slot { Name = name, RestartLsn = data.RestartLsn, SavedRestartLsn = data.RestartLsn, InvalidatedAt = data.InvalidatedAt, Xmin = data.Xmin };
        }
    }

    /// <summary>max_replication_slots.</summary>
    public int Capacity => _max;

    /// <summary>ReplicationSlotValidateName.</summary>
    /// <exception cref="ReplicationError">Empty, longer than 63 bytes, or not of [a-z0-9_].</exception>
    public static void ValidateName(string name)
    {
        if (name.Length == 0)
            throw new ReplicationError("42602", $"replication slot name \"{name}\" is too short");
        if (name.Length >= 64)
            throw new ReplicationError("42622", $"replication slot name \"{name}\" is too long");
        foreach (char c in name)
        {
            if (c is not ((>= 'a' and <= 'z') or (>= '0' and <= '9') or '_'))
                throw new ReplicationError("42602", $"replication slot name \"{name}\" contains invalid character",
                    "Replication slot names may only contain lower case letters, numbers, and the underscore character.");
        }
    }

    /// <summary>CREATE_REPLICATION_SLOT name [TEMPORARY] PHYSICAL [RESERVE_WAL].</summary>
    /// <param name="name">The slot's name.</param>
    /// <param name="temporary">Dropped when session <paramref name="ownerPid"/> ends.</param>
    /// <param name="reserveAt">RESERVE_WAL: the redo pointer of the last checkpoint; Invalid: reserve nothing yet.</param>
    /// <param name="ownerPid">The creating session.</param>
    /// <exception cref="ReplicationError">Bad name, it exists, or all slots are in use.</exception>
    public void Create(string name, bool temporary, Lsn reserveAt, int ownerPid)
    {
        ValidateName(name);
        lock (_lock)
        {
            if (_slots.ContainsKey(name))
                throw new ReplicationError("42710", $"replication slot \"{name}\" already exists");
            if (_slots.Count >= _max)
                throw new ReplicationError("53400", "all replication slots are in use", "Free one or increase max_replication_slots.");
            var slot = new Slot { Name = name, Temporary = temporary, RestartLsn = reserveAt, SavedRestartLsn = reserveAt, OwnerPid = temporary ? ownerPid : 0 };
            if (!temporary)
            {
                if (_storage == null)
                    throw new ReplicationError("55000", "replication slots can only be kept by a data directory on disk");
                _storage.Create(name, ReplicationSlotFile.Encode(ToData(slot)));
            }
            _slots[name] = slot;
        }
        _logger.LogInformation("created replication slot \"{Slot}\"{Temporary}", name, temporary ? " (temporary)" : "");
    }

    /// <summary>DROP_REPLICATION_SLOT: with <paramref name="wait"/>, waits until its user lets go.</summary>
    /// <exception cref="ReplicationError">It does not exist, or another session uses it and <paramref name="wait"/> is off.</exception>
    public async ValueTask DropAsync(string name, bool wait, int pid, CancellationToken cancellation)
    {
        while (true)
        {
            lock (_lock)
            {
                if (!_slots.TryGetValue(name, out var slot))
                    throw new ReplicationError("42704", $"replication slot \"{name}\" does not exist");
                if (slot.ActivePid == 0 || slot.ActivePid == pid)
                {
                    if (!slot.Temporary)
                        _storage!.Delete(name);
                    _slots.Remove(name);
                    break;
                }
                if (!wait)
                    throw new ReplicationError("55006", $"replication slot \"{name}\" is active for PID {slot.ActivePid}");
            }
            await Task.Delay(50, cancellation).ConfigureAwait(false);
        }
        _logger.LogInformation("dropped replication slot \"{Slot}\"", name);
    }

    /// <summary>A slot's current state; null when there is none of that name.</summary>
    public ReplicationSlotInfo? Find(string name)
    {
        lock (_lock)
            return _slots.TryGetValue(name, out var slot) ? Info(slot) : null;
    }

    /// <summary>Every slot, by name.</summary>
    public IReadOnlyList<ReplicationSlotInfo> Snapshot()
    {
        lock (_lock)
            return _slots.Values.OrderBy(s => s.Name, StringComparer.Ordinal).Select(Info).ToList();
    }

    private static ReplicationSlotInfo Info(Slot s) => new(s.Name, s.Temporary, s.ActivePid != 0, s.ActivePid, s.RestartLsn, s.InvalidatedAt, s.Xmin);

    /// <summary>ReplicationSlotAcquire without waiting: session <paramref name="pid"/> starts using it.</summary>
    /// <exception cref="ReplicationError">It does not exist (42704) or is in use (55006).</exception>
    public void Acquire(string name, int pid)
    {
        lock (_lock)
        {
            if (!_slots.TryGetValue(name, out var slot))
                throw new ReplicationError("42704", $"replication slot \"{name}\" does not exist");
            if (slot.ActivePid != 0 && slot.ActivePid != pid)
                throw new ReplicationError("55006", $"replication slot \"{name}\" is active for PID {slot.ActivePid}");
            slot.ActivePid = pid;
        }
    }

    /// <summary>Session <paramref name="pid"/> stops using <paramref name="name"/>.</summary>
    public void Release(string name, int pid)
    {
        lock (_lock)
        {
            if (_slots.TryGetValue(name, out var slot) && slot.ActivePid == pid)
                slot.ActivePid = 0;
        }
    }

    /// <summary>
    /// ReplicationSlotCleanup: session <paramref name="pid"/> ended or raised an ERROR; its temporary
    /// slots go, the others it used are released.
    /// </summary>
    public void ReleaseSession(int pid)
    {
        List<string> dropped = [];
        lock (_lock)
        {
            foreach (var slot in _slots.Values.ToList())
            {
                if (slot.Temporary && slot.OwnerPid == pid)
                {
                    _slots.Remove(slot.Name);
                    dropped.Add(slot.Name);
                }
                else if (slot.ActivePid == pid)
                {
                    slot.ActivePid = 0;
                }
            }
        }
        foreach (var name in dropped)
            _logger.LogInformation("dropped temporary replication slot \"{Slot}\" with its session", name);
    }

    /// <summary>
    /// PhysicalConfirmReceivedLocation: a standby using <paramref name="name"/> reported flushing up
    /// to <paramref name="flush"/>; restart_lsn follows it (also backwards, as PostgreSQL's).
    /// </summary>
    public void ConfirmFlush(string name, Lsn flush, uint xmin = 0)
    {
        if (!flush.IsValid)
            return;
        lock (_lock)
        {
            if (!_slots.TryGetValue(name, out var slot) || slot.RestartLsn == flush)
                return;
            slot.RestartLsn = flush;
            slot.Xmin = xmin;
            slot.Dirty = true;
        }
    }

    /// <summary>CheckPointReplicationSlots: writes every slot whose state moved since it was last written.</summary>
    public void SaveDirty()
    {
        lock (_lock)
        {
            foreach (var slot in _slots.Values)
            {
                if (!slot.Dirty)
                    continue;
                if (!slot.Temporary)
                    _storage?.Save(slot.Name, ReplicationSlotFile.Encode(ToData(slot)));
                slot.SavedRestartLsn = slot.RestartLsn;
                slot.Dirty = false;
            }
        }
    }

    /// <summary>
    /// ReplicationSlotsComputeRequiredLSN: the oldest WAL any slot needs (of what is saved and what
    /// is in memory), or Invalid.
    /// </summary>
    public Lsn RequiredLsn()
    {
        lock (_lock)
        {
            Lsn min = Lsn.Invalid;
            foreach (var slot in _slots.Values)
            {
                foreach (var lsn in (ReadOnlySpan<Lsn>)[slot.RestartLsn, slot.SavedRestartLsn])
                {
                    if (lsn.IsValid && (!min.IsValid || lsn < min))
                        min = lsn;
                }
            }
            return min;
        }
    }

    /// <summary>
    /// InvalidateObsoleteReplicationSlots: slots whose restart_lsn is before <paramref name="oldestKept"/>
    /// lose it (restart_lsn becomes invalid, invalidated_at remembers it), durably. Returns the
    /// process ids of walsenders that used them (to be terminated) and the slots' names.
    /// </summary>
    public IReadOnlyList<(string Name, int ActivePid)> InvalidateBefore(Lsn oldestKept, long maxSlotWalKeepSizeMb)
    {
        var invalidated = new List<(string, int)>();
        lock (_lock)
        {
            foreach (var slot in _slots.Values)
            {
                Lsn restart = slot.RestartLsn.IsValid && slot.SavedRestartLsn.IsValid ? Lsn.Min(slot.RestartLsn, slot.SavedRestartLsn) : slot.RestartLsn;
                if (!restart.IsValid || restart >= oldestKept)
                    continue;
                _logger.LogWarning("invalidating slot \"{Slot}\" because its restart_lsn {Restart} exceeds max_slot_wal_keep_size ({Max} MB)", slot.Name, restart, maxSlotWalKeepSizeMb);
                slot.InvalidatedAt = restart;
                slot.RestartLsn = Lsn.Invalid;
                slot.SavedRestartLsn = Lsn.Invalid;
                slot.Dirty = false;
                if (!slot.Temporary)
                    _storage?.Save(slot.Name, ReplicationSlotFile.Encode(ToData(slot)));
                invalidated.Add((slot.Name, slot.ActivePid));
            }
        }
        return invalidated;
    }

    private static SlotStateData ToData(Slot s)
        => new(s.Name, 0, s.Temporary ? SlotPersistency.Temporary : SlotPersistency.Persistent, s.Xmin, 0, s.RestartLsn, s.InvalidatedAt, Lsn.Invalid, Lsn.Invalid, false, "");
}
