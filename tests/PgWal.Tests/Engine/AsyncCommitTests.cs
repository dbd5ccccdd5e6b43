using System.Diagnostics;
using PgWal.Insert;
using PgWal.Tests.Infrastructure;
using PgWal.Write;

namespace PgWal.Tests.Engine;

// An asynchronous commit (RequestFlush) returns at once and is durable — synced, as the storage
// sees it — within 3 × wal_writer_delay.
public class AsyncCommitTests
{
    [Fact]
    public void AsyncCommit_IsDurableWithinThreeWriterDelays()
    {
        var delay = TimeSpan.FromMilliseconds(200);
        using var dir = new TempDirectory("async");
        var (engine, storage) = EngineTestKit.Start(dir.Path, new WalOptions { WalWriterDelay = delay });
        using (engine)
        {
            var builder = new RecordBuilder();
            var rng = new Random(5);
            for (int i = 0; i < 5; i++)
            {
                Thread.Sleep(rng.Next(0, 250)); // land at different points of the writer's cycle
                Lsn end = EngineTestKit.InsertCommit(engine, builder, (uint)i);
                var clock = Stopwatch.StartNew();
                engine.RequestFlush(end);
                Assert.True(clock.Elapsed < delay, "RequestFlush must not wait for the flush");
                while (engine.FlushedUpTo < end && clock.Elapsed < 3 * delay)
                    Thread.Sleep(2);
                Assert.True(engine.FlushedUpTo >= end, $"async commit {i} at {end} not durable after {clock.Elapsed.TotalMilliseconds:F0} ms (bound {3 * delay.TotalMilliseconds} ms)");
                Assert.True(storage.DurableUpTo >= end, $"FlushedUpTo covers {end} but the completed syncs only {storage.DurableUpTo}");
            }
        }
    }

    [Fact]
    public void AsyncCommits_BeyondFlushAfter_WakeTheWriterEarly()
    {
        using var dir = new TempDirectory("async");
        var (engine, storage) = EngineTestKit.Start(dir.Path, new WalOptions { WalWriterDelay = TimeSpan.FromSeconds(10), WalWriterFlushAfter = 64 * 1024 });
        using (engine)
        {
            var builder = new RecordBuilder();
            Lsn end = default;
            for (uint i = 0; i < 200; i++)
            {
                end = EngineTestKit.InsertCommit(engine, builder, i, 1000);
                engine.RequestFlush(end);
            }
            var clock = Stopwatch.StartNew();
            while (storage.DurableUpTo.Value + 64 * 1024 < end.Value && clock.Elapsed < TimeSpan.FromSeconds(5))
                Thread.Sleep(2);
            Assert.True(storage.DurableUpTo.Value + 64 * 1024 >= end.Value, $"durable {storage.DurableUpTo}, requested {end}: the writer was not woken");
        }
    }
}
