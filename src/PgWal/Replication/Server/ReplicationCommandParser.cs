// ReplicationCommandParser: PostgreSQL 15's replication grammar (repl_scanner.l, repl_gram.y).
// Keywords are upper case only (`identify_system` is not one); unquoted identifiers are
// down-cased, "quoted" ones keep their case ("" is a quote); 'strings' double '' for a quote;
// unsigned decimal integers; an LSN token is hex/hex; one trailing ';' is allowed. A text whose
// first token is not a replication command is SQL, which a physical walsender refuses (the
// session says so); anything else that does not fit the grammar is 42601 "syntax error".
using System.Globalization;
using System.Text;

namespace PgWal.Replication.Server;

/// <summary>Parses replication commands.</summary>
public static class ReplicationCommandParser
{
    private static readonly HashSet<string> Keywords = new(StringComparer.Ordinal)
    {
        "BASE_BACKUP", "IDENTIFY_SYSTEM", "READ_REPLICATION_SLOT", "SHOW", "TIMELINE", "START_REPLICATION",
        "CREATE_REPLICATION_SLOT", "DROP_REPLICATION_SLOT", "TIMELINE_HISTORY", "PHYSICAL", "RESERVE_WAL", "LOGICAL",
        "SLOT", "TEMPORARY", "TWO_PHASE", "EXPORT_SNAPSHOT", "NOEXPORT_SNAPSHOT", "USE_SNAPSHOT", "WAIT",
    };

    private static readonly HashSet<string> CommandKeywords = new(StringComparer.Ordinal)
    {
        "IDENTIFY_SYSTEM", "BASE_BACKUP", "START_REPLICATION", "CREATE_REPLICATION_SLOT", "DROP_REPLICATION_SLOT",
        "READ_REPLICATION_SLOT", "TIMELINE_HISTORY", "SHOW",
    };

    private enum Kind { Keyword, Ident, String, Number, Lsn, Punct, End }

    private readonly record struct Token(Kind Kind, string Text);

    /// <summary>
    /// Parses <paramref name="text"/>; null when it is not a replication command at all (SQL).
    /// </summary>
    /// <exception cref="ReplicationError">A replication command that does not parse (42601).</exception>
    public static ReplicationCommand? Parse(string text)
    {
        List<Token> tokens;
        try
        {
            tokens = Tokenize(text);
        }
        catch (ReplicationError) when (!StartsWithCommandKeyword(text))
        {
            return null;
        }
        if (tokens.Count == 0 || tokens[0].Kind != Kind.Keyword || !CommandKeywords.Contains(tokens[0].Text))
            return null;
        if (tokens.Count > 1 && tokens[^1] is { Kind: Kind.Punct, Text: ";" })
            tokens.RemoveAt(tokens.Count - 1);
        var p = new Cursor(tokens);
        ReplicationCommand command = p.Next().Text switch
        {
            "IDENTIFY_SYSTEM" => new IdentifySystemCommand(),
            "SHOW" => new ShowCommand(p.VarName()),
            "TIMELINE_HISTORY" => new TimelineHistoryCommand(p.Timeline()),
            "READ_REPLICATION_SLOT" => new ReadSlotCommand(p.Name()),
            "DROP_REPLICATION_SLOT" => new DropSlotCommand(p.Name(), p.TakeKeyword("WAIT")),
            "CREATE_REPLICATION_SLOT" => p.CreateSlot(),
            "START_REPLICATION" => p.StartReplication(),
            _ => new BaseBackupCommand(p.AtEnd ? [] : p.GenericOptions()),
        };
        if (!p.AtEnd)
            throw ReplicationError.Syntax();
        return command;
    }

    private static bool StartsWithCommandKeyword(string text)
    {
        var span = text.AsSpan().TrimStart(" \t\r\n\f");
        int end = 0;
        while (end < span.Length && (char.IsAsciiLetterUpper(span[end]) || span[end] == '_'))
            end++;
        return CommandKeywords.Contains(span[..end].ToString());
    }

