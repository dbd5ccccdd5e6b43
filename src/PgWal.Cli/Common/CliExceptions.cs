// CliExceptions: the two failures a command reports with an exit code other than "runtime error"
// (CommandBoundary maps them): a bad command line found after parsing (a combination of options,
// a value read from a file), and a failure once a change may already be durable.
namespace PgWal.Cli.Common;

/// <summary>A bad command line: the message names the option or argument and the value. Exit 2.</summary>
internal sealed class UsageException(string message) : Exception(message);

/// <summary>A failure after a change may have become durable; the message says what is known. Exit 4.</summary>
internal sealed class OutcomeUnknownException(string message, Exception? inner = null) : Exception(message, inner);
