// DataDirCommandErrorTests: `pgwal` itself, `pgwal init` and `pgwal recover` with bad command lines
// (exit 2) and unusable data directories (exit 3) — one clean line each (CliAssert).
using PgWal.Tests.Infrastructure;

namespace PgWal.Tests.Cli;

public sealed class DataDirCommandErrorTests : IDisposable
{
    private readonly TempDirectory _root = new("clierr");

    public static TheoryData<CliCase> Program() =>
    [
        new(2, "no command specified"),
        new(2, "unrecognized command \"nosuch\"", "nosuch"),
        new(2, "unrecognized option \"--nosuch\"", "--nosuch"),
        new(2, "no command specified", "kv", "-D", "DIR"),
        new(2, "unrecognized command \"nosuch\"", "kv", "-D", "DIR", "nosuch"),
    ];

    public static TheoryData<CliCase> Init() =>
    [
        new(2, "no data directory specified", "init"),
        new(2, "invalid value for --pgdata: \"\"", "init", "-D", ""),
        new(2, "option -D requires a value", "init", "-D"),
        new(2, "invalid value for --wal-segsize: \"3\" (must be a power of two, 1..1024)", "init", "-D", "DIR", "--wal-segsize", "3"),
        new(2, "invalid value for --wal-segsize: \"0\"", "init", "-D", "DIR", "--wal-segsize", "0"),
        new(2, "invalid value for --wal-segsize: \"-16\"", "init", "-D", "DIR", "--wal-segsize", "-16"),
        new(2, "invalid value for --wal-segsize: \"2048\"", "init", "-D", "DIR", "--wal-segsize", "2048"),
        new(2, "invalid value for --wal-segsize: \"NaN\"", "init", "-D", "DIR", "--wal-segsize", "NaN"),
        new(2, "invalid value for --wal-segsize: \"99999999999999999999\"", "init", "-D", "DIR", "--wal-segsize", "99999999999999999999"),
        new(2, "unrecognized option \"--nosuch\"", "init", "-D", "DIR", "--nosuch"),
        new(2, "too many command-line arguments (first is \"extra\")", "init", "-D", "DIR", "extra"),
        new(3, "could not use data directory \"", "init", "-D", "FILE"),
        new(3, "Not a directory", "init", "-D", "FILE/sub"),
        new(3, "Too many levels of symbolic links", "init", "-D", "LOOP"),
    ];

    public static TheoryData<CliCase> Recover() =>
    [
        new(2, "no data directory specified", "recover"),
        new(2, "invalid value for --pgdata: \"\"", "recover", "-D", ""),
        new(2, "unrecognized option \"--nosuch\"", "recover", "-D", "DIR", "--nosuch"),
        new(2, "too many command-line arguments (first is \"extra\")", "recover", "-D", "DIR", "extra"),
        new(3, "No such file or directory", "recover", "-D", "DIR"),
        new(3, "Not a directory", "recover", "-D", "FILE"),
        new(3, "Too many levels of symbolic links", "recover", "-D", "LOOP"),
        new(3, "Too many levels of symbolic links", "recover", "-D", "LOOP", "--decode-only"),
    ];

    [Theory]
    [MemberData(nameof(Program))]
    public void Program_BadCommandLine_OneLineExit2(CliCase c) => c.Check(_root);

    [Theory]
    [MemberData(nameof(Init))]
    public void Init_BadOptionOrDirectory_OneCleanLine(CliCase c) => c.Check(_root);

    [Theory]
    [MemberData(nameof(Recover))]
    public void Recover_BadOptionOrDirectory_OneCleanLine(CliCase c) => c.Check(_root);

    public void Dispose() => _root.Dispose();
}
