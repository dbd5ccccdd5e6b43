// The settings of synchronous replication on a WalInstance: an invalid synchronous_standby_names
// stops the open (naming the parameter) without keeping the directory locked; an invalid run-time
// change throws and leaves the old setting; the default level comes from the options and can be
// changed at run time.
using PgWal.Insert;
using PgWal.Replication.Sync;
using PgWal.Tests.Infrastructure;

namespace PgWal.Tests.Replication.SyncRep;

public sealed class SyncRepSettingsTests
{
    [Fact]
    public void InvalidNamesStopTheOpen_AndAnInvalidRunTimeChangeChangesNothing()
    {
        using var dir = new TempDirectory("syncopts");
        string data = dir.Combine("data");
        WalInstance.Initialize(data, new WalInitOptions { SegmentSize = WalSenderFixture.SegmentSize });
        var e = Assert.Throws<ArgumentException>(() => WalInstance.Open(data, new WalInstanceOptions { SynchronousStandbyNames = "FIRST 0 (a)" }));
        Assert.Contains("invalid value for parameter \"synchronous_standby_names\": \"FIRST 0 (a)\": number of synchronous standbys (0) must be greater than zero", e.Message);

        using var instance = WalInstance.Open(data, new WalInstanceOptions { SynchronousStandbyNames = "ANY 1 (a, b)", SharedBuffers = 64 });
        Assert.Equal("ANY 1 (a, b)", instance.SynchronousStandbyNames);
        Assert.Equal(SynchronousCommitLevel.On, instance.SynchronousCommit);
        var change = Assert.Throws<FormatException>(() => instance.SynchronousStandbyNames = "a,");
        Assert.Contains("syntax error at end of input", change.Message);
        Assert.Equal("ANY 1 (a, b)", instance.SynchronousStandbyNames);
        instance.SynchronousStandbyNames = "";
        Assert.Equal("", instance.SynchronousStandbyNames);
    }

    [Fact]
    public async Task TheDefaultLevel_ComesFromTheOptions_AndChangesAtRunTime()
    {
        using var f = new WalSenderFixture();
        f.Restart(f.Options with { SynchronousStandbyNames = "nobody", SynchronousCommit = SynchronousCommitLevel.Local });
        Assert.Equal(SynchronousCommitLevel.Local, f.Instance.SynchronousCommit);
        Lsn local = f.Instance.Insert(BuiltinRecords.Noop(new RecordBuilder(), new byte[10]));
        f.Instance.WaitForCommit(local);   // local: flushed, no standby wait although nobody confirms
        Assert.True(f.Instance.Wal.FlushedUpTo >= local);

        f.Instance.SynchronousCommit = SynchronousCommitLevel.On;
        Lsn on = f.Instance.Insert(BuiltinRecords.Noop(new RecordBuilder(), new byte[10]));
        var wait = f.Instance.WaitForCommitAsync(on).AsTask();
        await Task.Delay(300);
        Assert.False(wait.IsCompleted);
        f.Instance.SynchronousStandbyNames = "";
        await wait.WaitAsync(TimeSpan.FromSeconds(30));
    }
}
