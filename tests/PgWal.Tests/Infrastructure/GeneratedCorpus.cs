// GeneratedCorpus: a small WAL from the workload generator (1 MB segments), in memory, with the
// position of every record. Shared by the corruption tests.
using PgWal.Format;
using PgWal.Read;
using PgWal.Workload;

namespace PgWal.Tests.Infrastructure;

internal sealed class GeneratedCorpus
{
    private static readonly Lazy<GeneratedCorpus> s_default = new(() => new GeneratedCorpus(2500, 11));

    public GeneratedCorpus(int records, int seed)
    {
        using var dir = new TempDirectory("corpus");
        var starts = new List<Lsn>();
        var result = WalWorkloadGenerator.Generate(dir.Path,
            new WorkloadOptions { Records = records, Seed = seed, SegmentSize = SegmentSize },
            r => starts.Add(r.Start));
        Starts = starts;
        End = result.EndLsn;
        foreach (var file in Directory.GetFiles(result.WalDirectory))
        {
            SegmentFileName.TryParse(Path.GetFileName(file), Geometry, out _, out var seg);
            Segments[seg] = File.ReadAllBytes(file);
        }
    }

    public static GeneratedCorpus Default => s_default.Value;

    public const int SegmentSize = WalGeometry.MinSegmentSize;

    public WalGeometry Geometry { get; } = new(SegmentSize);
    public List<Lsn> Starts { get; }
    public Lsn End { get; }
    public Dictionary<SegmentNumber, byte[]> Segments { get; } = [];

    /// <summary>A fresh in-memory copy that tests may corrupt.</summary>
    public MemoryPageSource CopyToMemory()
    {
        var source = new MemoryPageSource(SegmentSize);
        foreach (var (seg, bytes) in Segments)
            source.SetSegment(seg, (byte[])bytes.Clone());
        return source;
    }

    /// <summary>The last record starting before <paramref name="lsn"/> (or the first record).</summary>
    public int RecordBefore(Lsn lsn)
    {
        int i = Starts.BinarySearch(lsn);
        if (i < 0)
            i = ~i;
        return Math.Max(0, i - 1);
    }
}
