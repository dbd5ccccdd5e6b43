// WorkloadCommandErrorTests: `pgwal generate`, `pgwal bench` and `pgwal pagetest` with a bad value
// for each option — negative, zero, NaN, infinities, overflow, out of range, min > max, unknown
// choices — each one clean line and exit 2 before anything is created (CliAssert, CliCase).
using PgWal.Tests.Infrastructure;

namespace PgWal.Tests.Cli;

public sealed class WorkloadCommandErrorTests : IDisposable
{
    private const string Overflow = "99999999999999999999";
    private readonly TempDirectory _root = new("clierr");

    public static TheoryData<CliCase> Generate() =>
    [
        new(2, "no data directory specified", "generate"),
        new(2, "invalid value for --records: \"0\"", "generate", "-D", "DIR", "--records", "0"),
        new(2, "invalid value for --records: \"-1\"", "generate", "-D", "DIR", "--records", "-1"),
        new(2, $"invalid value for --records: \"{Overflow}\"", "generate", "-D", "DIR", "--records", Overflow),
        new(2, "invalid value for --records: \"1e3\"", "generate", "-D", "DIR", "--records", "1e3"),
        new(2, "invalid value for --seed: \"2147483648\"", "generate", "-D", "DIR", "--seed", "2147483648"),
        new(2, "invalid value for --seed: \"NaN\"", "generate", "-D", "DIR", "--seed", "NaN"),
        new(2, "invalid value for --wal-segsize: \"3\"", "generate", "-D", "DIR", "--wal-segsize", "3"),
        new(3, "Not a directory", "generate", "-D", "FILE", "--records", "10"),
    ];

    public static TheoryData<CliCase> Bench() =>
    [
        new(2, "no data directory specified", "bench", "-n", "5"),
        new(2, "invalid value for --workers: \"-3\" (must be 1..4096)", "bench", "-D", "DIR", "-n", "5", "--workers", "-3"),
        new(2, "invalid value for --workers: \"0\"", "bench", "-D", "DIR", "-n", "5", "-c", "0"),
        new(2, "invalid value for --workers: \"4097\"", "bench", "-D", "DIR", "-n", "5", "--workers", "4097"),
        new(2, "invalid value for --workers: \"1.5\"", "bench", "-D", "DIR", "-n", "5", "--workers", "1.5"),
        new(2, "invalid value for --record-size: \"-1\"", "bench", "-D", "DIR", "-n", "5", "--record-size", "-1"),
        new(2, "invalid value for --record-size: \"67108865\"", "bench", "-D", "DIR", "-n", "5", "--record-size", "67108865"),
        new(2, "invalid value for --flush: \"bogus\" (must be none, each or async)", "bench", "-D", "DIR", "-n", "5", "--flush", "bogus"),
        new(2, "invalid value for --records: \"0\"", "bench", "-D", "DIR", "-n", "0"),
        new(2, "invalid value for --records: \"-1\"", "bench", "-D", "DIR", "--records", "-1"),
        new(2, $"invalid value for --records: \"{Overflow}\"", "bench", "-D", "DIR", "--records", Overflow),
        new(2, "invalid value for --duration: \"NaN\"", "bench", "-D", "DIR", "--duration", "NaN"),
        new(2, "invalid value for --duration: \"Infinity\"", "bench", "-D", "DIR", "-T", "Infinity"),
        new(2, "invalid value for --duration: \"-Infinity\"", "bench", "-D", "DIR", "-T", "-Infinity"),
        new(2, "invalid value for --duration: \"0\"", "bench", "-D", "DIR", "-T", "0"),
        new(2, "invalid value for --duration: \"-1\"", "bench", "-D", "DIR", "-T", "-1"),
        new(2, "invalid value for --duration: \"86401\"", "bench", "-D", "DIR", "-T", "86401"),
        new(2, "invalid value for --duration: \"1e400\"", "bench", "-D", "DIR", "-T", "1e400"),
        new(2, "give exactly one of --records and --duration", "bench", "-D", "DIR"),
        new(2, "give exactly one of --records and --duration", "bench", "-D", "DIR", "-n", "5", "-T", "1"),
        new(2, "invalid value for --sync-method: \"bogus\"", "bench", "-D", "DIR", "-n", "5", "--sync-method", "bogus"),
        new(2, "invalid value for --wal-buffers: \"0\"", "bench", "-D", "DIR", "-n", "5", "--wal-buffers", "0"),
        new(2, "invalid value for --insertion-locks: \"129\"", "bench", "-D", "DIR", "-n", "5", "--insertion-locks", "129"),
        new(2, "invalid value for --wal-segsize: \"3\"", "bench", "-D", "DIR", "-n", "5", "--wal-segsize", "3"),
        new(2, "invalid value for --commit-delay: \"-1\"", "bench", "-D", "DIR", "-n", "5", "--commit-delay", "-1"),
        new(2, "invalid value for --commit-delay: \"100001\"", "bench", "-D", "DIR", "-n", "5", "--commit-delay", "100001"),
        new(2, "invalid value for --wal-writer-delay: \"0\"", "bench", "-D", "DIR", "-n", "5", "--wal-writer-delay", "0"),
        new(2, "invalid value for --wal-init-zero: \"maybe\"", "bench", "-D", "DIR", "-n", "5", "--wal-init-zero", "maybe"),
        new(2, "invalid value for --max-wal-size: \"1\"", "bench", "-D", "DIR", "-n", "5", "--max-wal-size", "1"),
        new(2, $"invalid value for --max-wal-size: \"{Overflow}\"", "bench", "-D", "DIR", "-n", "5", "--max-wal-size", Overflow),
        new(2, "invalid value for --min-wal-size: \"-80\"", "bench", "-D", "DIR", "-n", "5", "--min-wal-size", "-80"),
        new(2, "--max-wal-size (90 MB) must be at least --min-wal-size (100 MB)", "bench", "-D", "DIR", "-n", "5", "--min-wal-size", "100", "--max-wal-size", "90"),
        new(2, "--min-wal-size (40 MB) must be at least twice --wal-segsize (32 MB)", "bench", "-D", "DIR", "-n", "5", "--min-wal-size", "40", "--wal-segsize", "32"),
        new(2, "unrecognized option \"--nosuch\"", "bench", "-D", "DIR", "-n", "5", "--nosuch"),
        new(3, "Too many levels of symbolic links", "bench", "-D", "LOOP", "-n", "5"),
    ];

