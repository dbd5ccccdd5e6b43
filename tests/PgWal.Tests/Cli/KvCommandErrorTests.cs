// KvCommandErrorTests: `pgwal kv put/get/delete/scan/stats/bench/worker` with bad arguments and
// options (missing, empty or over-long keys, negative, NaN, overflow, unknown choices), each one
// clean line and exit 2 before the store is created; an unusable data directory is exit 3.
using PgWal.Tests.Infrastructure;

namespace PgWal.Tests.Cli;

public sealed class KvCommandErrorTests : IDisposable
{
    private const string Overflow = "99999999999999999999";
    private static readonly string LongKey = new('k', 1025);
    private readonly TempDirectory _root = new("clierr");

    public static TheoryData<CliCase> Basic() =>
    [
        new(2, "no data directory specified", "kv", "put", "a", "b"),
        new(2, "invalid value for --pgdata: \"\"", "kv", "-D", "", "get", "a"),
        new(2, "missing argument KEY", "kv", "-D", "DIR", "put"),
        new(2, "missing argument VALUE", "kv", "-D", "DIR", "put", "a"),
        new(2, "give the value either as VALUE or with --value-file, not both", "kv", "-D", "DIR", "put", "a", "b", "--value-file", "FILE"),
        new(2, "invalid value for --value-file: \"\"", "kv", "-D", "DIR", "put", "a", "--value-file", ""),
        new(2, "invalid value for KEY: \"0g\" (--hex wants an even number of hex digits)", "kv", "-D", "DIR", "put", "--hex", "0g", "00"),
        new(2, "invalid value for VALUE: \"abc\" (--hex wants an even number of hex digits)", "kv", "-D", "DIR", "put", "--hex", "00", "abc"),
        new(2, "a key must be 1..1024 bytes, got 0", "kv", "-D", "DIR", "put", "--hex", "", "00"),
        new(2, "a key must be 1..1024 bytes, got 1025", "kv", "-D", "DIR", "get", "--hex", new string('f', 2050)),
        new(2, "invalid value for FROM: \"x\"", "kv", "-D", "DIR", "scan", "--hex", "x"),
        new(3, "could not open value file", "kv", "-D", "DIR", "put", "a", "--value-file", "LOOP"),
        new(3, "could not read value file", "kv", "-D", "DIR", "put", "a", "--value-file", "/"),
        new(2, "too many command-line arguments (first is \"c\")", "kv", "-D", "DIR", "put", "a", "b", "c"),
        new(2, "invalid value for KEY: \"\" (a key must be 1..1024 bytes, got 0)", "kv", "-D", "DIR", "put", "", "b"),
        new(2, "a key must be 1..1024 bytes, got 1025", "kv", "-D", "DIR", "put", LongKey, "b"),
        new(2, "missing argument KEY", "kv", "-D", "DIR", "get"),
        new(2, "a key must be 1..1024 bytes, got 0", "kv", "-D", "DIR", "get", ""),
        new(2, "a key must be 1..1024 bytes, got 1025", "kv", "-D", "DIR", "delete", LongKey),
        new(2, "too many command-line arguments (first is \"x\")", "kv", "-D", "DIR", "delete", "a", "x"),
        new(2, "invalid value for --limit: \"-1\"", "kv", "-D", "DIR", "scan", "--limit", "-1"),
        new(2, $"invalid value for --limit: \"{Overflow}\"", "kv", "-D", "DIR", "scan", "-n", Overflow),
        new(2, "too many command-line arguments (first is \"c\")", "kv", "-D", "DIR", "scan", "a", "b", "c"),
        new(2, "too many command-line arguments (first is \"x\")", "kv", "-D", "DIR", "stats", "x"),
        new(2, "unrecognized option \"--nosuch\"", "kv", "-D", "DIR", "stats", "--nosuch"),
        new(3, "Not a directory", "kv", "-D", "FILE", "put", "a", "b"),
        new(3, "Too many levels of symbolic links", "kv", "-D", "LOOP", "get", "a"),
        new(3, "Too many levels of symbolic links", "kv", "-D", "LOOP", "scan"),
        new(3, "Not a directory", "kv", "-D", "FILE/x", "stats"),
    ];

