using PgWal.Format;
using PgWal.Insert;
using PgWal.Tests.Infrastructure;
using PgWal.Write;

namespace PgWal.Tests.Engine;

// Shared set-up for the engine tests: 1 MB segments, a TrackingStorage, small commit records.
internal static class EngineTestKit
{
    public const int SegmentSize = WalGeometry.MinSegmentSize;
    public static readonly WalGeometry Geometry = new(SegmentSize);

    public static (WalEngine Engine, TrackingStorage Storage) Start(string dir, WalOptions? options = null, bool dropUnsynced = false)
    {
        var storage = new TrackingStorage(dir, Geometry, dropUnsynced);
        var start = WalStartPoint.AtSegment(new SegmentNumber(1), Geometry);
        storage.StartAt(start.End);
        options ??= new WalOptions();
        options = options with { SegmentSize = SegmentSize, SystemIdentifier = 99 };
        return (new WalEngine(storage, options, start), storage);
    }

    /// <summary>A commit-sized record (custom rmgr 131) whose xid identifies it.</summary>
    public static Lsn InsertCommit(WalEngine engine, RecordBuilder builder, uint xid, int size = 100)
    {
        Span<byte> payload = stackalloc byte[size];
        payload.Fill((byte)xid);
        return engine.Insert(builder.Begin(131, 0x10, xid).RegisterData(payload));
    }
}