    private static List<Token> Tokenize(string text)
    {
        var tokens = new List<Token>();
        int i = 0;
        while (true)
        {
            while (i < text.Length && text[i] is ' ' or '\t' or '\r' or '\n' or '\f')
                i++;
            if (i >= text.Length)
                return tokens;
            char c = text[i];
            if (c is '(' or ')' or ',' or ';' or '.')
            {
                tokens.Add(new Token(Kind.Punct, c.ToString()));
                i++;
            }
            else if (c == '\'')
            {
                tokens.Add(new Token(Kind.String, Quoted(text, ref i, '\'', "unterminated quoted string")));
            }
            else if (c == '"')
            {
                string ident = Quoted(text, ref i, '"', "unterminated quoted identifier");
                if (ident.Length == 0)
                    throw ReplicationError.Syntax("zero-length delimited identifier");
                tokens.Add(new Token(Kind.Ident, ident));
            }
            else if (LsnLength(text, i) is > 0 and var lsnLength)
            {
                tokens.Add(new Token(Kind.Lsn, text.Substring(i, lsnLength)));
                i += lsnLength;
            }
            else if (char.IsAsciiDigit(c))
            {
                int start = i;
                while (i < text.Length && char.IsAsciiDigit(text[i]))
                    i++;
                tokens.Add(new Token(Kind.Number, text[start..i]));
            }
            else if (IsIdentStart(c))
            {
                int start = i;
                while (i < text.Length && (IsIdentStart(text[i]) || char.IsAsciiDigit(text[i]) || text[i] == '$'))
                    i++;
                string word = text[start..i];
                tokens.Add(Keywords.Contains(word) ? new Token(Kind.Keyword, word) : new Token(Kind.Ident, word.ToLowerInvariant()));
            }
            else
            {
                throw ReplicationError.Syntax();
            }
        }
    }

    private static bool IsIdentStart(char c) => char.IsAsciiLetter(c) || c == '_' || c >= '\u0080';

    // hex+/hex+ starting at i; 0 when there is none.
    private static int LsnLength(string text, int i)
    {
        int j = i;
        while (j < text.Length && char.IsAsciiHexDigit(text[j]))
            j++;
        if (j == i || j >= text.Length || text[j] != '/')
            return 0;
        int k = j + 1;
        while (k < text.Length && char.IsAsciiHexDigit(text[k]))
            k++;
        return k == j + 1 ? 0 : k - i;
    }

    private static string Quoted(string text, ref int i, char quote, string unterminated)
    {
        var value = new StringBuilder();
        i++;
        while (true)
        {
            if (i >= text.Length)
                throw ReplicationError.Syntax(unterminated);
            if (text[i] == quote)
            {
                if (i + 1 < text.Length && text[i + 1] == quote)
                {
                    value.Append(quote);
                    i += 2;
                    continue;
                }
                i++;
                return value.ToString();
            }
            value.Append(text[i++]);
        }
    }

    private sealed class Cursor(List<Token> tokens)
    {
        private int _at;

        public bool AtEnd => _at >= tokens.Count;

        private Token Peek => AtEnd ? new Token(Kind.End, "") : tokens[_at];

        public Token Next() => AtEnd ? throw ReplicationError.Syntax() : tokens[_at++];

        public bool TakeKeyword(string keyword)
        {
            if (Peek is { Kind: Kind.Keyword } t && t.Text == keyword)
            {
                _at++;
                return true;
            }
            return false;
        }

        private bool TakePunct(string punct)
        {
            if (Peek is { Kind: Kind.Punct } t && t.Text == punct)
            {
                _at++;
                return true;
            }
            return false;
        }

        public string Name() => Next() is { Kind: Kind.Ident } t ? t.Text : throw ReplicationError.Syntax();

        public string VarName()
        {
            var name = new StringBuilder(Name());
            while (TakePunct("."))
                name.Append('.').Append(Name());
            return name.ToString();
        }

