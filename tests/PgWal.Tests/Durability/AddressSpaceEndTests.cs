// AddressSpaceEndTests: LSNs are 64-bit and only grow. Near 2^64 arithmetic must not wrap: a reset
// to a start too close to the end is refused (it once created thousands of segments, or put the
// checkpoint at 0/28 below every page LSN), and an engine that runs out of address space faults
// instead of writing wrapped positions.
using PgWal.Checkpoint;
using PgWal.Format;
using PgWal.Insert;
using PgWal.Storage;
using PgWal.Tests.Infrastructure;
using PgWal.Write;

namespace PgWal.Tests.Durability;

public sealed class AddressSpaceEndTests
{
    private static readonly WalGeometry Geometry = new(WalGeometry.MinSegmentSize);

    [Fact]
    public void Geometry_ThrowsInsteadOfWrapping()
    {
        Assert.Equal(new Lsn(0xFFFF_FFFF_FFF0_0000), Geometry.EndOfAddressSpace);
        Assert.Equal(Geometry.EndOfAddressSpace, Geometry.SegmentStart(Geometry.LastSegment.Next));
        Assert.Throws<OverflowException>(() => Geometry.SegmentStart(Geometry.LastSegment.Next.Next));
        Assert.Throws<OverflowException>(() => Geometry.SegmentStart(new SegmentNumber(ulong.MaxValue)));
        Assert.Throws<OverflowException>(() => Geometry.ToRecordStart(new UsableBytePosition(ulong.MaxValue - 10)));
    }

    [Theory]
    [InlineData("00000001FFFFFFFF00000FFE")]
    [InlineData("00000001FFFFFFFF00000FFF")]
    [InlineData("00000001FFFFFFFF00000FF0")]
    public void ResetWal_ToTheEndOfTheAddressSpace_IsRefused_AndChangesNothing(string walFile)
    {
        using var dir = new TempDirectory("lsnend");
        string data = dir.Combine("data");
        Assert.Equal(0, PgTools.Pgwal(["init", "-D", data, "--wal-segsize", "1"]).ExitCode);
        var before = Snapshot(data);
        var reset = PgTools.Pgwal(["resetwal", "-f", "-l", walFile, data]);
        Assert.NotEqual(0, reset.ExitCode);
        Assert.Contains("before the end of the WAL address space", reset.Stderr);
        Assert.DoesNotContain("   at ", reset.Stderr);
        Assert.Equal(before, Snapshot(data));
        Assert.Equal(0, PgTools.Pgwal(["recover", "-D", data]).ExitCode);
    }

    [Fact]
    public void ResetWal_WithRoomLeft_StillWorks()
    {
        using var dir = new TempDirectory("lsnroom");
        string data = dir.Combine("data");
        Assert.Equal(0, PgTools.Pgwal(["init", "-D", data, "--wal-segsize", "1"]).ExitCode);
        var reset = PgTools.Pgwal(["resetwal", "-f", "-l", "00000001FFFFFFFF00000FE0", data]);
        Assert.True(reset.ExitCode == 0, reset.Stderr);
        var recover = PgTools.Pgwal(["recover", "-D", data]);
        Assert.True(recover.ExitCode == 0, recover.Stderr);
    }

    [Fact]
    public void Engine_RunningOutOfAddressSpace_Faults_AndWritesNoWrappedSegment()
    {
        using var dir = new TempDirectory("lsnengine");
        // Bounded: a wrapping writer once filled a disk from here, so every write is checked first.
        var storage = new BoundedWalStorage(new FileSystemWalStorage(dir.Path), Geometry.SegmentSize);
        var start = WalStartPoint.AtSegment(new SegmentNumber(Geometry.LastSegment.Value - 1), Geometry);
        var options = new WalOptions { SegmentSize = Geometry.SegmentSize, SystemIdentifier = 7, WalWriterDelay = TimeSpan.Zero, PreallocateSegments = 0 };
        var engine = new WalEngine(storage, options, start);
        var builder = new RecordBuilder();
        var payload = new byte[8000];
        Lsn acknowledged = Lsn.Invalid;
        var error = Assert.Throws<WalFaultedException>(() =>
        {
            for (int i = 0; i < 1000; i++)
            {
                Lsn end = engine.Insert(BuiltinRecords.Noop(builder, payload));
                engine.Flush(end);
                acknowledged = end;
            }
        });
        Assert.Contains("WAL address space exhausted", error.Message);
        Assert.True(acknowledged > Geometry.SegmentStart(Geometry.LastSegment) && acknowledged <= Geometry.EndOfAddressSpace, $"last acknowledged {acknowledged}");
        engine.Dispose();
        var files = Directory.GetFiles(dir.Path).Select(Path.GetFileName).Order().ToList();
        Assert.Equal([SegmentFileName.Format(TimelineId.First, new SegmentNumber(Geometry.LastSegment.Value - 1), Geometry),
                      SegmentFileName.Format(TimelineId.First, Geometry.LastSegment, Geometry)], files);
        Assert.Throws<ArgumentOutOfRangeException>(() => new WalEngine(storage, options, WalStartPoint.AtSegment(Geometry.LastSegment.Next, Geometry)));
    }

    private static Dictionary<string, string> Snapshot(string data)
        => Directory.GetFiles(data, "*", SearchOption.AllDirectories)
            .ToDictionary(f => Path.GetRelativePath(data, f), f => Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(f))));

    // Refuses (as a failed write) anything a wrapped position would do: writes past a segment's
    // end, or more than a few segment files.
    private sealed class BoundedWalStorage(IWalStorage inner, int segmentSize) : IWalStorage
    {
        private int _created;
        public string Location => inner.Location;
        public bool Exists(string fileName) => inner.Exists(fileName);
        public IReadOnlyList<string> ListFiles() => inner.ListFiles();

        public IWalSegmentFile Create(string fileName, int size)
        {
            if (Interlocked.Increment(ref _created) > 4)
                throw new IOException($"test guard: too many segments created ({fileName})");
            inner.Create(fileName, size).Dispose();
            return Open(fileName);
        }

        public IWalSegmentFile Open(string fileName, SegmentOpenOptions options = default) => new File(inner.Open(fileName, options), segmentSize);

        private sealed class File(IWalSegmentFile inner, int segmentSize) : IWalSegmentFile
        {
            public string Name => inner.Name;
            public void Sync() => inner.Sync();
            public void Dispose() => inner.Dispose();

            public void Write(long offset, ReadOnlySpan<byte> data)
            {
                if (offset < 0 || offset + data.Length > segmentSize)
                    throw new IOException($"test guard: write of {data.Length} bytes at offset {offset} of {Name}");
                inner.Write(offset, data);
            }
        }
    }
}
