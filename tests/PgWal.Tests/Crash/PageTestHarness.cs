// PageTestHarness: the page-test workload on a SimulatedDisk, single-threaded and seeded so a
// crash point is reproducible: open (recovering), verify every worker against the model and the
// acknowledgements, run ops (each a durable commit) with a checkpoint every few ops until the
// armed crash fires, abandon the instance, power-cycle. Two workers interleave to give multi-
// relation WAL; a tiny buffer pool forces evictions (the WAL rule at write-back).
using PgWal.Cli.PageTest;
using PgWal.Insert;
using PgWal.Recovery;
using PgWal.Tests.Infrastructure;
using PgWal.Write;

namespace PgWal.Tests.Crash;

internal sealed class PageTestHarness
{
    public const int Workers = 2;
    public const int Pages = 24;
    private readonly int _seed;
    private readonly ulong[] _acked = new ulong[Workers];

    public PageTestHarness(int seed, bool fullPageWrites = true)
    {
        _seed = seed;
        Disk = new SimulatedDisk(seed);
        WalInstance.Initialize(Disk, new WalInitOptions { SegmentSize = 1 << 20, DataChecksums = true, SystemIdentifier = 7000000000000000000UL + (ulong)seed });
        Options = new WalInstanceOptions
        {
            Wal = new WalOptions { WalWriterDelay = TimeSpan.Zero, PreallocateSegments = 0, WalBuffers = 256 * 1024 },
            SharedBuffers = 16,
            MaxWalSize = 3 << 20,
            MinWalSize = 2 << 20,
            BackgroundCheckpointer = false,
            FullPageWrites = fullPageWrites,
            ResourceManagers = new ResourceManagerRegistry().Register(PageTestResourceManager.Instance),
        };
    }

    public SimulatedDisk Disk { get; }
    public WalInstanceOptions Options { get; }
    public int CheckpointEvery { get; init; } = 40;
    public RecoveryResult? LastRecovery { get; private set; }
    public bool CrashedInCheckpoint { get; private set; }

    /// <summary>Records an op acknowledged outside RunUntilCrash.</summary>
    public void Acknowledge(int worker, ulong op) => _acked[worker] = Math.Max(_acked[worker], op);

    /// <summary>Opens (recovering) and checks every worker; throws with the difference when the model disagrees.</summary>
    public WalInstance OpenAndVerify()
    {
        var instance = WalInstance.Open(Disk, Options);
        LastRecovery = instance.Recovery;
        var workload = new PageTestWorkload(instance, _seed, Pages);
        for (int w = 0; w < Workers; w++)
        {
            if (workload.Verify(w, _acked[w]) is { } problem)
            {
                instance.Abandon();
                throw new Xunit.Sdk.XunitException($"seed {_seed}: {problem} (recovery: {instance.Recovery})");
            }
        }
        return instance;
    }

    /// <summary>Runs ops until the disk dies (or <paramref name="maxOps"/> ops); returns false when it ran out of ops.</summary>
    public bool RunUntilCrash(WalInstance instance, int maxOps)
    {
        var workload = new PageTestWorkload(instance, _seed, Pages);
        var next = new ulong[Workers];
        for (int w = 0; w < Workers; w++)
            next[w] = workload.LastApplied(w) + 1;
        var builder = new RecordBuilder();
        CrashedInCheckpoint = false;
        try
        {
            for (int i = 0; i < maxOps; i++)
            {
                int w = i % Workers;
                Lsn end = workload.Execute(builder, w, next[w]);
                instance.Wal.Flush(end);
                _acked[w] = next[w]++;
                if (i % CheckpointEvery == CheckpointEvery - 1)
                {
                    CrashedInCheckpoint = true;
                    instance.Checkpoint();
                    CrashedInCheckpoint = false;
                }
            }
            return false;
        }
        catch (Exception) when (Disk.Crashed)
        {
            return true;
        }
        finally
        {
            if (Disk.Crashed)
                instance.Abandon();
        }
    }
}
