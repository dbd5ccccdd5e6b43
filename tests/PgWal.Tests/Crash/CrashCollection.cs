// CrashCollection: the CPU-heavy crash tests (1,000+ simulated power losses on two threads, the
// SIGKILL loop's child processes, long workloads, the kv store's model, crash and process tests)
// run by themselves, after the parallel tests,
// so they do not starve timing-sensitive tests such as group commit's grouping of their cores.
namespace PgWal.Tests.Crash;

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class CrashCollection
{
    public const string Name = "crash (run alone)";
}
