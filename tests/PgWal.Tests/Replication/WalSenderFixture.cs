// WalSenderFixture: a PgWal instance with its walsender on 127.0.0.1 (a free port), small
// segments, and a user with a password, for tests that point real PostgreSQL clients at it.
using System.Net;
using System.Net.Sockets;
using PgWal.Format;
using PgWal.Insert;
using PgWal.Replication.Auth;
using PgWal.Replication.Server;
using PgWal.Tests.Infrastructure;

namespace PgWal.Tests.Replication;

internal sealed class WalSenderFixture : IDisposable
{
    public const int SegmentSize = 1 << 20;
    public const string User = "repl";
    public const string Password = "s3cret pass";
    public static readonly WalGeometry Geometry = new(SegmentSize);

    private readonly TempDirectory _dir = new("walsnd");

    /// <param name="storage">Opens the instance on this storage of the data directory instead of its files directly.</param>
    public WalSenderFixture(string? hba = null, Func<WalSenderOptions, WalSenderOptions>? configure = null, long maxSlotWalKeepSize = -1,
        Func<string, PgWal.Storage.IDataDirectoryStorage>? storage = null, long walKeepSize = 0)
    {
        Data = _dir.Combine("data");
        WalInstance.Initialize(Data, new WalInitOptions { SegmentSize = SegmentSize });
        Port = FreePort();
        var sender = new WalSenderOptions
        {
            Listen = new IPEndPoint(IPAddress.Loopback, Port),
            WalSenderTimeout = TimeSpan.FromSeconds(10),
            Hba = hba == null ? new WalSenderOptions().Hba : HbaRules.Parse(hba),
        }.WithPassword(User, Password);
        Options = new WalInstanceOptions
        {
            WalSender = configure?.Invoke(sender) ?? sender,
            SharedBuffers = 64,
            MaxWalSize = 8 * SegmentSize,
            MinWalSize = 2 * SegmentSize,
            MaxSlotWalKeepSize = maxSlotWalKeepSize,
            WalKeepSize = walKeepSize,
        };
        Instance = storage == null ? WalInstance.Open(Data, Options) : WalInstance.Open(storage(Data), Options);
    }

    public string Data { get; }

    public int Port { get; }

    public WalInstanceOptions Options { get; }

    public WalInstance Instance { get; private set; }

    public string Combine(params string[] parts) => _dir.Combine(parts);

    public Dictionary<string, string> Environment => new() { ["PGPASSWORD"] = Password };

    /// <summary>pg tool connection options for this server.</summary>
    public string[] ConnectionArgs => ["-h", "127.0.0.1", "-p", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-U", User];

    public void Restart(WalInstanceOptions? options = null)
    {
        Instance.Dispose();
        Instance = WalInstance.Open(Data, options ?? Options);
    }

    /// <summary>Inserts about <paramref name="bytes"/> of NOOP records and flushes them.</summary>
    public void Write(long bytes)
    {
        var builder = new RecordBuilder();
        var payload = new byte[3000];
        Lsn from = Instance.Wal.InsertedUpTo;
        while (Instance.Wal.InsertedUpTo - from < (ulong)bytes)
        {
            Random.Shared.NextBytes(payload);
            Instance.Insert(BuiltinRecords.Noop(builder, payload));
            Instance.Wal.Flush(Instance.Wal.InsertedUpTo);
        }
    }

    /// <summary>
    /// Asserts the completed segments in <paramref name="directory"/> have no gap, equal the
    /// primary's byte for byte where the primary still has them (at least <paramref name="compared"/>
    /// of them), and hold one unbroken chain of records from the first to the last; returns how many.
    /// </summary>
    public int AssertSegmentsEqual(string directory, int atLeast, int compared = 1)
    {
        var names = Directory.GetFiles(directory).Select(p => Path.GetFileName(p)!).Where(n => n.Length == 24 && SegmentFileName.IsSegmentFileName(n)).Order(StringComparer.Ordinal).ToList();
        Assert.True(names.Count >= atLeast, $"expected at least {atLeast} completed segments in {directory}, found {names.Count}: {string.Join(' ', Directory.GetFiles(directory).Select(Path.GetFileName))}");
        for (int i = 1; i < names.Count; i++)
        {
            SegmentFileName.TryParse(names[i - 1], Geometry, out _, out var previous);
            SegmentFileName.TryParse(names[i], Geometry, out _, out var segment);
            Assert.True(segment.Value == previous.Value + 1, $"gap between {names[i - 1]} and {names[i]}");
        }
        int equal = 0;
        foreach (var name in names)
        {
            string primary = Path.Combine(Data, "pg_wal", name);
            if (!File.Exists(primary))
                continue;   // removed since (the slot let it go)
            Assert.True(File.ReadAllBytes(primary).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(directory, name))), $"{name} differs from the primary's");
            equal++;
        }
        Assert.True(equal >= compared, $"only {equal} of the received segments are still in the primary's pg_wal to compare");
        // One chain of records through all of them.
        SegmentFileName.TryParse(names[0], Geometry, out _, out var first);
        SegmentFileName.TryParse(names[^1], Geometry, out _, out var last);
        var options = new PgWal.Read.WalReaderOptions { SegmentSize = SegmentSize, SystemIdentifier = Instance.ControlFile.SystemIdentifier };
        using var reader = new PgWal.Read.WalReader(new PgWal.Storage.SegmentDirectorySource(directory, SegmentSize), options);
        Lsn start = reader.FindNextRecord(Geometry.SegmentStart(first), out _);
        reader.BeginRead(start);
        Lsn end = start;
        while (reader.ReadRecord().IsRecord)
            end = reader.EndRecPtr;
        Assert.True(end >= Geometry.SegmentStart(last), $"the records read from {names[0]} end at {end}, before the last received segment {names[^1]}");
        return names.Count;
    }

    public static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    public static void WaitUntil(Func<bool> condition, TimeSpan timeout, Func<string> what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"timed out waiting: {what()}");
            Thread.Sleep(50);
        }
    }

    public void Dispose()
    {
        Instance.Dispose();
        _dir.Dispose();
    }
}