    public static TheoryData<CliCase> Bench() =>
    [
        new(2, "invalid value for --workload: \"D\" (must be load, commit, read, A, B or C)", "kv", "-D", "DIR", "bench", "-w", "D"),
        new(2, "invalid value for --keys: \"0\"", "kv", "-D", "DIR", "bench", "--keys", "0"),
        new(2, "invalid value for --keys: \"-1\"", "kv", "-D", "DIR", "bench", "-k", "-1"),
        new(2, $"invalid value for --keys: \"{Overflow}\"", "kv", "-D", "DIR", "bench", "-k", Overflow),
        new(2, "invalid value for --key-size: \"0\"", "kv", "-D", "DIR", "bench", "--key-size", "0"),
        new(2, "invalid value for --key-size: \"1025\"", "kv", "-D", "DIR", "bench", "--key-size", "1025"),
        new(2, "--key-size (4) must hold the largest key number, 99999, in decimal", "kv", "-D", "DIR", "bench", "-k", "100000", "--key-size", "4"),
        new(2, "invalid value for --value-size: \"-1\"", "kv", "-D", "DIR", "bench", "--value-size", "-1"),
        new(2, "invalid value for --value-size: \"16777217\"", "kv", "-D", "DIR", "bench", "--value-size", "16777217"),
        new(2, "invalid value for --batch: \"0\"", "kv", "-D", "DIR", "bench", "--batch", "0"),
        new(2, "invalid value for --clients: \"0\"", "kv", "-D", "DIR", "bench", "-c", "0"),
        new(2, "invalid value for --clients: \"1025\"", "kv", "-D", "DIR", "bench", "--clients", "1025"),
        new(2, "invalid value for --duration: \"NaN\"", "kv", "-D", "DIR", "bench", "-T", "NaN"),
        new(2, "invalid value for --duration: \"0\"", "kv", "-D", "DIR", "bench", "--duration", "0"),
        new(2, "invalid value for --distribution: \"normal\"", "kv", "-D", "DIR", "bench", "--distribution", "normal"),
        new(2, "invalid value for --shared-buffers: \"1073741824\" (must be 16..1073741823)", "kv", "-D", "DIR", "bench", "--shared-buffers", "1073741824"),
        new(2, "invalid value for --shared-buffers: \"-5\"", "kv", "-D", "DIR", "bench", "--shared-buffers", "-5"),
    ];

    public static TheoryData<CliCase> Worker() =>
    [
        new(2, "option --ack-file is required", "kv", "-D", "DIR", "worker"),
        new(2, "invalid value for --ack-file: \"\"", "kv", "-D", "DIR", "worker", "--ack-file", ""),
        new(2, "invalid value for --clients: \"0\"", "kv", "-D", "DIR", "worker", "--ack-file", "DIR.acks", "-c", "0"),
        new(2, "invalid value for --clients: \"100\" (must be 1..99)", "kv", "-D", "DIR", "worker", "--ack-file", "DIR.acks", "-c", "100"),
        new(2, "invalid value for --seed: \"x\"", "kv", "-D", "DIR", "worker", "--ack-file", "DIR.acks", "--seed", "x"),
        new(2, "invalid value for --duration: \"-1\"", "kv", "-D", "DIR", "worker", "--ack-file", "DIR.acks", "-T", "-1"),
        new(2, "invalid value for --duration: \"NaN\"", "kv", "-D", "DIR", "worker", "--ack-file", "DIR.acks", "-T", "NaN"),
        new(3, "could not open acknowledgement file", "kv", "-D", "DIR", "worker", "--ack-file", "LOOP", "-T", "1"),
    ];

    [Theory]
    [MemberData(nameof(Basic))]
    public void KvPutGetDeleteScanStats_BadArguments_OneCleanLine(CliCase c) => c.Check(_root);

    [Theory]
    [MemberData(nameof(Bench))]
    public void KvBench_BadOption_OneCleanLine(CliCase c) => c.Check(_root);

    [Theory]
    [MemberData(nameof(Worker))]
    public void KvWorker_BadOption_OneCleanLine(CliCase c) => c.Check(_root);

    public void Dispose() => _root.Dispose();
}
