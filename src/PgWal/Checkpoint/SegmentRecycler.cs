// SegmentRecycler: RemoveOldXlogFiles + XLOGfileslop. After a checkpoint, segments wholly before
// its redo point (minus wal_keep_size) are not needed by crash recovery any more; up to the
// recycling target they are renamed to future segment names (saving the zero-fill of new ones),
// the rest are removed. Keeps min_wal_size..max_wal_size worth of segments, sized by an estimate
// of the distance between checkpoints (CheckPointDistanceEstimate). With archiving on, a segment
// is removed or recycled only once archived (XLogArchiveCheckDone); its status files go with it.
using PgWal.Archive;
using PgWal.Format;
using PgWal.Storage;
using PgWal.Write;

namespace PgWal.Checkpoint;

internal sealed class SegmentRecycler(IWalStorage storage, WalEngine engine, WalGeometry geometry, TimelineId timeline, WalInstanceOptions options,
    IArchiveStatusStorage? status, Archiver? archiver, Func<Lsn> oldestBackupStart,
    Replication.Slots.ReplicationSlots? slots = null, Action<IReadOnlyList<(string Slot, int ActivePid)>>? slotsInvalidated = null)
{
    /// <summary>Old segments the last call kept because they are not archived yet.</summary>
    public int KeptForArchiving { get; private set; }

    private double _distanceEstimate;    // bytes between redo points, smoothed; checkpointer only

    public (int Removed, int Recycled) RemoveOldSegments(Lsn redo, Lsn previousRedo, Lsn insertedUpTo)
    {
        double distance = redo > previousRedo ? redo - previousRedo : 0;
        _distanceEstimate = _distanceEstimate < distance ? distance : 0.9 * _distanceEstimate + 0.1 * distance;

        ulong keepSegments = (ulong)(options.WalKeepSize / geometry.SegmentSize);
        ulong redoSegment = geometry.SegmentOf(redo).Value;
        ulong cutoff = redoSegment > keepSegments ? redoSegment - keepSegments : 0;   // remove segments < cutoff
        if (oldestBackupStart() is { IsValid: true } backupStart)
            cutoff = Math.Min(cutoff, geometry.SegmentOf(backupStart).Value);   // a running backup still needs its WAL
        cutoff = Math.Min(cutoff, KeepForSlots(geometry.SegmentOf(insertedUpTo).Value));
        var recycleUpTo = RecycleTarget(redo);
        var next = geometry.SegmentOf(insertedUpTo);
        int removed = 0, recycled = 0;
        var old = new List<(SegmentNumber Segment, string Name)>();
        foreach (var name in storage.ListFiles())
        {
            // Any timeline up to this one, as PostgreSQL's RemoveOldXlogFiles (which compares only the
            // segment part): segments of a parent timeline restored during archive recovery go too.
            if (SegmentFileName.TryParse(name, geometry, out var tli, out var segment) && tli <= timeline && segment.Value < cutoff)
                old.Add((segment, name));
        }
        old.Sort((a, b) => a.Segment.CompareTo(b.Segment));
        int kept = 0;
        foreach (var (_, name) in old)
        {
            if (archiver != null && !archiver.CheckDone(name))
            {
                kept++;
                continue;
            }
            if (next.Value <= recycleUpTo.Value && engine.RecycleSegment(name, next, recycleUpTo))
                recycled++;
            else
            {
                engine.RemoveSegment(name);
                removed++;
            }
            status?.Remove(name);
        }
        KeptForArchiving = kept;
        RemoveBackupHistoryFiles();
        RemoveArchivedPartials(cutoff);
        return (removed, recycled);
    }

    // CheckPointReplicationSlots, then KeepLogSeg's slot part and InvalidateObsoleteReplicationSlots:
    // the saved restart_lsn of every slot is kept, except that with max_slot_wal_keep_size a slot
    // may not keep more than that behind the current segment; slots further behind are lost.
    private ulong KeepForSlots(ulong currentSegment)
    {
        if (slots == null)
            return ulong.MaxValue;
        slots.SaveDirty();
        var required = slots.RequiredLsn();
        if (!required.IsValid)
            return ulong.MaxValue;
        ulong keep = geometry.SegmentOf(required).Value;
        if (options.MaxSlotWalKeepSize >= 0)
        {
            ulong limit = (ulong)(options.MaxSlotWalKeepSize / geometry.SegmentSize);
            if (currentSegment - keep > limit)
            {
                keep = currentSegment - limit;
                var lost = slots.InvalidateBefore(geometry.SegmentStart(new SegmentNumber(keep)), options.MaxSlotWalKeepSize >> 20);
                if (lost.Count > 0)
                    slotsInvalidated?.Invoke(lost);
            }
        }
        return keep;
    }

    // CleanupBackupHistory: backup history files in pg_wal go once archived. Unlike PostgreSQL, which
    // also deletes them at once when not archiving, PgWal then keeps them: their only copy is the
    // record of a backup someone may want to read, and they are a few hundred bytes.
    private void RemoveBackupHistoryFiles()
    {
        if (archiver == null || status == null)
            return;
        foreach (var name in storage.ListFiles())
        {
            if (ArchivedFileName.TryParse(name, out var parsed) != null || parsed.Kind != ArchivedFileKind.BackupHistory)
                continue;
            if (!archiver.CheckDone(name))
                continue;
            storage.Delete(name);
            status?.Remove(name);
        }
    }

    // RemoveOldXlogFiles also takes .partial files (the end of an old timeline) once they are
    // archived; one whose .ready was lost gets it again here. Kept when not archiving.
    private void RemoveArchivedPartials(ulong cutoff)
    {
        if (archiver == null)
            return;
        foreach (var name in storage.ListFiles())
        {
            if (!SegmentFileName.IsPartialFileName(name) || !SegmentFileName.TryParseLeading(name, geometry, out var tli, out var segment)
                || tli > timeline || segment.Value >= cutoff)
                continue;
            if (!archiver.CheckDone(name))
                continue;
            storage.Delete(name);
            status?.Remove(name);
        }
    }

    // XLOGfileslop: the highest segment number worth recycling into.
    private SegmentNumber RecycleTarget(Lsn redo)
    {
        ulong size = (ulong)geometry.SegmentSize;
        ulong redoSegment = redo.Value / size;
        ulong min = redoSegment + (ulong)Math.Max(2, options.MinWalSize / geometry.SegmentSize) - 1;
        ulong max = redoSegment + (ulong)Math.Max(2, options.MaxWalSize / geometry.SegmentSize) - 1;
        double distance = (1.0 + options.CheckpointCompletionTarget) * _distanceEstimate * 1.10;
        ulong target = (ulong)Math.Ceiling((redo.Value + distance) / size);
        // Raised to the minimum, then capped by the maximum, in that order, as PostgreSQL does:
        // min_wal_size above max_wal_size is allowed, and then the maximum wins.
        return new SegmentNumber(Math.Min(Math.Max(target, min), max));
    }
}
