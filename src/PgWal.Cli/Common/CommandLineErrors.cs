// CommandLineErrors: System.CommandLine's parse errors (unknown command or option, missing
// argument or option, a value it could not convert) as one PostgreSQL-style line naming what is
// wrong, plus the "Try ... --help" hint, exit 2 — instead of its multi-line message and help dump.
// Only the first error is reported, as PostgreSQL's tools stop at the first.
using System.CommandLine;
using System.CommandLine.Parsing;
using System.Text.RegularExpressions;

namespace PgWal.Cli.Common;

internal static partial class CommandLineErrors
{
    private const string NoCommand = "Required command was not provided.";

    /// <summary>Prints the first error of <paramref name="result"/> and returns the usage exit code.</summary>
    public static int Report(ParseResult result)
    {
        string program = ProgramOf(result.CommandResult);
        // "Required command was not provided" accompanies an unrecognized command: name the latter.
        var error = result.Errors.FirstOrDefault(e => e.Message != NoCommand) ?? result.Errors[0];
        CommandBoundary.Error(program, Describe(error, result.CommandResult.Command));
        CommandBoundary.TryHelpHint(program);
        return ExitCodes.Usage;
    }

    /// <summary>"pgwal kv put" for the command being parsed.</summary>
    public static string ProgramOf(CommandResult command)
    {
        var names = new List<string>();
        for (SymbolResult? r = command; r != null; r = r.Parent)
        {
            if (r is CommandResult c && c.Parent != null)
                names.Add(c.Command.Name);
        }
        names.Reverse();
        return CommandBoundary.Program(string.Join(' ', names));
    }

    internal static string Describe(ParseError error, Command command)
    {
        string m = error.Message;
        if (Unrecognized().Match(m) is { Success: true } u)
        {
            string token = u.Groups[1].Value;
            if (token.StartsWith('-') && token.Length > 1 && !char.IsAsciiDigit(token[1]))
                return $"unrecognized option \"{token}\"";
            return command.Subcommands.Count > 0 ? $"unrecognized command \"{token}\"" : $"too many command-line arguments (first is \"{token}\")";
        }
        if (MissingArgument().Match(m) is { Success: true } a)
            return $"missing argument {a.Groups[1].Value}";
        if (MissingOptionValue().Match(m) is { Success: true } v)
            return $"option {v.Groups[1].Value} requires a value";
        if (RequiredOption().Match(m) is { Success: true } o)
            return o.Groups[1].Value == "--pgdata" ? "no data directory specified (-D/--pgdata)" : $"option {o.Groups[1].Value} is required";
        if (TooManyValues().Match(m) is { Success: true } t)
            return $"option {t.Groups[1].Value} takes one value, got {t.Groups[2].Value}";
        if (NotParsed().Match(m) is { Success: true } p)
            return CliOptions.Invalid(p.Groups[2].Value, p.Groups[1].Value, "not a valid value");
        if (NotAmong().Match(m) is { Success: true } n)
            return $"invalid value \"{n.Groups[1].Value}\" (must be one of{n.Groups[2].Value.ReplaceLineEndings(" ").TrimEnd()})";
        if (m == NoCommand)
            return "no command specified";
        return m.ReplaceLineEndings(" ").TrimEnd('.', ' ');
    }

    [GeneratedRegex(@"^Unrecognized command or argument '(.*)'\.$")]
    private static partial Regex Unrecognized();

    [GeneratedRegex(@"^Required argument '(.*)' missing for command: '.*'\.$")]
    private static partial Regex MissingArgument();

    [GeneratedRegex(@"^Required argument missing for option: '(.*)'\.$")]
    private static partial Regex MissingOptionValue();

    [GeneratedRegex(@"^Option '(.*)' is required\.$")]
    private static partial Regex RequiredOption();

    [GeneratedRegex(@"^Option '(.*)' expects a single argument but (\d+) were provided\.$")]
    private static partial Regex TooManyValues();

    [GeneratedRegex(@"^Cannot parse argument '(.*)' for (?:option|command) '(.*?)' as expected type", RegexOptions.Singleline)]
    private static partial Regex NotParsed();

    [GeneratedRegex(@"^Argument '(.*)' not recognized\. Must be one of:(.*)$", RegexOptions.Singleline)]
    private static partial Regex NotAmong();
}
