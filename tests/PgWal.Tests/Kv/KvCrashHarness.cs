// KvCrashHarness: a KvStore on the simulated disk, checked against the model across power losses.
// Run ops (each durable when acknowledged) until the armed crash fires — in a WAL write or sync, a
// page write-back, a checkpoint, a control-file write or a segment recycle — then power-cycle,
// reopen (recovery) and require: the store equals the model (every acknowledged op present) or
// the model plus the whole in-flight op (never part of it), and the tree passes every check.
using PgWal.Kv;
using PgWal.Tests.Infrastructure;
using PgWal.Write;

namespace PgWal.Tests.Kv;

internal sealed class KvCrashHarness
{
    private readonly int _seed;
    private KvOp? _inFlight;

    public KvCrashHarness(int seed, KvModel model, int sharedBuffers = 256)
    {
        _seed = seed;
        Model = model;
        Disk = new SimulatedDisk(seed);
        Options = new KvOptions
        {
            Instance = new WalInstanceOptions
            {
                Wal = new WalOptions { WalWriterDelay = TimeSpan.Zero, PreallocateSegments = 0, WalBuffers = 256 * 1024 },
                SharedBuffers = sharedBuffers,
                MaxWalSize = 3 << 20,
                MinWalSize = 2 << 20,
                BackgroundCheckpointer = false,
            },
            Init = new WalInitOptions { SegmentSize = 1 << 20, DataChecksums = true, SystemIdentifier = 7100000000000000000UL + (ulong)seed },
        };
    }

    public SimulatedDisk Disk { get; }
    public KvModel Model { get; }
    public KvOptions Options { get; }
    public int CheckpointEvery { get; init; } = 40;
    public bool CrashedInCheckpoint { get; private set; }
    /// <summary>Infos of the kv records the in-flight op had logged when the crash came.</summary>
    public List<byte> InFlightRecords { get; } = [];

    /// <summary>Opens (recovering) and verifies against the model; throws with the difference.</summary>
    public KvStore OpenAndVerify()
    {
        var store = KvStore.Open(Disk, Options);
        if (Model.Verify(store, _inFlight) is { } problem)
        {
            store.Abandon();
            throw new Xunit.Sdk.XunitException($"seed {_seed}: {problem} (recovery: {store.Instance.Recovery})");
        }
        _inFlight = null;
        store.RecordLogged = info => InFlightRecords.Add(info);
        return store;
    }

    /// <summary>Runs ops from <paramref name="next"/> until the disk dies; false when the ops ran out first.</summary>
    public bool RunUntilCrash(KvStore store, Func<KvOp?> next)
    {
        CrashedInCheckpoint = false;
        try
        {
            for (int i = 0; ; i++)
            {
                var op = next();
                if (op == null)
                    return false;
                InFlightRecords.Clear();
                _inFlight = op;
                KvModel.Execute(store, op);
                Model.Acknowledge(op);
                _inFlight = null;
                if (i % CheckpointEvery == CheckpointEvery - 1)
                {
                    CrashedInCheckpoint = true;
                    store.Instance.Checkpoint();
                    CrashedInCheckpoint = false;
                }
            }
        }
        catch (Exception) when (Disk.Crashed)
        {
            return true;
        }
        finally
        {
            if (Disk.Crashed)
                store.Abandon();
        }
    }
}
