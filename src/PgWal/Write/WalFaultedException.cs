// WalFaultedException: the writer's failure is final. After a write, sync or file creation fails,
// PostgreSQL PANICs rather than retry (a retried fsync can "succeed" after the kernel dropped the
// dirty pages); PgWal faults the writer instead: every later call throws this, carrying the first error.
namespace PgWal.Write;

/// <summary>Thrown by every call on a writer whose storage failed once; <see cref="Exception.InnerException"/> is the first failure.</summary>
public sealed class WalFaultedException : IOException
{
    /// <summary>Creates the exception for <paramref name="firstFailure"/>.</summary>
    public WalFaultedException(string message, Exception firstFailure) : base(message, firstFailure)
    {
    }
}
