using System.Collections.Concurrent;
using PgWal.Insert;
using PgWal.Tests.Infrastructure;
using PgWal.Write;

namespace PgWal.Tests.Engine;

// Many concurrent committers share syncs, and no commit is acknowledged before a completed sync
// covers it (the storage computes durability from the syncs it actually completed).
public class GroupCommitTests
{
    [Fact]
    public async Task AsyncCommitters_ShareSyncs_AndEveryAckIsCoveredByACompletedSync()
    {
        using var dir = new TempDirectory("group");
        var (engine, storage) = EngineTestKit.Start(dir.Path, new WalOptions { WalWriterDelay = TimeSpan.Zero });
        const int committers = 64, commitsEach = 100;
        var violations = new ConcurrentQueue<string>();
        // 64 committers must actually run concurrently: with the pool's default minimum (one thread
        // per core) and other tests keeping it busy, tasks queue behind a leader's fsync and the test
        // would measure thread injection instead of group commit (it failed that way in CI).
        ThreadPool.GetMinThreads(out int minWorkers, out int minIo);
        ThreadPool.SetMinThreads(Math.Max(minWorkers, committers + 8), minIo);
        using (engine)
        {
            var tasks = Enumerable.Range(0, committers).Select(c => Task.Run(async () =>
            {
                var builder = new RecordBuilder();
                for (int i = 0; i < commitsEach; i++)
                {
                    Lsn end = EngineTestKit.InsertCommit(engine, builder, (uint)(c * 1000 + i));
                    await engine.FlushAsync(end);
                    Lsn durable = storage.DurableUpTo;
                    if (durable < end)
                        violations.Enqueue($"commit {c}/{i} ending at {end} acknowledged while only {durable} was synced");
                    if (engine.FlushedUpTo < end)
                        violations.Enqueue($"commit {c}/{i}: FlushedUpTo {engine.FlushedUpTo} < {end}");
                }
            })).ToArray();
            try
            {
                await Task.WhenAll(tasks);
            }
            finally
            {
                ThreadPool.SetMinThreads(minWorkers, minIo);
            }
        }
        Assert.Empty(violations);
        long commits = committers * commitsEach;
        Assert.True(storage.Syncs * 4 <= commits, $"{storage.Syncs} syncs for {commits} commits: no grouping");
    }

    [Fact]
    public void BlockingCommitters_ShareSyncs_AndEveryAckIsCoveredByACompletedSync()
    {
        using var dir = new TempDirectory("group");
        var (engine, storage) = EngineTestKit.Start(dir.Path, new WalOptions { WalWriterDelay = TimeSpan.Zero });
        const int committers = 16, commitsEach = 200;
        var violations = new ConcurrentQueue<string>();
        using (engine)
        {
            var threads = Enumerable.Range(0, committers).Select(c => new Thread(() =>
            {
                var builder = new RecordBuilder();
                for (int i = 0; i < commitsEach; i++)
                {
                    Lsn end = EngineTestKit.InsertCommit(engine, builder, (uint)(c * 1000 + i));
                    engine.Flush(end);
                    if (storage.DurableUpTo < end)
                        violations.Enqueue($"commit {c}/{i} ending at {end} acknowledged while only {storage.DurableUpTo} was synced");
                }
            })).ToList();
            threads.ForEach(t => t.Start());
            threads.ForEach(t => t.Join());
        }
        Assert.Empty(violations);
        Assert.True(storage.Syncs * 2 <= committers * commitsEach, $"{storage.Syncs} syncs for {committers * commitsEach} commits: no grouping");
    }

    [Fact]
    public void FlushAsync_CompletesSynchronously_WhenAlreadyDurable()
    {
        using var dir = new TempDirectory("group");
        var (engine, _) = EngineTestKit.Start(dir.Path);
        using (engine)
        {
            Lsn end = EngineTestKit.InsertCommit(engine, new RecordBuilder(), 1);
            engine.Flush(end);
            var again = engine.FlushAsync(end);
            Assert.True(again.IsCompletedSuccessfully);
        }
    }

    [Fact]
    public async Task CommitDelay_StillCoversEveryCommit()
    {
        using var dir = new TempDirectory("group");
        var (engine, storage) = EngineTestKit.Start(dir.Path, new WalOptions
        {
            WalWriterDelay = TimeSpan.Zero, CommitDelay = TimeSpan.FromMilliseconds(0.2), CommitSiblings = 2,
        });
        using (engine)
        {
            await Task.WhenAll(Enumerable.Range(0, 32).Select(c => Task.Run(async () =>
            {
                var builder = new RecordBuilder();
                for (int i = 0; i < 50; i++)
                {
                    Lsn end = EngineTestKit.InsertCommit(engine, builder, (uint)(c * 100 + i));
                    await engine.FlushAsync(end);
                    Assert.True(storage.DurableUpTo >= end);
                }
            })));
        }
        Assert.True(storage.Syncs < 32 * 50);
    }

    [Fact]
    public async Task AKickDuringAFlush_ReturnsAtOnce_AndTheRunningRoundsFlushItWithNobodyWaiting()
    {
        using var dir = new TempDirectory("group");
        var storage = new FaultInjectingWalStorage(new PgWal.Storage.FileSystemWalStorage(dir.Path));
        var options = new WalOptions { WalWriterDelay = TimeSpan.Zero, SegmentSize = EngineTestKit.SegmentSize, SystemIdentifier = 99 };
        using var engine = new WalEngine(storage, options, WalStartPoint.AtSegment(new SegmentNumber(1), EngineTestKit.Geometry));
        var builder = new RecordBuilder();
        Lsn first = EngineTestKit.InsertCommit(engine, builder, 1);
        using var gate = new ManualResetEventSlim();
        storage.SyncGate = gate;
        var leader = Task.Run(() => engine.Flush(first));
        Assert.True(SpinWait.SpinUntil(() => storage.SyncsWaiting == 1 && engine.FlushInProgress, TimeSpan.FromSeconds(30)), "the first flush never reached its sync");

        Lsn second = EngineTestKit.InsertCommit(engine, builder, 2);
        var kick = Task.Run(() => engine.Kick(second));
        await kick.WaitAsync(TimeSpan.FromSeconds(30));   // Kick must not wait for the flush in progress
        Assert.True(engine.FlushedUpTo < second);

        storage.SyncGate = null;
        gate.Set();
        await leader.WaitAsync(TimeSpan.FromSeconds(30));
        // Nobody waits for `second` and the background writer is off: only the kicked request keeps
        // the rounds going until it is flushed.
        Assert.True(SpinWait.SpinUntil(() => engine.FlushedUpTo >= second, TimeSpan.FromSeconds(30)), $"the kicked commit at {second} was never flushed (flushed: {engine.FlushedUpTo})");
        Assert.True(SpinWait.SpinUntil(() => !engine.FlushInProgress, TimeSpan.FromSeconds(30)), "flush rounds went on after the request was met");
    }
}
