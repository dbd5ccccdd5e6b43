// ErrorText: an exception as one line in PostgreSQL's words, for "pgwal CMD: error: ..." lines.
// .NET phrases paths its own way ("Could not find a part of the path '/x'.", "No space left on
// device : '/x'") and decorates argument errors ("(Parameter 'key')", "Actual value was 5."); this
// rewrites those into PostgreSQL's `... "/x": strerror` form, keeps the first line only and never
// shows a type name (a message made of one becomes "internal error"). Everything a command prints
// as an error goes through here.
using System.Text.RegularExpressions;

namespace PgWal.Cli.Common;

internal static partial class ErrorText
{
    /// <summary>The exception that says what went wrong: single inner exceptions of aggregates and invocations unwrapped.</summary>
    public static Exception Unwrap(Exception e)
    {
        while (true)
        {
            switch (e)
            {
                case AggregateException a when a.Flatten().InnerExceptions.Count > 0:
                    e = a.Flatten().InnerExceptions[0];   // workers fail alike (a faulted engine): the first says it
                    continue;
                case System.Reflection.TargetInvocationException { InnerException: { } inner }:
                    e = inner;
                    continue;
                default:
                    return e;
            }
        }
    }

    /// <summary>One line: what failed, with paths in double quotes and the system's error text last.</summary>
    public static string Of(Exception e)
    {
        e = Unwrap(e);
        string message = e.Message;
        if (e is ArgumentException { ParamName: { } name })
            message = message.Replace($" (Parameter '{name}')", "", StringComparison.Ordinal);
        message = message.Split('\n')[0].Trim();   // ArgumentOutOfRangeException adds "Actual value was ..."
        message = PathNotFound().Replace(message, m => $"could not access \"{m.Groups["path"].Value}\": No such file or directory");
        message = FileNotFound().Replace(message, m => $"could not open file \"{m.Groups["path"].Value}\": No such file or directory");
        message = AccessDenied().Replace(message, m => $"could not access \"{m.Groups["path"].Value}\": Permission denied");
        message = FileExists().Replace(message, m => $"could not create \"{m.Groups["path"].Value}\": File exists");
        message = InUse().Replace(message, m => $"could not lock file \"{m.Groups["path"].Value}\": it is in use by another process");
        message = SystemError().Replace(message, m => $"file \"{m.Groups["path"].Value}\": {m.Groups["error"].Value}");
        if (message.Length == 0 || DotNetInternals().IsMatch(message))
            message = e is OutOfMemoryException ? "out of memory" : "internal error (PGWAL_DEBUG=1 prints the details)";   // never a type name
        return message;
    }

    // "Exception of type 'System.OutOfMemoryException' was thrown.", "Unable to cast object of type 'System.X'...".
    [GeneratedRegex(@"\bSystem\.[A-Z]|Exception\b|`\d")]
    private static partial Regex DotNetInternals();

    [GeneratedRegex(@"Could not find a part of the path '(?<path>[^']*)'\.?")]
    private static partial Regex PathNotFound();

    [GeneratedRegex(@"Could not find file '(?<path>[^']*)'\.?")]
    private static partial Regex FileNotFound();

    [GeneratedRegex(@"Access to the path '(?<path>[^']*)' is denied\.?")]
    private static partial Regex AccessDenied();

    [GeneratedRegex(@"The file '(?<path>[^']*)' already exists\.?")]
    private static partial Regex FileExists();

    [GeneratedRegex(@"The process cannot access the file '(?<path>[^']*)' because it is being used by another process\.?")]
    private static partial Regex InUse();

    // .NET's text for other errno values: "<strerror> : '<path>'".
    [GeneratedRegex(@"(?<=^|: )(?<error>[A-Z][^:']*?) : '(?<path>[^']*)'")]
    private static partial Regex SystemError();
}
