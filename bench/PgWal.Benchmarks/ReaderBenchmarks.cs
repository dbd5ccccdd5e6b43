// Reader throughput, steady state, from memory: validate and decode every record (no output),
// pg_waldump --stats=record accounting, and pg_waldump text formatting into a buffer.
// The WAL is PgWal's generated workload (about 64 MB, 16 MB segments).
using BenchmarkDotNet.Attributes;
using PgWal.Diagnostics.Dump;
using PgWal.Diagnostics.Text;
using PgWal.Format;
using PgWal.Read;
using PgWal.Rmgr;
using PgWal.Workload;

namespace PgWal.Benchmarks;

[MemoryDiagnoser]
public class ReaderBenchmarks
{
    private MemoryPageSource _source = null!;
    private Lsn _first, _end;
    private readonly TextBuffer _text = new(1 << 20);
    private readonly RecordDescribers _describers = new();

    [GlobalSetup]
    public void Setup()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"pgwal-bench-{Environment.ProcessId}");
        var result = WalWorkloadGenerator.Generate(dir, new WorkloadOptions { Records = 80_000, Seed = 5 });
        _first = result.FirstLsn;
        _end = result.EndLsn;
        _source = new MemoryPageSource(WalGeometry.DefaultSegmentSize);
        foreach (var file in Directory.GetFiles(result.WalDirectory))
        {
            SegmentFileName.TryParse(Path.GetFileName(file), WalGeometry.Default, out _, out var seg);
            _source.SetSegment(seg, File.ReadAllBytes(file));
        }
        Directory.Delete(dir, recursive: true);
        long recordBytes = 0;
        var reader = NewReader();
        while (reader.ReadRecord() is { IsRecord: true } o)
            recordBytes += o.Record!.TotalLength;
        Console.WriteLine($"// WAL: {result.Records} records, {recordBytes / 1e6:F1} MB of record bytes " +
                          $"(avg {recordBytes / result.Records} B), {(_end - _first) / 1e6:F1} MB of LSN range");
    }

    private WalReader NewReader()
    {
        var reader = new WalReader(_source, new WalReaderOptions { StopAt = _end, ClassifyEndOfWal = false });
        reader.BeginRead(_first);
        return reader;
    }

    [Benchmark(Description = "read + validate, no output")]
    public long Read()
    {
        var reader = NewReader();
        long n = 0;
        while (reader.ReadRecord().IsRecord)
            n++;
        return n;
    }

    [Benchmark(Description = "--stats=record accounting")]
    public ulong Stats()
    {
        var reader = NewReader();
        var stats = new WalStatistics();
        while (reader.ReadRecord() is { IsRecord: true } o)
            stats.Add(o.Record!);
        return stats.Count;
    }

    [Benchmark(Description = "pg_waldump text lines")]
    public long Text()
    {
        var reader = NewReader();
        var formatter = new RecordLineFormatter(_describers);
        long bytes = 0;
        while (reader.ReadRecord() is { IsRecord: true } o)
        {
            formatter.Append(o.Record!, _text, detailedBlocks: false);
            if (_text.Length > 256 * 1024)
            {
                bytes += _text.Length;
                _text.Clear();
            }
        }
        return bytes + _text.Length;
    }
}
