// WalFault: the engine's first storage failure. Set once, never cleared: after a failed write or
// sync nothing is retried (a retried fsync can "succeed" after the kernel dropped the dirty pages),
// and every later Insert/Flush throws WalFaultedException carrying the first error.
namespace PgWal.Write;

internal sealed class WalFault
{
    private Exception? _first;

    public Exception? First => Volatile.Read(ref _first);

    public bool IsSet => Volatile.Read(ref _first) != null;

    /// <summary>Records <paramref name="e"/> (unless a failure is already recorded) and returns the exception to throw.</summary>
    public WalFaultedException Set(Exception e)
    {
        if (e is WalFaultedException faulted)
            return faulted;
        Interlocked.CompareExchange(ref _first, e, null);
        return Create(_first!);
    }

    public void ThrowIfSet()
    {
        if (Volatile.Read(ref _first) is { } e)
            throw Create(e);
    }

    public static WalFaultedException Create(Exception first) => new($"WAL engine is faulted: {first.Message}", first);

    /// <summary>True for failures that come from storage and must fault the engine.</summary>
    public static bool IsStorageFailure(Exception e) => e is (IOException or UnauthorizedAccessException) and not WalFaultedException;
}
