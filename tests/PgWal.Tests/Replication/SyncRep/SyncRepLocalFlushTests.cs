// A commit that waits for its synchronous standbys does not first wait for its own local flush
// (the standbys can only confirm WAL flushed here; WalInstance.WaitForCommit only makes sure the
// flush happens). These tests hold the local flush in progress (its fsync parked at a gate) and
// check the promises that remain: a commit released by emptying synchronous_standby_names, or by
// a cancel, still returns only once it is durable locally; a local flush that fails ends the
// standby wait with the engine's fault (the outcome unknown) instead of leaving it waiting forever.
using PgWal.Insert;
using PgWal.Replication.Sync;
using PgWal.Tests.Infrastructure;
using PgWal.Write;

namespace PgWal.Tests.Replication.SyncRep;

public sealed class SyncRepLocalFlushTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan Stalled = TimeSpan.FromMilliseconds(300);

    private sealed class HeldFlush : IDisposable
    {
        private readonly ManualResetEventSlim _gate = new();
        public readonly WalSenderFixture F;
        public readonly FaultInjectingStorage Storage;
        public readonly Task Holder;

        // Starts the instance, then a flush whose fsync waits at the gate: the group-commit leader.
        public HeldFlush()
        {
            FaultInjectingStorage? storage = null;
            F = new WalSenderFixture(storage: d => storage = new FaultInjectingStorage(d));
            Storage = storage!;
            F.Instance.SynchronousStandbyNames = "nobody";   // no such standby: a remote wait lasts
            F.Instance.Wal.Flush(F.Instance.Wal.InsertedUpTo);
            Lsn first = InsertCommit(F.Instance);
            Storage.Wal.SyncGate = _gate;
            Holder = Task.Run(() => F.Instance.Wal.Flush(first));
            WalSenderFixture.WaitUntil(() => Storage.Wal.SyncsWaiting >= 1 && F.Instance.Wal.FlushInProgress, Patience, () => "the held flush never reached its fsync");
        }

        public void Open()
        {
            Storage.Wal.SyncGate = null;
            _gate.Set();
        }

        // A commit inserted while the flush is held, waiting at `on` on a thread or as a ValueTask,
        // once it is queued for its standbys.
        public (Lsn End, Task Commit) Commit(bool async, CancellationToken token = default)
        {
            Lsn end = InsertCommit(F.Instance);
            Task commit = async
                ? F.Instance.WaitForCommitAsync(end, SynchronousCommitLevel.On, token).AsTask()
                : Task.Run(() => F.Instance.WaitForCommit(end, SynchronousCommitLevel.On, token));
            WalSenderFixture.WaitUntil(() => F.Instance.SyncRep.Waiting.Flush == 1 || commit.IsCompleted, Patience, () => "the commit never queued for its standbys");
            Assert.False(commit.IsCompleted, "the commit returned while its flush was held and no standby confirmed it");
            Assert.True(F.Instance.Wal.FlushedUpTo < end, "the held flush let the commit through");
            return (end, commit);
        }

        public void Dispose()
        {
            Open();
            F.Dispose();
        }
    }

    private static Lsn InsertCommit(WalInstance instance)
        => instance.Insert(BuiltinRecords.Noop(new RecordBuilder(), new byte[200]));

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ReleasedByEmptyingTheSetting_ACommitStillWaitsForItsLocalFlush(bool async)
    {
        using var held = new HeldFlush();
        var (end, commit) = held.Commit(async);

        held.F.Instance.SynchronousStandbyNames = "";
        WalSenderFixture.WaitUntil(() => held.F.Instance.SyncRep.Waiting.Flush == 0, Patience, () => "emptying the setting released nobody");
        await Task.Delay(Stalled);
        Assert.False(commit.IsCompleted, "released by the setting, the commit returned before its local flush");

        held.Open();
        await commit.WaitAsync(Patience);
        Assert.True(held.F.Instance.Wal.FlushedUpTo >= end, $"the commit returned with the WAL flushed only to {held.F.Instance.Wal.FlushedUpTo}, before {end}");
        await held.Holder.WaitAsync(Patience);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ACanceledStandbyWait_EndsOnlyOnceTheCommitIsDurableLocally(bool async)
    {
        using var held = new HeldFlush();
        using var cancel = new CancellationTokenSource();
        var (end, commit) = held.Commit(async, cancel.Token);

        cancel.Cancel();
        await Task.Delay(Stalled);
        Assert.False(commit.IsCompleted, "the cancel was reported before the commit was durable locally, as its message says it is");

        held.Open();
        var e = await Assert.ThrowsAsync<SyncRepWaitCanceledException>(() => commit.WaitAsync(Patience));
        Assert.Equal(SyncRepCancelReason.UserRequest, e.Reason);
        Assert.True(held.F.Instance.Wal.FlushedUpTo >= end);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AFailedLocalFlush_EndsTheStandbyWait_WithTheEnginesFault(bool async)
    {
        using var held = new HeldFlush();
        var (_, commit) = held.Commit(async);

        held.Storage.Wal.SyncFailure = new IOException("Input/output error (injected)");
        held.Open();
        var e = await Assert.ThrowsAsync<WalFaultedException>(() => commit.WaitAsync(Patience));
        Assert.Contains("injected", e.Message);
        await Assert.ThrowsAnyAsync<IOException>(() => held.Holder.WaitAsync(Patience));
        // Later commits cannot wait for standbys either: the fault is the answer at once.
        Assert.ThrowsAny<IOException>(() => held.F.Instance.WaitForCommit(held.F.Instance.Wal.InsertedUpTo, SynchronousCommitLevel.On));
    }
}
