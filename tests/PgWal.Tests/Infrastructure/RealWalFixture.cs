// RealWalFixture: one set of real PostgreSQL WAL from Fixtures/pg<major>/<set> (made by
// pg15/make-fixtures.sh, PG_MAJOR=<major>), decompressed once into a temporary pg_wal directory,
// with its manifest; for 16, 17 and 18 also the outputs of that version's own tools, kept beside it.
using System.IO.Compression;

namespace PgWal.Tests.Infrastructure;

internal sealed class RealWalFixture
{
    private static readonly Dictionary<(int, string), RealWalFixture> s_cache = [];
    private static readonly Lock s_lock = new();

    private RealWalFixture(int major, string name)
    {
        Name = name;
        Major = major;
        string source = System.IO.Path.Combine(AppContext.BaseDirectory, "Fixtures", $"pg{major}", name);
        Source = source;
        var manifest = File.ReadAllLines(System.IO.Path.Combine(source, "manifest.txt"));
        string Value(string key) => manifest.First(l => l.StartsWith(key + ":", StringComparison.Ordinal))
            .Split(':', 2)[1].Split('#')[0].Trim();
        SegmentSize = int.Parse(Value("wal_segment_size"), System.Globalization.CultureInfo.InvariantCulture);
        First = Lsn.Parse(Value("first_record_lsn"));
        End = Value("end_lsn") == "none" ? default : Lsn.Parse(Value("end_lsn"));   // none: read to the end of WAL
        WalDirectory = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"pgwal-fixture-pg{major}-{name}-{Environment.ProcessId}");
        Directory.CreateDirectory(WalDirectory);
        foreach (var history in Directory.GetFiles(System.IO.Path.Combine(source, "pg_wal"), "*.history"))
            File.Copy(history, System.IO.Path.Combine(WalDirectory, System.IO.Path.GetFileName(history)), true);
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

    /// <summary>
    /// The set with a promotion to timeline 2 and a torn tail (both timelines' segments and the
    /// history file; no end: its outputs run to the end of WAL and end in the version's error).
    /// </summary>
    public const string PromoteSet = "promote-1mb";

    public string Name { get; }
    public int Major { get; }
    /// <summary>The set's directory in the test output (manifest, kept outputs, pg_control).</summary>
    public string Source { get; }
    public int SegmentSize { get; }
    public Lsn First { get; }
    /// <summary>The end given to pg_waldump (-e); default for a set read to the end of WAL.</summary>
    public Lsn End { get; }
    public string WalDirectory { get; }

    public string[] RangeArgs => ["-p", WalDirectory, "-s", First.ToString(), "-e", End.ToString()];

    /// <summary>The PostgreSQL versions with fixtures.</summary>
    public static IEnumerable<int> Majors => [15, 16, 17, 18];

    public static RealWalFixture Get(string name) => Get(15, name);

    public static RealWalFixture Get(int major, string name)
    {
        lock (s_lock)
        {
            if (!s_cache.TryGetValue((major, name), out var f))
                s_cache[(major, name)] = f = new RealWalFixture(major, name);
            return f;
        }
    }

    /// <summary>A gzipped output kept beside the set (waldump.txt.gz, waldump-b.txt.gz), as lines.</summary>
    public string[] KeptOutputLines(string fileName)
    {
        using var input = new GZipStream(File.OpenRead(System.IO.Path.Combine(Source, fileName)), CompressionMode.Decompress);
        using var reader = new StreamReader(input);
        return reader.ReadToEnd().Split('\n');
    }
}
