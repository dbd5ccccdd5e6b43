// Synchronous replication through PgWal's walsender with a standby that reports its write, flush
// and apply positions separately (TestStandby): remote_write, on and remote_apply commits each
// return exactly when their own position reaches the commit, not before, blocking or async;
// pg_stat_replication shows the standby as sync; a standby that disconnects leaves commits waiting
// until another one confirms them; closing the instance ends a wait with its exception.
using PgWal.Insert;
using PgWal.Replication.Sync;

namespace PgWal.Tests.Replication.SyncRep;

public sealed class SyncRepWalSenderTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan Stalled = TimeSpan.FromMilliseconds(300);

    private static Lsn InsertCommit(WalInstance instance)
        => instance.Insert(BuiltinRecords.Noop(new RecordBuilder(), new byte[200]));

    private static void WaitForStreaming(WalSenderFixture f, int count = 1)
        => WalSenderFixture.WaitUntil(() => f.Instance.WalSender!.Snapshot().Count(s => s.State == "streaming") >= count, Patience, () => "no streaming standby");

    [Theory]
    [InlineData(SynchronousCommitLevel.RemoteWrite, false)]
    [InlineData(SynchronousCommitLevel.On, false)]
    [InlineData(SynchronousCommitLevel.RemoteApply, false)]
    [InlineData(SynchronousCommitLevel.RemoteWrite, true)]
    [InlineData(SynchronousCommitLevel.On, true)]
    [InlineData(SynchronousCommitLevel.RemoteApply, true)]
    public async Task ACommitReturnsExactlyWhenItsLevelsPositionIsReported(SynchronousCommitLevel level, bool async)
    {
        using var f = new WalSenderFixture();
        f.Instance.SynchronousStandbyNames = "FIRST 1 (standby1)";
        await using var standby = await TestStandby.StartAsync(f, "standby1");
        Lsn start = f.Instance.Wal.FlushedUpTo;
        await standby.ReportAsync(start, start, start);
        WaitForStreaming(f);
        var row = Assert.Single(f.Instance.WalSender!.Snapshot());
        WalSenderFixture.WaitUntil(() => f.Instance.WalSender!.Snapshot()[0].FlushLsn == start, Patience, () => "no status update");
        Assert.Equal((1, "sync"), (f.Instance.WalSender!.Snapshot()[0].SyncPriority, f.Instance.WalSender!.Snapshot()[0].SyncState));
        Assert.Equal("standby1", row.ApplicationName);

        Lsn end = InsertCommit(f.Instance);
        Task commit = async ? f.Instance.WaitForCommitAsync(end, level).AsTask() : Task.Run(() => f.Instance.WaitForCommit(end, level));
        standby.WaitForReceived(end, Patience);
        Assert.True(f.Instance.Wal.FlushedUpTo >= end, "the local flush comes first");

        // Every position but the level's own reaches the commit; the level's stops one byte short.
        Lsn short1 = end - 1;
        await standby.ReportAsync(level == SynchronousCommitLevel.RemoteWrite ? short1 : end,
            level == SynchronousCommitLevel.On ? short1 : end, level == SynchronousCommitLevel.RemoteApply ? short1 : end);
        await Task.Delay(Stalled);
        Assert.False(commit.IsCompleted, $"a {level.Name()} commit returned before its position reached {end}");

        await standby.ReportAsync(end, end, end);
        await commit.WaitAsync(Patience);
        var positions = f.Instance.SynchronousReplicationPositions;
        Assert.True(positions.WrittenUpTo >= end && positions.FlushedUpTo >= end && positions.AppliedUpTo >= end, positions.ToString());
    }

    [Fact]
    public async Task WithoutSynchronousStandbyNames_OrAtLocal_CommitsDoNotWait()
    {
        using var f = new WalSenderFixture();
        await using var standby = await TestStandby.StartAsync(f, "standby1");
        WaitForStreaming(f);
        Lsn end = InsertCommit(f.Instance);
        f.Instance.WaitForCommit(end);   // no setting: local flush only
        Assert.True(f.Instance.Wal.FlushedUpTo >= end);
        Assert.Equal("async", f.Instance.WalSender!.Snapshot()[0].SyncState);

        f.Instance.SynchronousStandbyNames = "standby1";
        Lsn local = InsertCommit(f.Instance);
        await f.Instance.WaitForCommitAsync(local, SynchronousCommitLevel.Local);
        Assert.True(f.Instance.Wal.FlushedUpTo >= local);
        Lsn off = InsertCommit(f.Instance);
        f.Instance.WaitForCommit(off, SynchronousCommitLevel.Off);   // returns without waiting for anything
        WalSenderFixture.WaitUntil(() => f.Instance.Wal.FlushedUpTo >= off, Patience, () => "the WAL writer did not flush an off commit");
    }

    [Fact]
    public async Task ADisconnectedStandbyLeavesCommitsWaiting_UntilAnotherConfirms()
    {
        using var f = new WalSenderFixture();
        f.Instance.SynchronousStandbyNames = "FIRST 1 (s1, s2)";
        var first = await TestStandby.StartAsync(f, "s1");
        Lsn start = f.Instance.Wal.FlushedUpTo;
        await first.ReportAsync(start, start, start);
        WaitForStreaming(f);
        Lsn end = InsertCommit(f.Instance);
        var commit = f.Instance.WaitForCommitAsync(end).AsTask();
        first.WaitForReceived(end, Patience);
        await first.DisposeAsync();
        WalSenderFixture.WaitUntil(() => f.Instance.WalSender!.Snapshot().Count == 0, Patience, () => "the walsender did not end");
        await Task.Delay(Stalled);
        Assert.False(commit.IsCompleted);

        await using var second = await TestStandby.StartAsync(f, "S2");
        await second.ReportAsync(start, start, start);
        WaitForStreaming(f);
        Assert.False(commit.IsCompleted);
        second.WaitForReceived(end, Patience);
        await second.ReportAsync(end, end, Lsn.Invalid);
        await commit.WaitAsync(Patience);
    }

    [Fact]
    public async Task PotentialAndSyncStates_FollowThePriorities()
    {
        using var f = new WalSenderFixture();
        f.Instance.SynchronousStandbyNames = "FIRST 1 (a, b)";
        await using var b = await TestStandby.StartAsync(f, "b");
        await using var a = await TestStandby.StartAsync(f, "a");
        await using var other = await TestStandby.StartAsync(f, "other");
        Lsn start = f.Instance.Wal.FlushedUpTo;
        foreach (var s in new[] { a, b, other })
            await s.ReportAsync(start, start, start);
        WaitForStreaming(f, 3);
        WalSenderFixture.WaitUntil(() => f.Instance.WalSender!.Snapshot().All(s => s.FlushLsn.IsValid), Patience, () => "no status updates");
        var rows = f.Instance.WalSender!.Snapshot().ToDictionary(s => s.ApplicationName);
        Assert.Equal((1, "sync"), (rows["a"].SyncPriority, rows["a"].SyncState));
        Assert.Equal((2, "potential"), (rows["b"].SyncPriority, rows["b"].SyncState));
        Assert.Equal((0, "async"), (rows["other"].SyncPriority, rows["other"].SyncState));

        f.Instance.SynchronousStandbyNames = "ANY 2 (a, b)";
        rows = f.Instance.WalSender!.Snapshot().ToDictionary(s => s.ApplicationName);
        Assert.Equal((1, "quorum"), (rows["a"].SyncPriority, rows["a"].SyncState));
        Assert.Equal((1, "quorum"), (rows["b"].SyncPriority, rows["b"].SyncState));
    }

    [Fact]
    public async Task ClosingTheInstance_EndsAWaitWithItsException()
    {
        var f = new WalSenderFixture();
        try
        {
            f.Instance.SynchronousStandbyNames = "nobody";
            Lsn end = InsertCommit(f.Instance);
            var commit = f.Instance.WaitForCommitAsync(end).AsTask();
            await Task.Delay(Stalled);
            Assert.False(commit.IsCompleted);
            Assert.True(f.Instance.Wal.FlushedUpTo >= end);
            f.Instance.Dispose();
            var e = await Assert.ThrowsAsync<SyncRepWaitCanceledException>(() => commit.WaitAsync(Patience));
            Assert.Equal(SyncRepCancelReason.InstanceClosed, e.Reason);
        }
        finally
        {
            f.Dispose();
        }
    }
}
