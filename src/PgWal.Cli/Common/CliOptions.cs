// CliOptions: options whose values are checked while parsing, so that every bad value is one
// PostgreSQL-style line naming the option, the value and what it must be —
// `invalid value for --workers: "-3" (must be 1..4096)` — and exit 2, before anything is done.
// Numbers are parsed here, not by System.CommandLine (whose message names .NET types): integers
// in decimal without separators, overflow rejected; seconds as finite decimals (no NaN, no
// infinities). Choices list what is accepted (in any case).
using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;

namespace PgWal.Cli.Common;

internal static class CliOptions
{
    public static Option<int> Int(string name, string? alias, string description, int min, int max, int defaultValue,
        Func<long, bool>? also = null, string? must = null)
    {
        var o = New<int>(name, alias, $"{description}{Range(min, max)}");
        o.DefaultValueFactory = _ => defaultValue;
        o.CustomParser = r => (int)ParseInteger(r, min, max, also, must);
        return o;
    }

    public static Option<long> Long(string name, string? alias, string description, long min, long max, long defaultValue)
    {
        var o = New<long>(name, alias, $"{description}{Range(min, max)}");
        o.DefaultValueFactory = _ => defaultValue;
        o.CustomParser = r => ParseInteger(r, min, max, null, null);
        return o;
    }

    /// <summary>An integer option without a default: null when not given.</summary>
    public static Option<long?> OptionalLong(string name, string? alias, string description, long min, long max)
    {
        var o = New<long?>(name, alias, $"{description}{Range(min, max)}");
        o.CustomParser = r => ParseInteger(r, min, max, null, null);
        return o;
    }

    /// <summary>An optional integer option without a default: null when not given.</summary>
    public static Option<int?> OptionalInt(string name, string? alias, string description, int min, int max)
    {
        var o = New<int?>(name, alias, $"{description}{Range(min, max)}");
        o.CustomParser = r => (int)ParseInteger(r, min, max, null, null);
        return o;
    }

    public static Option<double> Seconds(string name, string? alias, string description, double min, double max, double defaultValue)
    {
        var o = New<double>(name, alias, $"{description} ({Format(min)}..{Format(max)})");
        o.DefaultValueFactory = _ => defaultValue;
        o.CustomParser = r => ParseSeconds(r, min, max);
        return o;
    }

    /// <summary>A number of seconds without a default: null when not given.</summary>
    public static Option<double?> OptionalSeconds(string name, string? alias, string description, double min, double max)
    {
        var o = New<double?>(name, alias, $"{description} ({Format(min)}..{Format(max)})");
        o.CustomParser = r => ParseSeconds(r, min, max);
        return o;
    }

    public static Option<string> Choice(string name, string? alias, string description, string defaultValue, params string[] choices)
    {
        var o = New<string>(name, alias, description);
        o.HelpName = string.Join('|', choices);
        o.DefaultValueFactory = _ => defaultValue;
        o.CustomParser = r =>
        {
            string text = Value(r);
            foreach (string choice in choices)
            {
                if (string.Equals(choice, text, StringComparison.OrdinalIgnoreCase))
                    return choice;
            }
            r.AddError(Invalid(r, text, "must be " + OneOf(choices)));
            return defaultValue;
        };
        return o;
    }

    /// <summary>-D/--pgdata: a non-empty path.</summary>
    public static Option<string> DataDirectory(string description, bool required = true, string? defaultValue = null, bool recursive = false)
    {
        var o = Path("--pgdata", "-D", description);
        o.Required = required && defaultValue == null;
        o.Recursive = recursive;
        if (defaultValue != null)
            o.DefaultValueFactory = _ => defaultValue;
        return o;
    }

    /// <summary>A file or directory path option: not empty.</summary>
    public static Option<string> Path(string name, string? alias, string description)
    {
        var o = New<string>(name, alias, description);
        o.CustomParser = r =>
        {
            string text = Value(r);
            if (text.Length == 0)
                r.AddError(Invalid(r, text, "must not be empty"));
            return text;
        };
        return o;
    }

    /// <summary>"a, b or c".</summary>
    public static string OneOf(IReadOnlyList<string> choices)
        => choices.Count == 1 ? choices[0] : string.Join(", ", choices.Take(choices.Count - 1)) + " or " + choices[^1];

    /// <summary>The message for a bad value: <c>invalid value for --x: "v" (must ...)</c>.</summary>
    public static string Invalid(string option, string value, string must) => $"invalid value for {option}: \"{value}\" ({must})";

    private static Option<T> New<T>(string name, string? alias, string description)
    {
        var o = alias == null ? new Option<T>(name) : new Option<T>(name, alias);
        o.Description = description;
        return o;
    }

    private static string Invalid(ArgumentResult r, string value, string must)
        => Invalid(r.Parent is OptionResult option ? option.Option.Name : r.Argument.Name, value, must);

    // The option's value as given (the last one when repeated, as getopt takes the last).
    private static string Value(ArgumentResult r) => r.Tokens.Count == 0 ? "" : r.Tokens[^1].Value;

    private static long ParseInteger(ArgumentResult r, long min, long max, Func<long, bool>? also, string? must)
    {
        string text = Value(r);
        if (long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long value)
            && value >= min && value <= max && (also == null || also(value)))
            return value;
        r.AddError(Invalid(r, text, must ?? $"must be {min}..{max}"));
        return min;
    }

    private static double ParseSeconds(ArgumentResult r, double min, double max)
    {
        string text = Value(r);
        if (double.TryParse(text, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint | NumberStyles.AllowExponent, CultureInfo.InvariantCulture, out double value)
            && double.IsFinite(value) && value >= min && value <= max)
            return value;
        r.AddError(Invalid(r, text, $"must be a number of seconds, {Format(min)}..{Format(max)}"));
        return min;
    }

    // The range for --help: " (1..4096)", " (at least 1)", or nothing for any int.
    private static string Range(long min, long max) => (min, max) switch
    {
        (int.MinValue, int.MaxValue) => "",
        (_, int.MaxValue or long.MaxValue) => $" (at least {min})",
        _ => $" ({min}..{max})",
    };

    private static string Format(double d) => d.ToString("0.###", CultureInfo.InvariantCulture);
}
