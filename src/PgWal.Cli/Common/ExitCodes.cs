// ExitCodes: what `pgwal` exits with, for scripts (docs/cli.md). The tools that mirror PostgreSQL's
// (waldump, controldata, resetwal) keep exiting as pg_waldump / pg_controldata / pg_resetwal do
// (1 for every error) and do not use these.
namespace PgWal.Cli.Common;

internal static class ExitCodes
{
    /// <summary>Done.</summary>
    public const int Success = 0;

    /// <summary>`kv get` / `kv delete`: the key is absent. Never an error.</summary>
    public const int KeyAbsent = 1;

    /// <summary>A bad command line: unknown command or option, a missing or invalid value. Nothing was done.</summary>
    public const int Usage = 2;

    /// <summary>A runtime failure: I/O error, damaged data, a failed verification, directory in use...</summary>
    public const int Runtime = 3;

    /// <summary>
    /// A failure after a commit may have become durable (the commit is in the WAL, or its flush
    /// failed): the change may or may not be there; the message says what is known.
    /// </summary>
    public const int OutcomeUnknown = 4;
}
