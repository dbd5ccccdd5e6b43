// GeneratedCorpus: a small WAL in memory (1 MB segments) with the position of every record, shared
// by the corruption tests: the workload generator's (PostgreSQL 15's format), or one of the real
// PostgreSQL 15 to 18 fixtures (RealWalFixture), so that damage is tried on every version's pages.
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

    private GeneratedCorpus(List<Lsn> starts, Lsn end, Dictionary<SegmentNumber, byte[]> segments)
    {
        Starts = starts;
        End = end;
        Segments = segments;
    }

    public static GeneratedCorpus Default => s_default.Value;

    private static readonly Dictionary<string, GeneratedCorpus> s_real = [];

    /// <summary>
    /// A corpus by name: "generated" (Default) or "pg&lt;major&gt;/&lt;set&gt;", a real fixture with 1 MB
    /// segments, its records found by reading it from its first record to its end.
    /// </summary>
    public static GeneratedCorpus Named(string name)
    {
        if (name == "generated")
            return Default;
        lock (s_real)
        {
            if (s_real.TryGetValue(name, out var known))
                return known;
            var parts = name.Split('/');
            var fixture = RealWalFixture.Get(int.Parse(parts[0][2..], System.Globalization.CultureInfo.InvariantCulture), parts[1]);
            if (fixture.SegmentSize != SegmentSize)
                throw new ArgumentException($"{name}: segments of {fixture.SegmentSize} bytes, the corpus needs {SegmentSize}");
            var geometry = new WalGeometry(SegmentSize);
            var segments = new Dictionary<SegmentNumber, byte[]>();
            foreach (var file in Directory.GetFiles(fixture.WalDirectory))
            {
                if (SegmentFileName.TryParse(Path.GetFileName(file), geometry, out _, out var seg))
                    segments[seg] = File.ReadAllBytes(file);
            }
            var corpus = new GeneratedCorpus([], fixture.End, segments);
            var reader = new WalReader(corpus.CopyToMemory(), new WalReaderOptions { SegmentSize = SegmentSize });
            reader.BeginRead(fixture.First);
            while (reader.ReadRecord() is { IsRecord: true } outcome && outcome.Record!.Lsn < fixture.End)
                corpus.Starts.Add(outcome.Record.Lsn);
            if (reader.EndRecPtr < fixture.End)
                throw new InvalidOperationException($"{name}: reading stopped at {reader.EndRecPtr}, before the fixture's end {fixture.End}");
            return s_real[name] = corpus;
        }
    }

    public const int SegmentSize = WalGeometry.MinSegmentSize;

    public WalGeometry Geometry { get; } = new(SegmentSize);
    public List<Lsn> Starts { get; }
    public Lsn End { get; }
    public Dictionary<SegmentNumber, byte[]> Segments { get; } = [];

    /// <summary>The corpora the corruption tests run on: the generated one and every version's 1 MB fixtures.</summary>
    public static IEnumerable<string> AllNames => ["generated", .. RealWalFixture.Majors.SelectMany(m => new[] { $"pg{m}/mixed-1mb", $"pg{m}/compression-1mb" })];

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
