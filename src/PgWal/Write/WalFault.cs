// WalFault: the engine's first storage failure. Set once, never cleared: after a failed write or
// sync nothing is retried (a retried fsync can "succeed" after the kernel dropped the dirty pages),
// and every later Insert/Flush throws WalFaultedException carrying the first error.
namespace PgWal.Write;

internal sealed class WalFault
{
    private readonly Lock _gate = new();   // orders the first Set against OnFault's subscriptions
    private Exception? _first;             // written under _gate, read without it
    private Action<Exception>? _faulted;   // guarded by _gate; called once, by the thread whose failure became the first

    /// <summary>
    /// Calls <paramref name="callback"/> with the first failure once it is recorded (at once when it
    /// already is): for those who wait on something the failed engine can no longer bring about.
    /// </summary>
    public void OnFault(Action<Exception> callback)
    {
        lock (_gate)
        {
            if (_first == null)
            {
                _faulted += callback;
                return;
            }
        }
        callback(_first);
    }

    public Exception? First => Volatile.Read(ref _first);

    public bool IsSet => Volatile.Read(ref _first) != null;

    /// <summary>Records <paramref name="e"/> (unless a failure is already recorded) and returns the exception to throw.</summary>
    public WalFaultedException Set(Exception e)
    {
        if (e is WalFaultedException faulted)
            return faulted;
        Action<Exception>? callbacks = null;
        lock (_gate)
        {
            if (_first == null)
            {
                Volatile.Write(ref _first, e);
                callbacks = _faulted;
                _faulted = null;
            }
        }
        callbacks?.Invoke(e);
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
