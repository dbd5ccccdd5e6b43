// CloseDuringFlushTests: closing an engine (Abandon: no final flush) while a group-commit flush is
// in progress must wait for it — the flush reads the WAL buffer ring, which closing frees — and no
// flush may report success once the close has returned.
using PgWal.Format;
using PgWal.Insert;
using PgWal.Storage;
using PgWal.Tests.Infrastructure;
using PgWal.Write;

namespace PgWal.Tests.Durability;

public sealed class CloseDuringFlushTests
{
    private static readonly WalGeometry Geometry = new(WalGeometry.MinSegmentSize);

    [Fact]
    public void CloseWithoutFlush_WaitsForTheFlushInProgress_AndNoFlushSucceedsAfterIt()
    {
        for (int round = 0; round < 12; round++)
        {
            using var dir = new TempDirectory("closeflush");
            var storage = new FaultInjectingWalStorage(new FileSystemWalStorage(dir.Path));
            var options = new WalOptions { SegmentSize = Geometry.SegmentSize, SystemIdentifier = 3, WalWriterDelay = TimeSpan.Zero, PreallocateSegments = 0 };
            var engine = new WalEngine(storage, options, WalStartPoint.AtSegment(new SegmentNumber(1), Geometry));
            var builder = new RecordBuilder();
            Lsn first = engine.Insert(BuiltinRecords.Noop(builder, new byte[100]));

            var gate = new ManualResetEventSlim(false);
            storage.SyncGate = gate;
            var leader = new Thread(() => Run(() => engine.Flush(first)));
            leader.Start();
            Assert.True(SpinWait.SpinUntil(() => storage.SyncsWaiting == 1, TimeSpan.FromSeconds(10)), "the flush never reached its sync");
            Lsn second = engine.Insert(BuiltinRecords.Noop(builder, new byte[100]));   // after the round began: not covered by it
            var queuedOutcome = new Outcome();
            var queued = new Thread(() => queuedOutcome.Set(Run(() => engine.Flush(second))));
            queued.Start();
            Thread.Sleep(50);                                     // queued behind the leader

            Lsn flushedWhenClosed = Lsn.Invalid;
            var closer = new Thread(() =>
            {
                engine.Close(flush: false);
                flushedWhenClosed = engine.FlushedUpTo;          // whatever succeeds must be durable by now
            });
            closer.Start();
            bool closedDuringFlush = closer.Join(100);
            storage.SyncGate = null;
            gate.Set();
            Assert.True(leader.Join(TimeSpan.FromSeconds(10)));
            Assert.True(queued.Join(TimeSpan.FromSeconds(10)));
            Assert.True(closer.Join(TimeSpan.FromSeconds(10)));

            Assert.False(closedDuringFlush, "the engine closed (and freed its buffers) while a flush was in progress");
            Assert.False(queuedOutcome.Succeeded && flushedWhenClosed < second,
                $"a flush to {second} reported success, but when the engine closed the WAL was durable only up to {flushedWhenClosed}");
            Assert.Throws<ObjectDisposedException>(() => engine.Flush(engine.InsertedUpTo + 8));
        }
    }

    private static bool Run(Action flush)
    {
        try
        {
            flush();
            return true;
        }
        catch (Exception e) when (e is ObjectDisposedException or IOException)
        {
            return false;
        }
    }

    private sealed class Outcome
    {
        public bool Succeeded;
        public void Set(bool ok) => Succeeded = ok;
    }
}
