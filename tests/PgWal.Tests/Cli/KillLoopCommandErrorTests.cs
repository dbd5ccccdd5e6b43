// KillLoopCommandErrorTests: `pgwal demo` and `pgwal torture` with bad options — `torture -n 0`,
// `-n -1` and `demo -c 0` are usage errors, not successes — each one clean line and exit 2 before
// any directory or worker exists; an unusable directory is exit 3.
using PgWal.Tests.Infrastructure;

namespace PgWal.Tests.Cli;

public sealed class KillLoopCommandErrorTests : IDisposable
{
    private readonly TempDirectory _root = new("clierr");

    public static TheoryData<CliCase> Demo() =>
    [
        new(2, "invalid value for --clients: \"0\"", "demo", "-D", "DIR", "-c", "0"),
        new(2, "invalid value for --clients: \"100\"", "demo", "-D", "DIR", "--clients", "100"),
        new(2, "invalid value for --duration: \"0.5\"", "demo", "-D", "DIR", "--duration", "0.5"),
        new(2, "invalid value for --duration: \"NaN\"", "demo", "-D", "DIR", "-T", "NaN"),
        new(2, "invalid value for --duration: \"Infinity\"", "demo", "-D", "DIR", "-T", "Infinity"),
        new(2, "invalid value for --seed: \"99999999999\"", "demo", "-D", "DIR", "--seed", "99999999999"),
        new(2, "invalid value for --pgdata: \"\"", "demo", "-D", ""),
        new(2, "too many command-line arguments (first is \"now\")", "demo", "-D", "DIR", "now"),
        new(3, "Not a directory", "demo", "-D", "FILE"),
    ];

    public static TheoryData<CliCase> Torture() =>
    [
        new(2, "no data directory specified", "torture"),
        new(2, "invalid value for --iterations: \"0\"", "torture", "-D", "DIR", "-n", "0"),
        new(2, "invalid value for --iterations: \"-1\"", "torture", "-D", "DIR", "-n", "-1"),
        new(2, "invalid value for --iterations: \"99999999999999999999\"", "torture", "-D", "DIR", "--iterations", "99999999999999999999"),
        new(2, "invalid value for --clients: \"0\"", "torture", "-D", "DIR", "-c", "0"),
        new(2, "invalid value for --min-run-ms: \"-1\"", "torture", "-D", "DIR", "--min-run-ms", "-1"),
        new(2, "invalid value for --max-run-ms: \"NaN\"", "torture", "-D", "DIR", "--max-run-ms", "NaN"),
        new(2, "--min-run-ms (500) must not be more than --max-run-ms (100)", "torture", "-D", "DIR", "--min-run-ms", "500", "--max-run-ms", "100"),
        new(2, "invalid value for --seed: \"1.5\"", "torture", "-D", "DIR", "--seed", "1.5"),
        new(3, "Too many levels of symbolic links", "torture", "-D", "LOOP"),
    ];

    [Theory]
    [MemberData(nameof(Demo))]
    public void Demo_BadOption_OneCleanLine(CliCase c) => c.Check(_root);

    [Theory]
    [MemberData(nameof(Torture))]
    public void Torture_BadOption_OneCleanLine(CliCase c) => c.Check(_root);

    public void Dispose() => _root.Dispose();
}
