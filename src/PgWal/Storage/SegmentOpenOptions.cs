// SegmentOpenOptions / WalSyncMethod: how segment files are opened for writing and made durable.
namespace PgWal.Storage;

/// <summary>How WAL is made durable (PostgreSQL's <c>wal_sync_method</c>).</summary>
public enum WalSyncMethod
{
    /// <summary>fdatasync(2) after writing (the default on Linux).</summary>
    Fdatasync,

    /// <summary>fsync(2) after writing.</summary>
    Fsync,

    /// <summary>Segment files opened with O_DSYNC: every write is durable when it returns.</summary>
    OpenDatasync,
}

/// <summary>How a segment file is opened for writing.</summary>
/// <param name="SyncMethod">What <see cref="IWalSegmentFile.Sync"/> does (nothing for O_DSYNC files).</param>
/// <param name="DirectIo">Open with O_DIRECT: writes must be 4 kB-aligned in memory, offset and length.</param>
public readonly record struct SegmentOpenOptions(WalSyncMethod SyncMethod = WalSyncMethod.Fdatasync, bool DirectIo = false);
