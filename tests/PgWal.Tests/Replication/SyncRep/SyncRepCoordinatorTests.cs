// The synchronous replication coordinator with fake standbys (reference §7.2-§7.4): which
// standbys count and which positions they give under FIRST and ANY, that each level waits for
// exactly its own position, that too few candidates, a catchup standby, a missing flush or a
// disconnect keep commits waiting, that emptying or changing the setting releases them, cancel and
// close with their exceptions, and many concurrent waiters released strictly in LSN order.
using PgWal.Replication.Sync;

namespace PgWal.Tests.Replication.SyncRep;

public sealed class SyncRepCoordinatorTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private static SyncRepPositions Positions(ulong write, ulong flush, ulong apply) => new(new Lsn(write), new Lsn(flush), new Lsn(apply));

    [Fact]
    public void FirstOne_UsesTheEarliestListedCandidate()
    {
        var standbys = new FakeStandbys();
        standbys.Set(1, "b", "streaming", 900, 900, 900);
        standbys.Set(2, "a", "streaming", 300, 200, 100);
        var c = standbys.Coordinator("FIRST 1 (a, b)");
        c.Release();
        Assert.Equal(Positions(300, 200, 100), c.Positions);
    }

    [Fact]
    public void FirstTwo_TakesTheMinimumOverTheTwoBestPriorities_TiesByOrder()
    {
        var standbys = new FakeStandbys();
        standbys.Set(1, "c", "streaming", 1000, 1000, 1000);
        standbys.Set(2, "a", "streaming", 300, 200, 100);
        standbys.Set(3, "b", "streaming", 250, 260, 50);
        var c = standbys.Coordinator("FIRST 2 (a, b, c)");
        c.Release();
        Assert.Equal(Positions(250, 200, 50), c.Positions);

        // With * every walsender has priority 1: the two lowest slot orders win the tie.
        var star = new FakeStandbys();
        star.Set(7, "x", "streaming", 100, 100, 100);
        star.Set(3, "y", "streaming", 500, 500, 500);
        star.Set(5, "z", "streaming", 400, 300, 200);
        var c2 = star.Coordinator("FIRST 2 (*)");
        c2.Release();
        Assert.Equal(Positions(400, 300, 200), c2.Positions);
    }

    [Fact]
    public void AnyOne_TakesTheLargestOfEachPosition()
    {
        var standbys = new FakeStandbys();
        standbys.Set(1, "a", "streaming", 300, 200, 100);
        standbys.Set(2, "b", "streaming", 250, 260, 50);
        standbys.Set(3, "other", "streaming", 5000, 5000, 5000);
        var c = standbys.Coordinator("ANY 1 (a, b)");
        c.Release();
        Assert.Equal(Positions(300, 260, 100), c.Positions);
    }

    [Fact]
    public void AnyTwo_TakesTheSecondLargestOfEachPositionSeparately()
    {
        var standbys = new FakeStandbys();
        standbys.Set(1, "a", "streaming", 300, 200, 100);
        standbys.Set(2, "b", "stopping", 250, 260, 50);
        standbys.Set(3, "c", "streaming", 100, 100, 100);
        var c = standbys.Coordinator("ANY 2 (a, b, c)");
        c.Release();
        Assert.Equal(Positions(250, 200, 100), c.Positions);
    }

    [Fact]
    public void EachLevel_WaitsForExactlyItsOwnPosition()
    {
        var standbys = new FakeStandbys();
        standbys.Set(1, "a", "streaming", 100, 100, 100);
        var c = standbys.Coordinator("a");
        var write = c.WaitAsync(new Lsn(300), SynchronousCommitLevel.RemoteWrite);
        var flush = c.WaitAsync(new Lsn(300), SynchronousCommitLevel.On);
        var apply = c.WaitAsync(new Lsn(300), SynchronousCommitLevel.RemoteApply);
        Assert.False(write.IsCompleted || flush.IsCompleted || apply.IsCompleted);

        standbys.Set(1, "a", "streaming", 299, 299, 299);
        c.Release();
        Assert.False(write.IsCompleted || flush.IsCompleted || apply.IsCompleted);

        standbys.Set(1, "a", "streaming", 300, 299, 299);
        c.Release();
        Assert.True(write.IsCompletedSuccessfully);
        Assert.False(flush.IsCompleted || apply.IsCompleted);

        standbys.Set(1, "a", "streaming", 400, 300, 299);
        c.Release();
        Assert.True(flush.IsCompletedSuccessfully);
        Assert.False(apply.IsCompleted);

        standbys.Set(1, "a", "streaming", 400, 400, 300);
        c.Release();
        Assert.True(apply.IsCompletedSuccessfully);
        Assert.Equal((0, 0, 0), c.Waiting);
    }

    [Fact]
    public void FewerCandidatesThanNeeded_ReleaseNobody()
    {
        var standbys = new FakeStandbys();
        standbys.Set(1, "a", "streaming", 500, 500, 500);
        var c = standbys.Coordinator("FIRST 2 (a, b)");
        var wait = c.WaitAsync(new Lsn(100), SynchronousCommitLevel.On);
        c.Release();
        Assert.False(wait.IsCompleted);
        Assert.Equal(Lsn.Invalid, c.Positions.FlushedUpTo);

        standbys.Set(2, "b", "streaming", 150, 150, 150);
        c.Release();
        Assert.True(wait.IsCompletedSuccessfully);
        Assert.Equal(Positions(150, 150, 150), c.Positions);
    }

    [Fact]
    public void QuorumWithFewerCandidates_ReleasesNobody()
    {
        var standbys = new FakeStandbys();
        standbys.Set(1, "a", "streaming", 500, 500, 500);
        standbys.Set(2, "b", "catchup", 500, 500, 500);
        var c = standbys.Coordinator("ANY 2 (a, b)");
        var wait = c.WaitAsync(new Lsn(100), SynchronousCommitLevel.On);
        c.Release();
        Assert.False(wait.IsCompleted);
    }

    [Fact]
    public void ACatchupStandby_DoesNotCount_UntilItStreams()
    {
        var standbys = new FakeStandbys();
        standbys.Set(1, "a", "catchup", 500, 500, 500);
        var c = standbys.Coordinator("a");
        var wait = c.WaitAsync(new Lsn(100), SynchronousCommitLevel.On);
        c.Release();
        Assert.False(wait.IsCompleted);
        standbys.Set(1, "a", "streaming", 500, 500, 500);
        c.Release();
        Assert.True(wait.IsCompletedSuccessfully);
    }

    [Fact]
    public void AStandbyWithoutAFlushPosition_IsNoCandidate_EvenForRemoteWrite()
    {
        var standbys = new FakeStandbys();
        standbys.Set(1, "pg_receivewal", "streaming", 500, 0, 0);   // pg_receivewal without a slot or --synchronous
        var c = standbys.Coordinator("pg_receivewal");
        var wait = c.WaitAsync(new Lsn(100), SynchronousCommitLevel.RemoteWrite);
        c.Release();
        Assert.False(wait.IsCompleted);
        Assert.Equal((1, 0, 0), c.Waiting);
    }

    [Fact]
    public void ADisconnectedStandby_StopsCounting_AndCommitsKeepWaiting()
    {
        var standbys = new FakeStandbys();
        standbys.Set(1, "a", "streaming", 100, 100, 100);
        var c = standbys.Coordinator("a");
        var wait = c.WaitAsync(new Lsn(200), SynchronousCommitLevel.On);
        standbys.Remove(1);
        c.Release();
        Assert.False(wait.IsCompleted);
        Thread.Sleep(100);
        Assert.False(wait.IsCompleted);
        // It comes back (a new walsender) and confirms.
        standbys.Set(2, "a", "streaming", 200, 200, 0);
        c.Release();
        Assert.True(wait.IsCompletedSuccessfully);
    }

    [Fact]
    public async Task EmptyingTheSetting_ReleasesEveryWaiter()
    {
        var standbys = new FakeStandbys();
        var c = standbys.Coordinator("ANY 1 (a)");
        var waits = new[] { SynchronousCommitLevel.RemoteWrite, SynchronousCommitLevel.On, SynchronousCommitLevel.RemoteApply }
            .Select(l => c.WaitAsync(new Lsn(1000), l)).ToList();
        var blocked = Task.Run(() => c.Wait(new Lsn(2000), SynchronousCommitLevel.On));
        WaitUntil(() => c.Waiting == (1, 2, 1));
        Assert.All(waits, w => Assert.False(w.IsCompleted));

        c.SetNames(SynchronousStandbyNames.None);
        Assert.All(waits, w => Assert.True(w.IsCompletedSuccessfully));
        await blocked.WaitAsync(Patience);
        Assert.Equal((0, 0, 0), c.Waiting);
        // And no new commit waits while it stays empty.
        Assert.True(c.WaitAsync(new Lsn(5000), SynchronousCommitLevel.On).IsCompletedSuccessfully);
    }

    [Fact]
    public void ChangingTheSettingToARuleTheStandbysSatisfy_Releases()
    {
        var standbys = new FakeStandbys();
        standbys.Set(1, "a", "streaming", 500, 500, 500);
        var c = standbys.Coordinator("FIRST 1 (nobody)");
        var wait = c.WaitAsync(new Lsn(400), SynchronousCommitLevel.On);
        c.Release();
        Assert.False(wait.IsCompleted);
        c.SetNames(SynchronousStandbyNames.Parse("FIRST 2 (nobody, a)"));
        Assert.False(wait.IsCompleted);   // still two needed
        c.SetNames(SynchronousStandbyNames.Parse("ANY 1 (nobody, A)"));
        Assert.True(wait.IsCompletedSuccessfully);
    }

    [Fact]
    public void Cancel_EndsTheWaitWithPostgreSqlsWarning_BlockingAndAsync()
    {
        var standbys = new FakeStandbys();
        var c = standbys.Coordinator("a");
        using var cancelAsync = new CancellationTokenSource();
        var wait = c.WaitAsync(new Lsn(100), SynchronousCommitLevel.On, cancelAsync.Token);
        using var cancelBlocking = new CancellationTokenSource();
        var blocking = Task.Run(() => c.Wait(new Lsn(100), SynchronousCommitLevel.RemoteApply, cancelBlocking.Token));
        WaitUntil(() => c.Waiting == (0, 1, 1));

        cancelAsync.Cancel();
        var e = Assert.Throws<SyncRepWaitCanceledException>(() => wait.AsTask().GetAwaiter().GetResult());
        Assert.Equal("canceling wait for synchronous replication due to user request: The transaction has already committed locally, but might not have been replicated to the standby.", e.Message);
        Assert.Equal(SyncRepCancelReason.UserRequest, e.Reason);
        Assert.Equal(new Lsn(100), e.CommitEnd);
        Assert.Equal(cancelAsync.Token, e.CancellationToken);
        Assert.False(blocking.IsCompleted);

        cancelBlocking.Cancel();
        var b = Assert.Throws<SyncRepWaitCanceledException>(() => blocking.GetAwaiter().GetResult());
        Assert.Equal(SyncRepCancelReason.UserRequest, b.Reason);
        Assert.Equal((0, 0, 0), c.Waiting);

        // Already cancelled: no wait at all.
        Assert.Throws<SyncRepWaitCanceledException>(() => c.Wait(new Lsn(100), SynchronousCommitLevel.On, cancelBlocking.Token));
        // A cancel after the release changes nothing.
        using var late = new CancellationTokenSource();
        var released = c.WaitAsync(new Lsn(100), SynchronousCommitLevel.On, late.Token);
        standbys.Set(1, "a", "streaming", 100, 100, 100);
        c.Release();
        late.Cancel();
        Assert.True(released.IsCompletedSuccessfully);
    }

    [Fact]
    public void Close_EndsEveryWait_AndLaterWaitsAtOnce()
    {
        var standbys = new FakeStandbys();
        var c = standbys.Coordinator("a");
        var wait = c.WaitAsync(new Lsn(100), SynchronousCommitLevel.RemoteWrite);
        var blocking = Task.Run(() => c.Wait(new Lsn(100), SynchronousCommitLevel.On));
        WaitUntil(() => c.Waiting == (1, 1, 0));
        c.Close();
        var e = Assert.Throws<SyncRepWaitCanceledException>(() => wait.AsTask().GetAwaiter().GetResult());
        Assert.Equal(SyncRepCancelReason.InstanceClosed, e.Reason);
        Assert.Contains("The transaction has already committed locally, but might not have been replicated to the standby.", e.Message);
        Assert.Equal(SyncRepCancelReason.InstanceClosed, Assert.Throws<SyncRepWaitCanceledException>(() => blocking.GetAwaiter().GetResult()).Reason);
        Assert.Equal(SyncRepCancelReason.InstanceClosed, Assert.Throws<SyncRepWaitCanceledException>(() => c.Wait(new Lsn(200), SynchronousCommitLevel.On)).Reason);
    }

    [Fact]
    public void NoWait_WithoutAWalsenderServer_AtOffOrLocal_OrWhenAlreadyConfirmed()
    {
        var detached = new SyncRepCoordinator(SynchronousStandbyNames.Parse("a"));
        Assert.False(detached.WaitsAt(SynchronousCommitLevel.On));
        Assert.True(detached.WaitAsync(new Lsn(100), SynchronousCommitLevel.RemoteApply).IsCompletedSuccessfully);
        detached.Wait(new Lsn(100), SynchronousCommitLevel.On);

        var standbys = new FakeStandbys();
        standbys.Set(1, "a", "streaming", 50, 50, 50);
        var c = standbys.Coordinator("a");
        Assert.True(c.WaitsAt(SynchronousCommitLevel.RemoteWrite));
        Assert.False(c.WaitsAt(SynchronousCommitLevel.Local));
        Assert.True(c.WaitAsync(new Lsn(100), SynchronousCommitLevel.Local).IsCompletedSuccessfully);
        Assert.True(c.WaitAsync(new Lsn(100), SynchronousCommitLevel.Off).IsCompletedSuccessfully);
        var pending = c.WaitAsync(new Lsn(100), SynchronousCommitLevel.On);
        Assert.False(pending.IsCompleted);
        standbys.Set(1, "a", "streaming", 100, 100, 100);
        c.Release();
        Assert.True(pending.IsCompletedSuccessfully);
        Assert.True(c.WaitAsync(new Lsn(100), SynchronousCommitLevel.On).IsCompletedSuccessfully);
        Assert.Equal((0, 0, 0), c.Waiting);
    }

    [Fact]
    public void SyncedPositions_OnlyMoveForward()
    {
        var standbys = new FakeStandbys();
        standbys.Set(1, "a", "streaming", 500, 500, 500);
        var c = standbys.Coordinator("a");
        c.Release();
        standbys.Set(1, "a", "streaming", 200, 200, 200);
        c.Release();
        Assert.Equal(Positions(500, 500, 500), c.Positions);
        Assert.True(c.WaitAsync(new Lsn(400), SynchronousCommitLevel.RemoteApply).IsCompletedSuccessfully);
    }

    [Fact]
    public async Task ManyConcurrentWaiters_AreReleasedInLsnOrder()
    {
        var standbys = new FakeStandbys();
        standbys.Set(1, "a", "streaming", 0, 1, 0);
        var c = standbys.Coordinator("a");
        var random = new Random(42);
        var targets = Enumerable.Range(0, 4000).Select(_ => (ulong)random.Next(2, 1_000_000)).ToArray();
        var waits = new ValueTask[targets.Length];
        Parallel.For(0, targets.Length, new ParallelOptions { MaxDegreeOfParallelism = 8 },
            i => waits[i] = c.WaitAsync(new Lsn(targets[i]), SynchronousCommitLevel.On));
        Assert.Equal((0, targets.Length, 0), c.Waiting);
        var blocking = Enumerable.Range(0, 8).Select(i => (Target: 100_000UL * (ulong)(i + 1), Task: Task.Factory.StartNew(
            () => c.Wait(new Lsn(100_000UL * (ulong)(i + 1)), SynchronousCommitLevel.On), TaskCreationOptions.LongRunning))).ToArray();
        WaitUntil(() => c.Waiting.Flush == targets.Length + 8);

        for (ulong flush = 0; flush <= 1_000_000; flush += 25_000)
        {
            standbys.Set(1, "a", "streaming", 0, flush, 0);
            c.Release();
            for (int i = 0; i < targets.Length; i++)
                Assert.True(waits[i].IsCompleted == targets[i] <= flush, $"waiter at {targets[i]} completed={waits[i].IsCompleted} with the standby at {flush}");
            Assert.Equal(targets.Count(t => t > flush) + blocking.Count(b => b.Target > flush), c.Waiting.Flush);
            foreach (var (target, task) in blocking.Where(b => b.Target <= flush))
                await task.WaitAsync(Patience);
            Assert.All(blocking.Where(b => b.Target > flush), b => Assert.False(b.Task.IsCompleted));
        }
        foreach (var w in waits)
            await w;
    }

    [Fact]
    public void ACommitCycle_ReusesItsPooledWaiter_WithoutAllocating()
    {
        var standbys = new FakeStandbys();
        standbys.Set(1, "a", "streaming", 0, 0, 0);
        var c = standbys.Coordinator("a");
        Cycles(c, standbys, 1, 100);   // warms the pool and the scratch lists up
        long before = GC.GetAllocatedBytesForCurrentThread();
        Cycles(c, standbys, 101, 1100);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated < 1000, $"1000 waits allocated {allocated} bytes");
    }

    // A commit waits, its standby confirms it, the waiter is consumed (no continuation: completed first).
    private static void Cycles(SyncRepCoordinator c, FakeStandbys standbys, ulong from, ulong to)
    {
        for (ulong lsn = from; lsn <= to; lsn++)
        {
            var wait = c.WaitAsync(new Lsn(lsn), SynchronousCommitLevel.On);
            if (wait.IsCompleted)
                throw new InvalidOperationException($"the wait at {lsn} did not wait");
            standbys.Set(1, "a", "streaming", lsn, lsn, lsn);
            c.Release();
            wait.GetAwaiter().GetResult();
        }
    }

    [Fact]
    public void Classify_GivesPgStatReplicationsSyncPriorityAndState()
    {
        var standbys = new List<SyncRepStandby>
        {
            new(1, "a", "streaming", new Lsn(10), new Lsn(10), Lsn.Invalid),
            new(2, "b", "streaming", new Lsn(10), new Lsn(10), Lsn.Invalid),
            new(3, "c", "streaming", new Lsn(10), new Lsn(10), Lsn.Invalid),
            new(4, "b", "catchup", new Lsn(10), new Lsn(10), Lsn.Invalid),
            new(5, "a", "streaming", new Lsn(10), Lsn.Invalid, Lsn.Invalid),
        };
        var first = new SyncRepCoordinator(SynchronousStandbyNames.Parse("FIRST 1 (a, b)")).Classify(standbys);
        Assert.Equal([(1, "sync"), (2, "potential"), (0, "async"), (2, "potential"), (0, "async")], first);
        var any = new SyncRepCoordinator(SynchronousStandbyNames.Parse("ANY 2 (a, b)")).Classify(standbys);
        Assert.Equal([(1, "quorum"), (1, "quorum"), (0, "async"), (1, "potential"), (0, "async")], any);
        // Priority mode with fewer candidates than needed: the ones there are show as sync (SyncRepGetCandidateStandbys).
        var two = new SyncRepCoordinator(SynchronousStandbyNames.Parse("FIRST 2 (c, x)")).Classify(standbys);
        Assert.Equal([(0, "async"), (0, "async"), (1, "sync"), (0, "async"), (0, "async")], two);
        var none = new SyncRepCoordinator(SynchronousStandbyNames.None).Classify(standbys);
        Assert.All(none, s => Assert.Equal((0, "async"), s));
    }

    private static void WaitUntil(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "timed out");
            Thread.Sleep(5);
        }
    }
}
