// Real pg_receivewal 15 as a synchronous standby of PgWal (reference §4.4, §7): with --synchronous
// and a slot it reports what it fsynced, so a commit at "on" completes once it has the commit on
// disk, and pg_stat_replication shows it as sync (a second such receiver later in the list as
// potential); remote_apply still waits (pg_receivewal never reports an apply position) until the
// wait is cancelled. Without --synchronous and without a slot it reports flush 0: it is async
// whatever its name, and a commit at "on" waits until the setting is emptied.
using PgWal.Insert;
using PgWal.Replication.Server;
using PgWal.Replication.Sync;
using PgWal.Tests.Infrastructure;

namespace PgWal.Tests.Replication.SyncRep;

public sealed class SyncRepReceivewalTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan Stalled = TimeSpan.FromMilliseconds(500);

    private static BackgroundProcess Receivewal(WalSenderFixture f, string target, params string[] extra)
    {
        Directory.CreateDirectory(target);
        return new(PgTools.Require("pg_receivewal"), ["-D", target, .. f.ConnectionArgs, "-v", .. extra], f.Environment);
    }

    private static void CreateSlot(WalSenderFixture f, string slot)
    {
        var create = PgTools.Run(PgTools.Require("pg_receivewal"), ["--create-slot", "-S", slot, .. f.ConnectionArgs], timeout: Patience, environment: f.Environment);
        Assert.True(create.ExitCode == 0, create.Stderr);
    }

    private static Lsn InsertCommit(WalInstance instance)
        => instance.Insert(BuiltinRecords.Noop(new RecordBuilder(), new byte[100]));

    private static WalSenderInfo Row(WalSenderFixture f, string applicationName)
        => f.Instance.WalSender!.Snapshot().Single(s => s.ApplicationName == applicationName);

    [Fact]
    public async Task SynchronousReceivewalWithASlot_ConfirmsCommitsAtOn_AndIsSync()
    {
        using var f = new WalSenderFixture();
        CreateSlot(f, "s1");
        CreateSlot(f, "s2");
        f.Instance.SynchronousStandbyNames = "FIRST 1 (pg_receivewal, second)";
        using var receiver = Receivewal(f, f.Combine("recv1"), "-S", "s1", "--synchronous");
        using var second = Receivewal(f, f.Combine("recv2"), "-S", "s2", "--synchronous", "-d", "application_name=second");
        WalSenderFixture.WaitUntil(() => f.Instance.WalSender!.Snapshot().Count(s => s.State == "streaming" && s.FlushLsn.IsValid) == 2,
            Patience, () => receiver.Output + second.Output);

        for (int i = 0; i < 20; i++)
        {
            Lsn end = InsertCommit(f.Instance);
            await f.Instance.WaitForCommitAsync(end, SynchronousCommitLevel.On).AsTask().WaitAsync(Patience);
            // Released only once pg_receivewal reported it flushed.
            Assert.True(Row(f, "pg_receivewal").FlushLsn >= end, $"released at {end} with pg_receivewal's flush at {Row(f, "pg_receivewal").FlushLsn}");
            Assert.True(f.Instance.SynchronousReplicationPositions.FlushedUpTo >= end);
        }
        Assert.Equal((1, "sync"), (Row(f, "pg_receivewal").SyncPriority, Row(f, "pg_receivewal").SyncState));
        Assert.Equal((2, "potential"), (Row(f, "second").SyncPriority, Row(f, "second").SyncState));

        // pg_receivewal reports no apply position: remote_apply waits until cancelled.
        Lsn applied = InsertCommit(f.Instance);
        using var cancel = new CancellationTokenSource();
        var wait = f.Instance.WaitForCommitAsync(applied, SynchronousCommitLevel.RemoteApply, cancel.Token).AsTask();
        WalSenderFixture.WaitUntil(() => Row(f, "pg_receivewal").FlushLsn >= applied, Patience, () => receiver.Output);
        await Task.Delay(Stalled);
        Assert.False(wait.IsCompleted);
        cancel.Cancel();
        var e = await Assert.ThrowsAsync<SyncRepWaitCanceledException>(() => wait.WaitAsync(Patience));
        Assert.StartsWith("canceling wait for synchronous replication due to user request", e.Message);
        Assert.True(f.Instance.Wal.FlushedUpTo >= applied, "the commit is durable locally");

        receiver.Interrupt();
        second.Interrupt();
        Assert.Equal(0, receiver.WaitForExit(Patience));
        Assert.Equal(0, second.WaitForExit(Patience));
    }

    [Fact]
    public async Task PlainReceivewal_ReportsNoFlush_IsAsync_AndACommitWaitsUntilTheSettingIsEmptied()
    {
        using var f = new WalSenderFixture();
        f.Instance.SynchronousStandbyNames = "pg_receivewal";
        using var receiver = Receivewal(f, f.Combine("recv"));
        WalSenderFixture.WaitUntil(() => f.Instance.WalSender!.Snapshot().Any(s => s.State == "streaming" && s.WriteLsn.IsValid), Patience, () => receiver.Output);

        Lsn end = InsertCommit(f.Instance);
        var onCommit = Task.Run(() => f.Instance.WaitForCommit(end, SynchronousCommitLevel.On));
        var writeCommit = f.Instance.WaitForCommitAsync(end, SynchronousCommitLevel.RemoteWrite).AsTask();
        // It receives and writes the commit, and says so, but with flush 0 it is no candidate.
        WalSenderFixture.WaitUntil(() => Row(f, "pg_receivewal").WriteLsn >= end, Patience, () => receiver.Output);
        await Task.Delay(Stalled);
        var row = Row(f, "pg_receivewal");
        Assert.Equal(Lsn.Invalid, row.FlushLsn);
        Assert.Equal((0, "async"), (row.SyncPriority, row.SyncState));
        Assert.False(onCommit.IsCompleted);
        Assert.False(writeCommit.IsCompleted);

        // A cancelled wait ends with PostgreSQL's warning; emptying the setting releases the rest.
        using var cancel = new CancellationTokenSource();
        var cancelled = f.Instance.WaitForCommitAsync(end, SynchronousCommitLevel.On, cancel.Token).AsTask();
        cancel.CancelAfter(100);
        await Assert.ThrowsAsync<SyncRepWaitCanceledException>(() => cancelled.WaitAsync(Patience));
        Assert.False(onCommit.IsCompleted);

        f.Instance.SynchronousStandbyNames = "";
        await onCommit.WaitAsync(Patience);
        await writeCommit.WaitAsync(Patience);
        receiver.Interrupt();
        Assert.Equal(0, receiver.WaitForExit(Patience));
    }
}
