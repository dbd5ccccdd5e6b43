using PgWal.Format;
using PgWal.Insert;
using PgWal.Read;
using PgWal.Storage;
using PgWal.Tests.Infrastructure;
using PgWal.Write;

namespace PgWal.Tests.Unit;

// A failed write or sync is final: the engine faults, never syncs again, never acknowledges more.
public class WriterFaultTests
{
    private static WalEngine NewWriter(IWalStorage storage, int bufferBytes = 1024 * 1024)
        => new(storage, new WalOptions { SegmentSize = WalGeometry.MinSegmentSize, SystemIdentifier = 42, WalBuffers = bufferBytes, WalWriterDelay = TimeSpan.Zero },
            WalStartPoint.AtSegment(new SegmentNumber(1), new WalGeometry(WalGeometry.MinSegmentSize)));

    private static InsertResult Noop(WalEngine writer, int size)
    {
        var end = writer.Insert(BuiltinRecords.Noop(new RecordBuilder(), new byte[size]), out var start);
        return new InsertResult(start, end);
    }

    [Theory]
    [InlineData("EIO on sync")]
    [InlineData("ENOSPC on sync")]
    [InlineData("EIO on write")]
    [InlineData("ENOSPC on write")]
    public void FailedFlush_FaultsTheWriterForGood(string fault)
    {
        using var dir = new TempDirectory("fault");
        var storage = new TrackingStorage(dir.Path, new WalGeometry(WalGeometry.MinSegmentSize));
        var writer = NewWriter(storage);
        var first = Noop(writer, 100);
        writer.Flush(first.End);
        var second = Noop(writer, 100);
        var error = new IOException(fault.StartsWith("EIO", StringComparison.Ordinal) ? "Input/output error" : "No space left on device");
        if (fault.EndsWith("sync", StringComparison.Ordinal))
            storage.FailNextSync(error);
        else
            storage.FailNextWrite(error);

        var e = Assert.Throws<WalFaultedException>(() => writer.Flush(second.End));
        Assert.Same(error, e.InnerException);
        Assert.Equal(first.End, writer.FlushedUpTo); // nothing past the last good sync claims durability
        Assert.Same(error, writer.Fault);

        // Every later call fails with the first error; the failed file is never synced again.
        Assert.Same(error, Assert.Throws<WalFaultedException>(() => writer.Flush(second.End)).InnerException);
        Assert.Same(error, Assert.Throws<WalFaultedException>(() => Noop(writer, 10)).InnerException);
        Assert.Same(error, Assert.Throws<WalFaultedException>(() => writer.SwitchSegment()).InnerException);
        writer.Dispose();
        Assert.Equal(0, storage.SyncsAfterFailure);
        Assert.Equal(first.End, writer.FlushedUpTo);
    }

    [Fact]
    public void FailedSyncWhenFinishingASegment_FaultsTheInsertThatTriggeredIt()
    {
        using var dir = new TempDirectory("fault");
        var storage = new TrackingStorage(dir.Path, new WalGeometry(WalGeometry.MinSegmentSize));
        var writer = NewWriter(storage, 32 * 1024); // a small ring: inserts write pages out themselves
        while (writer.Geometry.OffsetInSegment(writer.NextRecordLsn) < WalGeometry.MinSegmentSize - 20_000)
            Noop(writer, 5000);
        storage.FailNextSync(new IOException("Input/output error"));
        var e = Assert.Throws<WalFaultedException>(() =>
        {
            for (int i = 0; i < 10; i++)
                Noop(writer, 5000); // crosses into segment 2: segment 1 is written and synced
        });
        Assert.NotNull(e.InnerException);
        Assert.Throws<WalFaultedException>(() => writer.Flush());
        writer.Dispose();
        Assert.Equal(0, storage.SyncsAfterFailure);
    }

    [Fact]
    public void EveryAcknowledgedFlush_IsCoveredByASuccessfulSync()
    {
        using var dir = new TempDirectory("log");
        var storage = new TrackingStorage(dir.Path, new WalGeometry(WalGeometry.MinSegmentSize));
        using var writer = NewWriter(storage, 32 * 1024);
        var rng = new Random(3);
        for (int i = 0; i < 300; i++)
        {
            var r = Noop(writer, rng.Next(30, 9000));
            long syncsBefore = storage.Syncs;
            writer.Flush(r.End);
            long syncsAfter = storage.Syncs;
            Assert.True(syncsAfter > syncsBefore, $"flush {i} to {r.End} acknowledged without a sync");
            Assert.Equal(r.End, writer.FlushedUpTo);
        }
    }

    [Theory]
    [InlineData(32 * 1024, 1)]
    [InlineData(64 * 1024, 2)]
    [InlineData(1024 * 1024, 3)]
    public void RandomFlushTargets_WithSmallBuffersAndSwitches_AreSafe(int bufferBytes, int seed)
    {
        using var dir = new TempDirectory("flush");
        var storage = new TrackingStorage(dir.Path, new WalGeometry(WalGeometry.MinSegmentSize));
        var writer = NewWriter(storage, bufferBytes);
        var rng = new Random(seed);
        var starts = new List<Lsn>();
        for (int op = 0; op < 2000; op++)
        {
            int roll = rng.Next(100);
            if (roll < 70)
            {
                starts.Add(Noop(writer, rng.Next(26, rng.Next(10) == 0 ? 30_000 : 600)).Start);
            }
            else if (roll < 73)
            {
                var sw = writer.SwitchSegment();
                if (sw.Start != sw.End)
                    starts.Add(sw.Start);
            }
            else
            {
                Lsn before = writer.FlushedUpTo;
                ulong span = writer.InsertedUpTo.Value - before.Value + 8192;
                var target = new Lsn(before.Value + (ulong)rng.NextInt64(0, (long)span));
                if (target > writer.InsertedUpTo)
                {
                    // Beyond what was inserted: refused (XLogFlush's "not satisfied"), nothing flushed.
                    Assert.Throws<InvalidOperationException>(() => writer.Flush(target));
                    Assert.Equal(before, writer.FlushedUpTo);
                    continue;
                }
                writer.Flush(target);
                // Group commit flushes as far as insertion has completed: at least the target, never past the insert position.
                Assert.True(writer.FlushedUpTo >= Lsn.Max(before, target) && writer.FlushedUpTo <= writer.InsertedUpTo,
                    $"flushed {writer.FlushedUpTo} for target {target}, inserted {writer.InsertedUpTo}");
                if (target > before)
                    Assert.Equal(writer.InsertedUpTo, writer.FlushedUpTo);
            }
        }
        var end = writer.InsertedUpTo;
        writer.Dispose();
        using var reader = new WalReader(new SegmentDirectorySource(dir.Path, WalGeometry.MinSegmentSize),
            new WalReaderOptions { SegmentSize = WalGeometry.MinSegmentSize, StopAt = end });
        reader.BeginRead(starts[0]);
        foreach (var start in starts)
            Assert.Equal(start, reader.ReadRecord().Record?.Lsn);
        Assert.Equal(CorruptionKind.StopPointReached, reader.ReadRecord().Error!.Kind);
        var pg = PgTools.Waldump(["-p", dir.Path, "-s", starts[0].ToString(), "-e", end.ToString(), "-q"]);
        Assert.True(pg.ExitCode == 0, pg.Stderr);
    }
}
