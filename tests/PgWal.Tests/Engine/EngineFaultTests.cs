using System.Collections.Concurrent;
using PgWal.Insert;
using PgWal.Read;
using PgWal.Storage;
using PgWal.Tests.Infrastructure;
using PgWal.Write;

namespace PgWal.Tests.Engine;

// A failed write or sync in the middle of concurrent commits faults the engine for good: every
// later call throws WalFaultedException carrying the first error, no sync is ever retried, and the
// files — holding only what was synced, as after a power loss — contain every acknowledged commit
// and everything the engine claims is durable.
public class EngineFaultTests
{
    [Theory]
    [InlineData("EIO", "write")]
    [InlineData("ENOSPC", "write")]
    [InlineData("EIO", "sync")]
    [InlineData("ENOSPC", "sync")]
    public void FaultDuringConcurrentCommits_IsFinal_AndAcknowledgedWalSurvives(string errno, string operation)
    {
        using var dir = new TempDirectory("fault");
        var (engine, storage) = EngineTestKit.Start(dir.Path, new WalOptions { WalBuffers = 64 * 1024 }, dropUnsynced: true);
        var error = new IOException(errno == "EIO" ? "Input/output error" : "No space left on device");
        storage.Error = error;
        if (operation == "write")
            storage.FailWriteNumber = 60;
        else
            storage.FailSyncNumber = 30;

        var acknowledged = new ConcurrentBag<(uint Xid, Lsn End)>();
        var failures = new ConcurrentBag<Exception>();
        var threads = Enumerable.Range(0, 8).Select(t => new Thread(() =>
        {
            var builder = new RecordBuilder();
            var rng = new Random(t);
            for (uint i = 0; i < 100_000; i++)
            {
                try
                {
                    uint xid = ((uint)t << 24) | i;
                    Lsn end = EngineTestKit.InsertCommit(engine, builder, xid, rng.Next(50, 3000));
                    engine.Flush(end);
                    acknowledged.Add((xid, end));
                }
                catch (Exception e)
                {
                    failures.Add(e);
                    return;
                }
            }
        })).ToList();
        threads.ForEach(th => th.Start());
        threads.ForEach(th => th.Join());

        Assert.Same(error, engine.Fault);
        Assert.All(failures, e => Assert.Same(error, Assert.IsType<WalFaultedException>(e).InnerException));
        Assert.Same(error, Assert.Throws<WalFaultedException>(() => EngineTestKit.InsertCommit(engine, new RecordBuilder(), 1)).InnerException);
        Assert.Same(error, Assert.Throws<WalFaultedException>(() => engine.Flush(engine.InsertedUpTo)).InnerException);
        Assert.Same(error, Assert.Throws<WalFaultedException>(() => engine.SwitchSegment()).InnerException);
        var pending = engine.FlushAsync(engine.InsertedUpTo);
        Assert.Same(error, Assert.Throws<WalFaultedException>(() => pending.AsTask().GetAwaiter().GetResult()).InnerException);
        Lsn claimed = engine.FlushedUpTo;
        engine.Dispose();
        Assert.Equal(0, storage.SyncsAfterFailure);
        Assert.All(acknowledged, a => Assert.True(a.End <= claimed, $"acknowledged {a.End} beyond FlushedUpTo {claimed}"));
        Assert.True(storage.DurableUpTo >= claimed, $"engine claims {claimed} durable, syncs covered {storage.DurableUpTo}");

        // What is on disk is exactly what was synced: every acknowledged commit must be readable.
        var found = new Dictionary<uint, Lsn>();
        using var reader = new WalReader(new SegmentDirectorySource(dir.Path, EngineTestKit.SegmentSize),
            new WalReaderOptions { SegmentSize = EngineTestKit.SegmentSize });
        reader.BeginRead(new Lsn(0x100000 + 40));
        Lsn lastEnd = default;
        ReadOutcome outcome;
        while ((outcome = reader.ReadRecord()).IsRecord)
        {
            found[outcome.Record!.Xid] = reader.EndRecPtr;
            lastEnd = reader.EndRecPtr;
        }
        Assert.Equal(ReadStatus.EndOfWal, outcome.Status);
        if (lastEnd < claimed)
        {
            // XLogWrite writes whole pages, so a flush may end at a page boundary inside the next
            // record (as in PostgreSQL). Then that record must start where valid WAL ends and reach
            // past the claim: nothing the engine called durable is missing.
            Assert.True(claimed - lastEnd >= 4, $"valid WAL on disk ends at {lastEnd}, engine claimed {claimed}");
            var geometry = new Format.WalGeometry(EngineTestKit.SegmentSize);
            Lsn next = lastEnd;   // a record ending on a page boundary: the next one starts after the page header
            if (next.Value % Format.WalGeometry.PageSize == 0)
                next += next.Value % (ulong)EngineTestKit.SegmentSize == 0 ? (ulong)Format.PageHeader.LongSize : Format.PageHeader.ShortSize;
            string file = Path.Combine(dir.Path, Format.SegmentFileName.Format(TimelineId.First, geometry.SegmentOf(next), geometry));
            var header = new byte[4];
            using (var stream = File.OpenRead(file))
            {
                stream.Position = (long)(next.Value % (ulong)EngineTestKit.SegmentSize);
                stream.ReadExactly(header);
            }
            uint totalLength = System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(header);
            Assert.True(next + totalLength > claimed, $"valid WAL on disk ends at {lastEnd}, engine claimed {claimed}, and the record at {next} ({totalLength} bytes) ends before the claim");
        }
        Assert.All(acknowledged, a => Assert.True(found.TryGetValue(a.Xid, out var end) && end == a.End, $"acknowledged commit {a.Xid:X} at {a.End} lost"));
        Assert.NotEmpty(acknowledged);
    }
}
