// BufferPoolRaceTests: interleavings found in review, pinned down. (1) A checkpoint that starts
// while an eviction is writing a page must wait for that write and fsync it, or a power loss loses
// an acknowledged change. (2) Nothing may be inserted after the shutdown checkpoint record: the
// next open would skip recovery and overwrite it.
using System.Buffers.Binary;
using PgWal.Cli.PageTest;
using PgWal.Insert;
using PgWal.Pages;
using PgWal.Recovery;
using PgWal.Storage;
using PgWal.Tests.Infrastructure;
using PgWal.Write;

namespace PgWal.Tests.Crash;

public sealed class BufferPoolRaceTests
{
    private static WalInstanceOptions Options() => new()
    {
        Wal = new WalOptions { WalWriterDelay = TimeSpan.Zero, PreallocateSegments = 0, WalBuffers = 256 * 1024 },
        SharedBuffers = 16,
        BackgroundCheckpointer = false,
        ResourceManagers = new ResourceManagerRegistry().Register(PageTestResourceManager.Instance),
    };

    private static Lsn Init(WalInstance inst, RelFileLocator rel, uint block, ulong seq)
    {
        Span<byte> main = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(main, seq);
        using var buffer = inst.Buffers.Read(rel, ForkNumber.Main, new BlockNumber(block), ReadMode.ZeroAndLock);
        PageTestResourceManager.InitPage(buffer.Page, seq);
        buffer.MarkDirty();
        var b = new RecordBuilder().Begin(PageTestResourceManager.RmgrId, PageTestResourceManager.InitInfo).RegisterData(main);
        buffer.RegisterWith(b, 0, BlockRegistration.WillInit | BlockRegistration.Standard);
        Lsn end = inst.Insert(b);
        buffer.SetLsn(end);
        return end;
    }

    private static Lsn Change(WalInstance inst, RelFileLocator rel, uint block, ulong seq)
    {
        Span<byte> main = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(main, seq);
        var data = new byte[4 + 8];
        BinaryPrimitives.WriteUInt16LittleEndian(data, 100);
        BinaryPrimitives.WriteUInt16LittleEndian(data.AsSpan(2), 8);
        BinaryPrimitives.WriteUInt64LittleEndian(data.AsSpan(4), seq);
        using var buffer = inst.Buffers.Read(rel, ForkNumber.Main, new BlockNumber(block));
        buffer.LockExclusive();
        PageTestResourceManager.ApplyChange(buffer.Page, seq, data);
        buffer.MarkDirty();
        var b = new RecordBuilder().Begin(PageTestResourceManager.RmgrId, PageTestResourceManager.WriteInfo).RegisterData(main);
        buffer.RegisterWith(b, 0, BlockRegistration.Standard);
        b.RegisterBlockData(0, data);
        Lsn end = inst.Insert(b);
        buffer.SetLsn(end);
        return end;
    }

    [Fact]
    public void Checkpoint_WaitsForAnEvictionWriteInFlight_SoTheChangeSurvivesPowerLoss()
    {
        var disk = new SimulatedDisk(1);
        WalInstance.Initialize(disk, new WalInitOptions { SegmentSize = 1 << 20, DataChecksums = true });
        var gated = new GatedStorage(disk);
        var rel = new RelFileLocator(1663, 5, 16384);
        var other = new RelFileLocator(1663, 5, 16385);
        var inst = WalInstance.Open(gated, Options());
        inst.Wal.Flush(Init(inst, rel, 0, 1));
        inst.Checkpoint();                        // page 0 (stamp 1) durable
        inst.Wal.Flush(Change(inst, rel, 0, 2));  // acknowledged change, stamp 2
        gated.GatePath = RelationPath.Of(rel, ForkNumber.Main);
        gated.GateBlock = 0;
        var evictor = new Thread(() =>
        {
            for (uint b = 0; b < 64; b++)
                inst.Buffers.Read(other, ForkNumber.Main, new BlockNumber(b), ReadMode.ZeroBeyondEnd).Dispose();
        });
        evictor.Start();
        Assert.True(gated.Entered.Wait(10_000), "eviction write never started");
        var releaser = new Thread(() => { Thread.Sleep(500); gated.Release.Set(); });
        releaser.Start();
        var cp = inst.Checkpoint();               // completes while the eviction write is in flight
        releaser.Join();
        evictor.Join();
        inst.Abandon();
        disk.TearKeepSectors = 0;                 // the unsynced eviction write is lost at power-off
        disk.PowerCycle();
        var again = WalInstance.Open(disk, Options());
        using var buf = again.Buffers.Read(rel, ForkNumber.Main, new BlockNumber(0));
        buf.LockShared();
        ulong stamp = BinaryPrimitives.ReadUInt64LittleEndian(buf.Page[PageTestResourceManager.StampOffset..]);
        Assert.True(stamp == 2, $"acknowledged change lost: page stamp {stamp}, checkpoint wrote {cp.BuffersWritten} redo {cp.Redo}, recovery {again.Recovery}");
    }

    private sealed class HookLogger(Action<string> onMessage) : Microsoft.Extensions.Logging.ILoggerFactory, Microsoft.Extensions.Logging.ILogger
    {
        public void AddProvider(Microsoft.Extensions.Logging.ILoggerProvider provider) { }
        public Microsoft.Extensions.Logging.ILogger CreateLogger(string categoryName) => this;
        public void Dispose() { }
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(Microsoft.Extensions.Logging.LogLevel logLevel) => true;
        public void Log<TState>(Microsoft.Extensions.Logging.LogLevel logLevel, Microsoft.Extensions.Logging.EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            => onMessage(formatter(state, exception));
    }

    [Fact]
    public void Insert_AfterTheShutdownCheckpointRecord_IsRefused_NotSilentlyLost()
    {
        var disk = new SimulatedDisk(3);
        WalInstance.Initialize(disk, new WalInitOptions { SegmentSize = 1 << 20, DataChecksums = true });
        var rel = new RelFileLocator(1663, 5, 16384);
        WalInstance? inst = null;
        bool fired = false;
        Exception? refused = null;
        // A client thread that commits just after the shutdown checkpoint record (simulated from the log line).
        var logger = new HookLogger(m =>
        {
            if (!fired && m.StartsWith("checkpoint complete (Shutdown)"))
            {
                fired = true;
                refused = Record.Exception(() => inst!.Wal.Flush(Change(inst, rel, 0, 2)));
            }
        });
        var opts = Options();
        opts = opts with { Wal = opts.Wal with { LoggerFactory = logger } };
        inst = WalInstance.Open(disk, opts);
        inst.Wal.Flush(Init(inst, rel, 0, 1));
        inst.Dispose();
        Assert.True(fired);
        Assert.IsType<InvalidOperationException>(refused);   // not acknowledged, so nothing may be lost
        disk.PowerCycle();
        var again = WalInstance.Open(disk, Options());
        using var buf = again.Buffers.Read(rel, ForkNumber.Main, new BlockNumber(0));
        buf.LockShared();
        ulong stamp = BinaryPrimitives.ReadUInt64LittleEndian(buf.Page[PageTestResourceManager.StampOffset..]);
        Assert.Equal(1UL, stamp);
        Assert.False(again.Recovery.CrashRecovery);
    }
}
