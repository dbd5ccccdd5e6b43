// GetOptLong: GNU getopt_long semantics, so that `pgwal waldump` accepts exactly what pg_waldump
// accepts: option clusters (-bq), attached or separate arguments (-s0/1, -s 0/1, --start=0/1,
// --start 0/1), optional long arguments only with '=', unambiguous prefixes of long options,
// "--" to end options, and permutation (non-options are collected and returned after the options).
namespace PgWal.Cli.Common;

/// <summary>Whether a long option takes an argument.</summary>
internal enum ArgumentKind
{
    None,
    Required,
    Optional,
}

/// <summary>A long option: name, argument kind, and the short option it stands for.</summary>
internal readonly record struct LongOption(string Name, ArgumentKind Argument, char Short);

/// <summary>One parsed option.</summary>
internal readonly record struct ParsedOption(char Option, string? Argument);

/// <summary>Parses a command line the way glibc's getopt_long does.</summary>
internal sealed class GetOptLong(string programName, string shortOptions, IReadOnlyList<LongOption> longOptions)
{
    /// <summary>
    /// Parses <paramref name="args"/>. Returns false after writing glibc's message to
    /// <paramref name="error"/> on an unknown option or a missing/unexpected argument.
    /// </summary>
    public bool TryParse(IReadOnlyList<string> args, List<ParsedOption> options, List<string> operands, TextWriter error)
    {
        for (int i = 0; i < args.Count; i++)
        {
            string arg = args[i];
            if (arg == "--")
            {
                for (int j = i + 1; j < args.Count; j++)
                    operands.Add(args[j]);
                return true;
            }
            if (arg.StartsWith("--", StringComparison.Ordinal))
            {
                if (!ParseLong(args, ref i, options, error))
                    return false;
                continue;
            }
            if (arg.Length > 1 && arg[0] == '-')
            {
                if (!ParseShortCluster(args, ref i, options, error))
                    return false;
                continue;
            }
            operands.Add(arg);
        }
        return true;
    }

    private bool ParseLong(IReadOnlyList<string> args, ref int i, List<ParsedOption> options, TextWriter error)
    {
        string body = args[i][2..];
        int eq = body.IndexOf('=');
        string name = eq >= 0 ? body[..eq] : body;
        string? value = eq >= 0 ? body[(eq + 1)..] : null;

        LongOption? match = null;
        var candidates = new List<LongOption>();
        foreach (var option in longOptions)
        {
            if (option.Name == name)
            {
                match = option;
                candidates.Clear();
                break;
            }
            if (option.Name.StartsWith(name, StringComparison.Ordinal))
                candidates.Add(option);
        }
        if (match is null)
        {
            if (candidates.Count == 1 || (candidates.Count > 1 && candidates.TrueForAll(c => c.Short == candidates[0].Short && c.Argument == candidates[0].Argument)))
                match = candidates[0];
            else if (candidates.Count > 1)
            {
                error.WriteLine($"{programName}: option '--{name}' is ambiguous; possibilities:{string.Concat(candidates.Select(c => $" '--{c.Name}'"))}");
                return false;
            }
            else
            {
                error.WriteLine($"{programName}: unrecognized option '--{name}'");
                return false;
            }
        }
        var o = match.Value;
        switch (o.Argument)
        {
            case ArgumentKind.None when value != null:
                error.WriteLine($"{programName}: option '--{o.Name}' doesn't allow an argument");
                return false;
            case ArgumentKind.Required when value == null:
                if (i + 1 >= args.Count)
                {
                    error.WriteLine($"{programName}: option '--{o.Name}' requires an argument");
                    return false;
                }
                value = args[++i];
                break;
        }
        options.Add(new ParsedOption(o.Short, value));
        return true;
    }

    private bool ParseShortCluster(IReadOnlyList<string> args, ref int i, List<ParsedOption> options, TextWriter error)
    {
        string arg = args[i];
        for (int k = 1; k < arg.Length; k++)
        {
            char c = arg[k];
            int at = c == ':' ? -1 : shortOptions.IndexOf(c);
            if (at < 0)
            {
                error.WriteLine($"{programName}: invalid option -- '{c}'");
                return false;
            }
            bool takesArgument = at + 1 < shortOptions.Length && shortOptions[at + 1] == ':';
            if (!takesArgument)
            {
                options.Add(new ParsedOption(c, null));
                continue;
            }
            if (k + 1 < arg.Length)
            {
                options.Add(new ParsedOption(c, arg[(k + 1)..]));
                return true;
            }
            if (i + 1 >= args.Count)
            {
                error.WriteLine($"{programName}: option requires an argument -- '{c}'");
                return false;
            }
            options.Add(new ParsedOption(c, args[++i]));
            return true;
        }
        return true;
    }
}
