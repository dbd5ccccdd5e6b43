// NoOpWriteDurabilityTests: a write that changes nothing (deleting an absent key) still reports on
// state it observed. If another client's delete of that key is committed but not yet durable, the
// no-op must not return before it is: after a power loss the key would be back, contradicting an
// acknowledged "deleted / absent".
using PgWal.Kv;
using PgWal.Tests.Infrastructure;

namespace PgWal.Tests.Durability;

public sealed class NoOpWriteDurabilityTests
{
    private static byte[] K(string s) => System.Text.Encoding.UTF8.GetBytes(s);

    [Fact]
    public void DeleteOfAKeyAnotherDeleteRemoved_ReturnsOnlyOnceThatDeleteIsDurable()
    {
        var disk = new SimulatedDisk(seed: 5);
        var options = new KvOptions
        {
            Instance = new WalInstanceOptions { BackgroundCheckpointer = false, SharedBuffers = 64, Wal = new Write.WalOptions { WalWriterDelay = TimeSpan.Zero } },
            Init = new WalInitOptions { SegmentSize = 1 << 20 },
        };
        var store = KvStore.Open(disk, options);
        store.Put(K("k"), K("v"));

        var gate = new ManualResetEventSlim(false);
        disk.WalSyncGate = gate;
        var first = new Thread(() => { try { store.Delete(K("k")); } catch (IOException) { } });
        first.Start();
        SpinWait.SpinUntil(() => disk.WalSyncsWaiting == 1, TimeSpan.FromSeconds(10));
        Assert.Equal(1, disk.WalSyncsWaiting);           // the first delete's commit is inserted, its flush held

        bool? secondFound = null;
        Exception? secondError = null;
        var second = new Thread(() =>
        {
            try
            {
                secondFound = store.Delete(K("k"));
            }
            catch (Exception e)
            {
                secondError = e;
            }
        });
        second.Start();
        bool returnedBeforeDurable = second.Join(TimeSpan.FromMilliseconds(500));

        disk.TearKeepSectors = 0;                         // nothing of the unsynced write lands
        disk.ArmCrash(1);                                 // power fails at the held sync
        gate.Set();
        Assert.True(first.Join(TimeSpan.FromSeconds(10)));
        Assert.True(second.Join(TimeSpan.FromSeconds(10)));
        store.Abandon();
        disk.WalSyncGate = null;
        disk.PowerCycle();

        using var reopened = KvStore.Open(disk, options);
        bool keyBack = reopened.Get(K("k")) != null;
        Assert.False(returnedBeforeDurable && secondFound == false && keyBack,
            "the second delete acknowledged the key as absent before the delete it saw was durable; after the power loss the key is back");
        Assert.False(returnedBeforeDurable, "the no-op delete returned while the delete it observed was not durable");
        Assert.True(keyBack);                             // the first delete never became durable
        Assert.NotNull(secondError);                      // so the second could not be acknowledged
    }
}
