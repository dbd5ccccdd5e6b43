// CheckpointFailureTests: a failed fsync of a relation file (or a failed control-file write) PANICs
// the instance, as in PostgreSQL: no commit is acknowledged after it, no page is written, and
// reopening recovers every acknowledged commit. Any other checkpoint failure (a page write
// failing for lack of space) fails that checkpoint only: the next one — requested or background —
// runs and completes.
using PgWal.Kv;
using PgWal.Tests.Infrastructure;

namespace PgWal.Tests.Durability;

public sealed class CheckpointFailureTests
{
    private static byte[] K(string s) => System.Text.Encoding.UTF8.GetBytes(s);

    private static KvOptions Options(bool background = false) => new()
    {
        Instance = new WalInstanceOptions { BackgroundCheckpointer = background, SharedBuffers = 256, CheckpointTimeout = TimeSpan.FromMilliseconds(300) },
        Init = new WalInitOptions { SegmentSize = 1 << 20 },
    };

    [Theory]
    [InlineData("relation fsync")]
    [InlineData("control file")]
    public void FsyncOrControlFileFailure_InACheckpoint_PanicsTheInstance_AndRecoveryKeepsEveryAcknowledgedCommit(string failure)
    {
        using var dir = new TempDirectory("ckptpanic");
        var storage = new FaultInjectingStorage(dir.Path);
        var store = KvStore.Open(storage, Options());
        for (int i = 0; i < 200; i++)
            store.Put(K($"k{i:D4}"), K($"v{i}"));
        if (failure == "relation fsync")
            storage.FailRelationSync = _ => true;
        else
            storage.FailControlWrite = () => true;

        Assert.ThrowsAny<IOException>(() => store.Instance.Checkpoint());
        Assert.NotNull(store.Instance.Wal.Fault);                                 // PANIC: the engine refuses everything
        Assert.ThrowsAny<IOException>(() => store.Put(K("after"), K("x")));
        Assert.ThrowsAny<Exception>(() => store.Instance.Checkpoint());            // and no checkpoint runs any more
        store.Dispose();

        storage.FailRelationSync = null;
        storage.FailControlWrite = null;
        using var reopened = KvStore.Open(storage, Options());
        Assert.True(reopened.Instance.Recovery.CrashRecovery);
        for (int i = 0; i < 200; i++)
            Assert.Equal(K($"v{i}"), reopened.Get(K($"k{i:D4}")));
        Assert.Null(reopened.Get(K("after")));
        Assert.Empty(reopened.CheckTree().Problems);
    }

    [Fact]
    public void PageWriteFailure_FailsOneCheckpoint_AndTheNextOneCompletes()
    {
        using var dir = new TempDirectory("ckptretry");
        var storage = new FaultInjectingStorage(dir.Path);
        using var store = KvStore.Open(storage, Options());
        for (int i = 0; i < 200; i++)
            store.Put(K($"k{i:D4}"), K($"v{i}"));
        storage.FailRelationWrite = (_, _) => true;
        Assert.ThrowsAny<IOException>(() => store.Instance.Checkpoint());
        Assert.Null(store.Instance.Wal.Fault);
        Assert.Equal(1, store.Instance.ConsecutiveCheckpointFailures);
        store.Put(K("during"), K("x"));                                           // commits go on

        storage.FailRelationWrite = null;                                         // the disk has room again
        var checkpoint = store.Instance.Checkpoint();
        Assert.True(checkpoint.BuffersWritten > 0);
        Assert.Equal(0, store.Instance.ConsecutiveCheckpointFailures);
        Assert.Equal(K("x"), store.Get(K("during")));
    }

    [Fact]
    public void BackgroundCheckpointer_RetriesAfterAFailure_AndCompletesOnceTheConditionClears()
    {
        using var dir = new TempDirectory("ckptbg");
        var storage = new FaultInjectingStorage(dir.Path);
        storage.FailRelationWrite = (_, _) => true;
        using var store = KvStore.Open(storage, Options(background: true));
        long completed = store.Instance.CheckpointsCompleted;
        for (int i = 0; i < 100; i++)
            store.Put(K($"k{i:D4}"), K($"v{i}"));
        Assert.True(SpinWait.SpinUntil(() => store.Instance.ConsecutiveCheckpointFailures > 0, TimeSpan.FromSeconds(10)), "no timed checkpoint was attempted");
        storage.FailRelationWrite = null;
        Assert.True(SpinWait.SpinUntil(() => store.Instance.CheckpointsCompleted > completed, TimeSpan.FromSeconds(15)),
            "the background checkpointer never completed a checkpoint after a failure");
        Assert.Null(store.Instance.Wal.Fault);
    }
}