        public uint Timeline()
        {
            var t = Next();
            if (t.Kind != Kind.Number || !uint.TryParse(t.Text, NumberStyles.None, CultureInfo.InvariantCulture, out uint tli))
                throw ReplicationError.Syntax();
            if (tli == 0)
                throw ReplicationError.Syntax("invalid timeline 0");
            return tli;
        }

        public ReplicationCommand CreateSlot()
        {
            string name = Name();
            bool temporary = TakeKeyword("TEMPORARY");
            if (TakeKeyword("PHYSICAL"))
            {
                bool reserve = false;
                if (TakeKeyword("RESERVE_WAL"))
                    reserve = true;   // the legacy form
                else if (Peek is { Kind: Kind.Punct, Text: "(" })
                {
                    foreach (var (option, value) in GenericOptions())
                    {
                        if (option != "reserve_wal")
                            throw new ReplicationError("42601", $"unrecognized option: {option}");
                        reserve = Boolean(option, value);
                    }
                }
                return new CreateSlotCommand(name, temporary, null, reserve);
            }
            if (!TakeKeyword("LOGICAL"))
                throw ReplicationError.Syntax();
            string plugin = Name();
            while (!AtEnd)
                Next();   // its options do not matter: logical slots are refused
            return new CreateSlotCommand(name, temporary, plugin, false);
        }

        public ReplicationCommand StartReplication()
        {
            string? slot = TakeKeyword("SLOT") ? Name() : null;
            if (TakeKeyword("LOGICAL"))
            {
                while (!AtEnd)
                    Next();
                return new StartReplicationCommand(slot, Lsn.Invalid, 0, Logical: true);
            }
            TakeKeyword("PHYSICAL");
            var lsn = Next();
            if (lsn.Kind != Kind.Lsn || !Lsn.TryParse(lsn.Text, out var start))
                throw ReplicationError.Syntax();
            uint timeline = TakeKeyword("TIMELINE") ? Timeline() : 0;
            return new StartReplicationCommand(slot, start, timeline, Logical: false);
        }

        // ( name [value] [, name [value]] ... ): names are identifiers or keywords (lower-cased),
        // values identifiers, 'strings' or unsigned integers.
        public List<KeyValuePair<string, string?>> GenericOptions()
        {
            if (!TakePunct("("))
                throw ReplicationError.Syntax();
            var options = new List<KeyValuePair<string, string?>>();
            while (true)
            {
                var name = Next();
                if (name.Kind is not (Kind.Ident or Kind.Keyword))
                    throw ReplicationError.Syntax();
                string? value = null;
                if (Peek.Kind is Kind.Ident or Kind.String or Kind.Number)
                    value = Next().Text;
                options.Add(new(name.Kind == Kind.Keyword ? name.Text.ToLowerInvariant() : name.Text, value));
                if (TakePunct(")"))
                    return options;
                if (!TakePunct(","))
                    throw ReplicationError.Syntax();
            }
        }
    }

    /// <summary>parse_bool: true/false, on/off, yes/no, 1/0 (any case).</summary>
    public static bool TryBoolean(string value, out bool result)
    {
        switch (value.ToLowerInvariant())
        {
            case "true" or "on" or "yes" or "1":
                result = true;
                return true;
            case "false" or "off" or "no" or "0":
                result = false;
                return true;
            default:
                result = false;
                return false;
        }
    }

    /// <summary>defGetBoolean: no value is true; 0/1; true/false/on/off (any case).</summary>
    /// <exception cref="ReplicationError">Anything else (42601 "x requires a Boolean value").</exception>
    public static bool Boolean(string option, string? value) => value?.ToLowerInvariant() switch
    {
        null or "true" or "on" or "1" => true,
        "false" or "off" or "0" => false,
        _ => throw new ReplicationError("42601", $"{option} requires a Boolean value"),
    };
}
