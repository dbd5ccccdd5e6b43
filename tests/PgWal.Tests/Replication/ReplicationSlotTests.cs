// Replication slots on disk and in retention: the state file is PostgreSQL 15's (200 bytes, magic,
// CRC-32C, version 2), written at creation and, once restart_lsn moved, at the next checkpoint;
// slots survive a restart; a damaged state file stops the open and names the file; the WAL a slot
// needs survives checkpoints; with max_slot_wal_keep_size a slot too far behind is invalidated
// (lost) instead of keeping WAL without bound. The replication metrics report walsenders and slots.
using System.Buffers.Binary;
using System.Diagnostics.Metrics;
using PgWal.Format;

namespace PgWal.Tests.Replication;

public sealed class ReplicationSlotTests
{
    [Fact]
    public void SlotsPersistInPostgresLayout_KeepTheirWal_AndADamagedStateFileIsNamed()
    {
        using var f = new WalSenderFixture();
        var slots = f.Instance.Slots!;
        slots.Create("keep", temporary: false, f.Instance.Wal.RedoPointer, ownerPid: 1);
        string state = Path.Combine(f.Data, "pg_replslot", "keep", "state");
        var bytes = File.ReadAllBytes(state);
        Assert.Equal(ReplicationSlotFile.Size, bytes.Length);
        Assert.Equal(0x01051CA1u, BinaryPrimitives.ReadUInt32LittleEndian(bytes));
        Assert.Equal(Crc32C.Compute(bytes.AsSpan(8)), BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(4)));
        Assert.Equal(2u, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(8)));
        Assert.Equal(184u, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(12)));
        Assert.Equal("keep", System.Text.Encoding.ASCII.GetString(bytes, 16, 4));
        Assert.Equal(f.Instance.Wal.RedoPointer.Value, BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(96)));

        // WAL behind the slot survives checkpoints; restart_lsn moves in memory, then on disk at a checkpoint.
        Lsn held = f.Instance.Wal.RedoPointer;
        f.Write(6 * WalSenderFixture.SegmentSize);
        f.Instance.Checkpoint();
        f.Instance.Checkpoint();
        string needed = SegmentFileName.Format(TimelineId.First, WalSenderFixture.Geometry.SegmentOf(held), WalSenderFixture.Geometry);
        Assert.True(File.Exists(Path.Combine(f.Data, "pg_wal", needed)), $"{needed} was removed although slot \"keep\" needs it");
        Lsn moved = WalSenderFixture.Geometry.SegmentStart(new SegmentNumber(5));
        slots.ConfirmFlush("keep", moved);
        Assert.Equal(held.Value, BinaryPrimitives.ReadUInt64LittleEndian(File.ReadAllBytes(state).AsSpan(96)));
        f.Instance.Checkpoint();
        Assert.Equal(moved.Value, BinaryPrimitives.ReadUInt64LittleEndian(File.ReadAllBytes(state).AsSpan(96)));
        Assert.False(File.Exists(Path.Combine(f.Data, "pg_wal", needed)), "the slot let go of the old WAL, which should now be recycled");

        // A temporary slot is never written; the persistent one survives a restart.
        slots.Create("temp", temporary: true, Lsn.Invalid, ownerPid: 1);
        Assert.False(Directory.Exists(Path.Combine(f.Data, "pg_replslot", "temp")));
        f.Restart();
        Assert.Equal(moved, f.Instance.Slots!.Find("keep")!.RestartLsn);
        Assert.Null(f.Instance.Slots.Find("temp"));

        // Damage is named, not ignored.
        f.Instance.Dispose();
        bytes = File.ReadAllBytes(state);
        bytes[100] ^= 1;
        File.WriteAllBytes(state, bytes);
        var e = Assert.Throws<InvalidDataException>(() => WalInstance.Open(f.Data, f.Options with { WalSender = null }).Dispose());
        Assert.Contains($"checksum mismatch for replication slot file \"{state}\"", e.Message);
        bytes[0] ^= 1;
        File.WriteAllBytes(state, bytes);
        e = Assert.Throws<InvalidDataException>(() => WalInstance.Open(f.Data, f.Options with { WalSender = null }).Dispose());
        Assert.Contains("has wrong magic number", e.Message);
        bytes[0] ^= 1;
        bytes[100] ^= 1;
        File.WriteAllBytes(state, bytes);
        f.Restart();   // repaired: opens again
    }

    [Fact]
    public void MaxSlotWalKeepSize_InvalidatesASlotTooFarBehind_AndTheWalIsRemoved()
    {
        using var f = new WalSenderFixture(maxSlotWalKeepSize: 2 * WalSenderFixture.SegmentSize);
        var slots = f.Instance.Slots!;
        slots.Create("laggard", temporary: false, f.Instance.Wal.RedoPointer, ownerPid: 1);
        slots.Create("idle", temporary: false, Lsn.Invalid, ownerPid: 1);
        Lsn was = slots.Find("laggard")!.RestartLsn;
        var fresh = f.Instance.ReplicationSlotStatus().Single(s => s.Slot.Name == "laggard");
        Assert.Equal("reserved", fresh.WalStatus);
        Assert.True(fresh.SafeWalSize > WalSenderFixture.SegmentSize, $"safe_wal_size {fresh.SafeWalSize}");
        Assert.Null(f.Instance.ReplicationSlotStatus().Single(s => s.Slot.Name == "idle").WalStatus);
        f.Write(3 * WalSenderFixture.SegmentSize + WalSenderFixture.SegmentSize / 2);   // past its 2 MB, short of a checkpoint
        var behind = f.Instance.ReplicationSlotStatus().Single(s => s.Slot.Name == "laggard");
        Assert.Equal("unreserved", behind.WalStatus);   // its WAL is still there, but past what it may keep
        Assert.True(behind.SafeWalSize < 0, $"safe_wal_size {behind.SafeWalSize}");
        f.Write(3 * WalSenderFixture.SegmentSize);
        f.Instance.Checkpoint();
        Assert.Equal("lost", f.Instance.ReplicationSlotStatus().Single(s => s.Slot.Name == "laggard").WalStatus);
        var lost = slots.Find("laggard")!;
        Assert.False(lost.RestartLsn.IsValid);
        Assert.Equal(was, lost.InvalidatedAt);
        int kept = Directory.GetFiles(Path.Combine(f.Data, "pg_wal")).Count(p => SegmentFileName.IsSegmentFileName(Path.GetFileName(p)) && Path.GetFileName(p).CompareTo(SegmentFileName.Format(TimelineId.First, WalSenderFixture.Geometry.SegmentOf(f.Instance.Wal.RedoPointer), WalSenderFixture.Geometry)) < 0);
        Assert.True(kept <= 2, $"{kept} segments before the redo point are still kept");
        f.Restart();
        Assert.Equal(was, f.Instance.Slots!.Find("laggard")!.InvalidatedAt);
    }

    [Fact]
    public void ReplicationMetrics_ReportSlotsAndSenders()
    {
        using var f = new WalSenderFixture();
        f.Instance.Slots!.Create("metered", temporary: false, f.Instance.Wal.RedoPointer, ownerPid: 1);
        f.Write(WalSenderFixture.SegmentSize);
        var seen = new Dictionary<string, long>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Name.StartsWith("pgwal.replication.", StringComparison.Ordinal))
                l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            string name = instrument.Name;
            foreach (var tag in tags)
                if (tag.Key == "pgwal.slot.name")
                    name += ":" + tag.Value;
            seen[name] = value;
        });
        listener.SetMeasurementEventCallback<int>((instrument, value, _, _) => seen[instrument.Name] = value);
        listener.Start();
        listener.RecordObservableInstruments();
        Assert.Equal(0, seen["pgwal.replication.senders"]);
        Assert.True(seen["pgwal.replication.slot_retained:metered"] >= WalSenderFixture.SegmentSize, string.Join(", ", seen));
    }
}
