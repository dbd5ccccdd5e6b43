// DirectorySyncFailureTests: a segment created (preallocated) or recycled into place whose
// directory fsync then fails has a name that may vanish on power loss. The engine must fault (as
// PostgreSQL PANICs) rather than go on acknowledging flushes into that segment.
using PgWal.Format;
using PgWal.Insert;
using PgWal.Storage;
using PgWal.Tests.Infrastructure;
using PgWal.Write;

namespace PgWal.Tests.Durability;

public sealed class DirectorySyncFailureTests
{
    private static readonly WalGeometry Geometry = new(WalGeometry.MinSegmentSize);

    [Fact]
    public void PreallocatedSegment_WhoseDirectoryFsyncFails_FaultsTheEngine_AndNoFlushIntoItIsAcknowledged()
    {
        using var dir = new TempDirectory("prealloc");
        var storage = new FaultInjectingWalStorage(new FileSystemWalStorage(dir.Path));
        // Only the background preallocation runs on pool threads here; the writes come from our own thread.
        storage.FailDirectorySyncAfterCreate = _ => Thread.CurrentThread.IsThreadPoolThread;
        var options = new WalOptions
        {
            SegmentSize = Geometry.SegmentSize, SystemIdentifier = 42, PreallocateSegments = 2, WalWriterDelay = TimeSpan.FromMilliseconds(5),
        };
        using var engine = new WalEngine(storage, options, WalStartPoint.AtSegment(new SegmentNumber(1), Geometry));
        var acknowledged = new List<Lsn>();
        Exception? stopped = null;
        var writer = new Thread(() =>
        {
            var builder = new RecordBuilder();
            var payload = new byte[1000];
            try
            {
                for (int i = 0; i < 5000; i++)
                {
                    Lsn end = engine.Insert(BuiltinRecords.Noop(builder, payload));
                    engine.Flush(end);
                    acknowledged.Add(end);
                    if (i == 10)
                    {
                        var until = DateTime.UtcNow.AddSeconds(10);   // let the preallocation run (and fail) first
                        while (storage.DirectorySyncFailures == 0 && DateTime.UtcNow < until)
                            Thread.Sleep(5);
                    }
                }
            }
            catch (Exception e)
            {
                stopped = e;
            }
        });
        writer.Start();
        writer.Join();

        Assert.True(storage.DirectorySyncFailures > 0, "the preallocation never ran");
        string failed = storage.Created.First(c => c.PoolThread).Name;
        Assert.True(SegmentFileName.TryParse(failed, Geometry, out _, out var failedSegment));
        Lsn failedStart = Geometry.SegmentStart(failedSegment);
        Assert.All(acknowledged, end => Assert.True(end <= failedStart, $"flush to {end} acknowledged in {failed}, whose directory fsync failed"));
        Assert.IsType<SyncFailedException>(engine.Fault);
        Assert.IsType<WalFaultedException>(stopped);
    }

    [Fact]
    public void RecycledSegment_WhoseDirectoryFsyncFails_FaultsTheInstance_AndNothingAcknowledgedIsLost()
    {
        using var dir = new TempDirectory("recycle");
        WalInstance.Initialize(dir.Path, new WalInitOptions { SegmentSize = Geometry.SegmentSize });
        var storage = new FaultInjectingStorage(dir.Path);
        var options = new WalInstanceOptions { BackgroundCheckpointer = false, MinWalSize = 4 << 20, MaxWalSize = 8 << 20 };
        var instance = WalInstance.Open(storage, options);
        var builder = new RecordBuilder();
        var payload = new byte[4000];
        Lsn acknowledged = Lsn.Invalid;
        for (int i = 0; i < 1000; i++)                   // ~4 MB: segments behind the next checkpoint's redo point
            acknowledged = instance.Insert(BuiltinRecords.Noop(builder, payload));
        instance.Wal.Flush(acknowledged);
        storage.Wal.FailDirectorySyncAfterRename = _ => true;

        Assert.ThrowsAny<Exception>(() => instance.Checkpoint());
        Assert.True(storage.Wal.DirectorySyncFailures > 0, "the checkpoint recycled nothing");
        Assert.IsType<SyncFailedException>(instance.Wal.Fault);
        Assert.Throws<WalFaultedException>(() => instance.Wal.Flush(instance.Insert(BuiltinRecords.Noop(builder, payload))));
        instance.Dispose();

        storage.Wal.FailDirectorySyncAfterRename = null;
        using var reopened = WalInstance.Open(storage, options);
        Assert.True(reopened.Recovery.CrashRecovery);
        Assert.True(reopened.Recovery.EndOfWal >= acknowledged, $"recovery ended at {reopened.Recovery.EndOfWal}, before the acknowledged {acknowledged}");
    }
}