    public static TheoryData<CliCase> PageTest() =>
    [
        new(2, "no data directory specified", "pagetest"),
        new(2, "invalid value for --workers: \"0\"", "pagetest", "-D", "DIR", "--workers", "0"),
        new(2, "invalid value for --seed: \"-2147483649\"", "pagetest", "-D", "DIR", "--seed", "-2147483649"),
        new(2, "invalid value for --pages: \"3\"", "pagetest", "-D", "DIR", "--pages", "3"),
        new(2, "invalid value for --ops: \"-1\"", "pagetest", "-D", "DIR", "--ops", "-1"),
        new(2, $"invalid value for --ops: \"{Overflow}\"", "pagetest", "-D", "DIR", "-n", Overflow),
        new(2, "invalid value for --duration: \"NaN\"", "pagetest", "-D", "DIR", "--duration", "NaN"),
        new(2, "invalid value for --duration: \"-1\"", "pagetest", "-D", "DIR", "-T", "-1"),
        new(2, "invalid value for --wal-mb: \"-5\"", "pagetest", "-D", "DIR", "--wal-mb", "-5"),
        new(2, "invalid value for --flush: \"sometimes\"", "pagetest", "-D", "DIR", "--flush", "sometimes"),
        new(2, "invalid value for --ack-file: \"\"", "pagetest", "-D", "DIR", "--ack-file", ""),
        new(2, "invalid value for --wal-segsize: \"12\"", "pagetest", "-D", "DIR", "--wal-segsize", "12"),
        new(2, "invalid value for --max-wal-size: \"0\"", "pagetest", "-D", "DIR", "--max-wal-size", "0"),
        new(2, "invalid value for --checkpoint-timeout: \"0\"", "pagetest", "-D", "DIR", "--checkpoint-timeout", "0"),
        new(2, "invalid value for --checkpoint-timeout: \"Infinity\"", "pagetest", "-D", "DIR", "--checkpoint-timeout", "Infinity"),
        new(2, "invalid value for --shared-buffers: \"15\"", "pagetest", "-D", "DIR", "--shared-buffers", "15"),
        new(2, "invalid value for --shared-buffers: \"1073741824\" (must be 16..1073741823)", "pagetest", "-D", "DIR", "--shared-buffers", "1073741824"),
        new(3, "could not open acknowledgement file", "pagetest", "-D", "DIR", "--ack-file", "LOOP"),
        new(3, "Not a directory", "pagetest", "-D", "FILE", "-n", "1"),
    ];

    [Theory]
    [MemberData(nameof(Generate))]
    public void Generate_BadOption_OneCleanLine(CliCase c) => c.Check(_root);

    [Theory]
    [MemberData(nameof(Bench))]
    public void Bench_BadOption_OneCleanLine(CliCase c) => c.Check(_root);

    [Theory]
    [MemberData(nameof(PageTest))]
    public void PageTest_BadOption_OneCleanLine(CliCase c) => c.Check(_root);

    public void Dispose() => _root.Dispose();
}
