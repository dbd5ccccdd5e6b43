// WalReset: pg_resetwal's core. Throws away all WAL and starts a new WAL at a segment past every
// existing one (or a chosen one) with a fresh shutdown checkpoint whose redo is itself, then
// rewrites the control file. Data pages are left as they are: changes only in the discarded WAL
// are lost, which is why it needs -f for a directory that was not shut down cleanly.
using PgWal.Format;
using PgWal.Insert;
using PgWal.Storage;
using PgWal.Write;

namespace PgWal.Checkpoint;

/// <summary>Disaster recovery: reset the WAL of a data directory (pg_resetwal).</summary>
public static class WalReset
{
    /// <summary>The first segment a reset would use: after every segment file present (FindEndOfXLOG).</summary>
    public static SegmentNumber DefaultStartSegment(IDataDirectoryStorage storage, ControlFileData control)
    {
        var geometry = new WalGeometry((int)control.WalSegmentSize);
        ulong next = geometry.SegmentOf(control.CheckPointCopy.Redo).Value + 1;
        foreach (var name in storage.Wal.ListFiles())
        {
            // FindEndOfXLOG: .partial files count too, so a new segment never takes a name one of them starts with.
            if ((SegmentFileName.TryParse(name, geometry, out _, out var segment)
                 || (SegmentFileName.IsPartialFileName(name) && SegmentFileName.TryParseLeading(name, geometry, out _, out segment)))
                && segment.Value + 1 > next)
                next = segment.Value + 1;
        }
        return new SegmentNumber(next);
    }

    /// <summary>WAL address space a reset must leave after its start, in segments (LSNs never wrap).</summary>
    public const int MinimumRoomSegments = 16;

    /// <summary>The control file a reset would write (nothing is written).</summary>
    /// <exception cref="ArgumentException">The start leaves less than <see cref="MinimumRoomSegments"/> segments of WAL address space.</exception>
    public static ControlFileData Plan(ControlFileData control, SegmentNumber start, ulong? nextXid, uint? nextOid, TimelineId? timeline = null)
    {
        var geometry = new WalGeometry((int)control.WalSegmentSize);
        if (start.Value > geometry.LastSegment.Value - MinimumRoomSegments)
            throw new ArgumentException(
                $"WAL would start at segment {SegmentFileName.Format(timeline ?? control.CheckPointCopy.ThisTimeline, start, geometry)}, less than {MinimumRoomSegments} segments before the end of the WAL address space ({geometry.EndOfAddressSpace})");
        Lsn redo = geometry.SegmentStart(start) + (ulong)PageHeader.LongSize;
        var checkPoint = control.CheckPointCopy with
        {
            Redo = redo,
            NextXid = nextXid ?? control.CheckPointCopy.NextXid,
            NextOid = nextOid ?? control.CheckPointCopy.NextOid,
            Time = DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
            ThisTimeline = timeline ?? control.CheckPointCopy.ThisTimeline,
            PrevTimeline = timeline ?? control.CheckPointCopy.PrevTimeline,
        };
        return control with
        {
            State = DatabaseState.ShutDown,
            CheckPointLocation = redo,
            CheckPointCopy = checkPoint,
            MinRecoveryPoint = Lsn.Invalid,
            BackupStartPoint = Lsn.Invalid,
            BackupEndPoint = Lsn.Invalid,
            BackupEndRequired = false,
            Time = DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
            // pg_resetwal forces these (they matter only above wal_level minimal; startup resets them).
            WalLevel = 0,
            WalLogHints = false,
            TrackCommitTimestamp = false,
            MaxConnections = 100,
            MaxWalSenders = 10,
            MaxWorkerProcesses = 8,
            MaxPreparedXacts = 0,
            MaxLocksPerXact = 64,
        };
    }

    /// <summary>
    /// Performs the reset planned by <see cref="Plan"/>: removes the segment files (exact segment
    /// names only; unlike pg_resetwal, <c>.partial</c> files and everything else in pg_wal are left
    /// alone, since a user may still need them) and starts the new WAL.
    /// </summary>
    public static void Apply(IDataDirectoryStorage storage, ControlFileData planned)
    {
        var geometry = new WalGeometry((int)planned.WalSegmentSize);
        foreach (var name in storage.Wal.ListFiles())
        {
            if (SegmentFileName.TryParse(name, geometry, out _, out _))
                storage.Wal.Delete(name);
        }
        WriteStartingCheckpoint(storage, planned);
    }

    /// <summary>
    /// Starts WAL at <paramref name="control"/>'s checkpoint location — the first record of a fresh
    /// segment, a shutdown checkpoint carrying CheckPointCopy (redo = itself) — and then writes the
    /// control file. Shared by pg_resetwal's reset and initdb's bootstrap (WalInstance.Initialize).
    /// </summary>
    internal static void WriteStartingCheckpoint(IDataDirectoryStorage storage, ControlFileData control)
    {
        var geometry = new WalGeometry((int)control.WalSegmentSize);
        var options = new WalOptions
        {
            SegmentSize = geometry.SegmentSize, Timeline = control.CheckPointCopy.ThisTimeline, SystemIdentifier = control.SystemIdentifier,
            WalWriterDelay = TimeSpan.Zero, PreallocateSegments = 0,
        };
        using (var engine = new WalEngine(storage.Wal, options, WalStartPoint.AtSegment(geometry.SegmentOf(control.CheckPointLocation), geometry)))
        {
            Lsn end = engine.Insert(BuiltinRecords.Checkpoint(new RecordBuilder(), control.CheckPointCopy, shutdown: true), out Lsn location);
            if (location != control.CheckPointLocation)
                throw new InvalidOperationException($"starting checkpoint went to {location}, not {control.CheckPointLocation}");
            engine.Flush(end);
        }
        ControlFileManager.Write(storage.Control, control);
    }
}
