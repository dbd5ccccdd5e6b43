// TestWal: writes WAL with PgWal's writer into a temporary pg_wal directory, with helpers to place
// records at exact page offsets, and loads the segments into memory for corruption experiments.
using PgWal.Format;
using PgWal.Insert;
using PgWal.Read;
using PgWal.Storage;
using PgWal.Write;

namespace PgWal.Tests.Infrastructure;

internal sealed class TestWal : IDisposable
{
    public const ulong SystemId = 7_000_000_000_000_000_042UL;

    private readonly TempDirectory _dir = new("wal");
    private readonly RecordBuilder _builder = new();

    public TestWal(int segmentSize = WalGeometry.MinSegmentSize, WalCompression compression = WalCompression.None)
    {
        Geometry = new WalGeometry(segmentSize);
        Writer = new WalEngine(new FileSystemWalStorage(WalDirectory),
            new WalOptions { SegmentSize = segmentSize, SystemIdentifier = SystemId, Compression = compression },
            WalStartPoint.AtSegment(new SegmentNumber(1), Geometry));
    }

    public WalGeometry Geometry { get; }
    public WalEngine Writer { get; }
    public string WalDirectory => _dir.Combine("pg_wal");
    public List<InsertResult> Records { get; } = [];

    public InsertResult Insert(RecordBuilder builder)
    {
        var end = Writer.Insert(builder, out var start);
        var r = new InsertResult(start, end);
        Records.Add(r);
        return r;
    }

    /// <summary>An XLOG NOOP whose total length is exactly <paramref name="totalLength"/> (&gt;= 26).</summary>
    public InsertResult Noop(int totalLength, byte fill = 0xAB)
    {
        int dataLength = totalLength - RecordHeader.Size - (totalLength - RecordHeader.Size - 2 <= 255 ? 2 : 5);
        var data = new byte[dataLength];
        Array.Fill(data, fill);
        return Insert(BuiltinRecords.Noop(_builder, data));
    }

    /// <summary>Inserts NOOPs until the next record starts at <paramref name="offsetInPage"/> of some page.</summary>
    public void PadTo(int offsetInPage)
    {
        for (int guard = 0; guard < 4; guard++)
        {
            Lsn next = Writer.NextRecordLsn;
            if (WalGeometry.OffsetInPage(next) == offsetInPage)
                return;
            Lsn target = WalGeometry.PageStart(next) + (ulong)offsetInPage;
            if (target <= next)
                target += WalGeometry.PageSize;
            ulong distance = Geometry.ToUsableBytePosition(target).Value - Geometry.ToUsableBytePosition(next).Value;
            if (distance < 32)
            {
                target += WalGeometry.PageSize;
                distance = Geometry.ToUsableBytePosition(target).Value - Geometry.ToUsableBytePosition(next).Value;
            }
            Noop((int)distance);
        }
        throw new InvalidOperationException($"could not pad to offset {offsetInPage}");
    }

    public void Flush() => Writer.Flush();

    /// <summary>The segments written so far, as a mutable in-memory source.</summary>
    public MemoryPageSource LoadIntoMemory()
    {
        Writer.Flush();
        var source = new MemoryPageSource(Geometry.SegmentSize);
        foreach (var file in Directory.GetFiles(WalDirectory))
        {
            string name = Path.GetFileName(file);
            if (SegmentFileName.TryParse(name, Geometry, out _, out var seg) && SegmentFileName.IsSegmentFileName(name))
                source.SetSegment(seg, File.ReadAllBytes(file));
        }
        return source;
    }

    public static WalReader Reader(IPageSource source, int segmentSize, Lsn stopAt = default, bool classify = true)
        => new(source, new WalReaderOptions { SegmentSize = segmentSize, StopAt = stopAt, ClassifyEndOfWal = classify });

    public void Dispose()
    {
        Writer.Dispose();
        _dir.Dispose();
    }
}

internal static class MemorySourceExtensions
{
    /// <summary>The bytes at <paramref name="lsn"/> in the segment image, for in-place corruption.</summary>
    public static Span<byte> At(this MemoryPageSource source, WalGeometry g, Lsn lsn, int length)
        => source.GetSegment(g.SegmentOf(lsn))!.AsSpan(g.OffsetInSegment(lsn), length);
}
