// RealWalFixture: one set of real PostgreSQL 15 WAL from Fixtures/pg15/<set> (made by
// make-fixtures.sh), decompressed once into a temporary pg_wal directory, with its manifest.
using System.IO.Compression;

namespace PgWal.Tests.Infrastructure;

internal sealed class RealWalFixture
{
    private static readonly Dictionary<string, RealWalFixture> s_cache = [];
    private static readonly Lock s_lock = new();

    private RealWalFixture(string name)
    {
        Name = name;
        string source = System.IO.Path.Combine(AppContext.BaseDirectory, "Fixtures", "pg15", name);
        var manifest = File.ReadAllLines(System.IO.Path.Combine(source, "manifest.txt"));
        string Value(string key) => manifest.First(l => l.StartsWith(key + ":", StringComparison.Ordinal))
            .Split(':', 2)[1].Split('#')[0].Trim();
        SegmentSize = int.Parse(Value("wal_segment_size"), System.Globalization.CultureInfo.InvariantCulture);
        First = Lsn.Parse(Value("first_record_lsn"));
        End = Lsn.Parse(Value("end_lsn"));
        WalDirectory = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"pgwal-fixture-{name}-{Environment.ProcessId}");
        Directory.CreateDirectory(WalDirectory);
        foreach (var gz in Directory.GetFiles(System.IO.Path.Combine(source, "pg_wal"), "*.gz"))
        {
            using var input = new GZipStream(File.OpenRead(gz), CompressionMode.Decompress);
            using var output = File.Create(System.IO.Path.Combine(WalDirectory, System.IO.Path.GetFileNameWithoutExtension(gz)));
            input.CopyTo(output);
        }
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try
            {
                Directory.Delete(WalDirectory, true);
            }
            catch (IOException)
            {
            }
        };
    }

    public static IEnumerable<string> Names => ["mixed-1mb", "compression-1mb", "switch-16mb"];

    public string Name { get; }
    public int SegmentSize { get; }
    public Lsn First { get; }
    public Lsn End { get; }
    public string WalDirectory { get; }

    public string[] RangeArgs => ["-p", WalDirectory, "-s", First.ToString(), "-e", End.ToString()];

    public static RealWalFixture Get(string name)
    {
        lock (s_lock)
        {
            if (!s_cache.TryGetValue(name, out var f))
                s_cache[name] = f = new RealWalFixture(name);
            return f;
        }
    }
}
