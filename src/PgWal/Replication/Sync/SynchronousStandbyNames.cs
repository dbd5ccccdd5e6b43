// SynchronousStandbyNames: PostgreSQL 15's synchronous_standby_names, parsed as syncrep_scanner.l
// and syncrep_gram.y do (reference §7.1), and matched against walsenders' application_name as
// SyncRepGetStandbyPriority does.
//   standby_config: standby_list                      priority, 1 standby ("FIRST 1")
//                 | NUM '(' standby_list ')'          priority, NUM standbys (pre-9.6 form)
//                 | ANY NUM '(' standby_list ')'      quorum
//                 | FIRST NUM '(' standby_list ')'    priority
//   standby_name:   NAME | NUM      (NAME: identifier, "double-quoted" with "" for a quote, or *)
// ANY and FIRST are keywords in any case (so a standby called "any" must be quoted). Names keep the
// case they were written in, as PostgreSQL's scanner keeps it: matching is case-insensitive anyway.
// Errors read as PostgreSQL's check hook reports them: the first syntax error only, "at or near"
// the token where the parser stopped (for a quoted name that is its closing quote, as in flex).
using System.Globalization;
using System.Text;

namespace PgWal.Replication.Sync;

/// <summary>How synchronous standbys are chosen among the candidates.</summary>
public enum SyncRepMethod
{
    /// <summary><c>FIRST N (...)</c> or a plain list: the N candidates earliest in the list.</summary>
    Priority,
    /// <summary><c>ANY N (...)</c>: any N candidates (quorum commit).</summary>
    Quorum,
}

/// <summary>A parsed <c>synchronous_standby_names</c>. Immutable.</summary>
public sealed class SynchronousStandbyNames
{
    private const string Parameter = "synchronous_standby_names";

    /// <summary>The empty setting: no synchronous replication.</summary>
    public static readonly SynchronousStandbyNames None = new("", SyncRepMethod.Priority, 0, []);

    private SynchronousStandbyNames(string text, SyncRepMethod method, int numSync, string[] names)
    {
        Text = text;
        Method = method;
        NumSync = numSync;
        Names = names;
    }

    /// <summary>The setting as given.</summary>
    public string Text { get; }

    /// <summary>Priority (FIRST or a plain list) or quorum (ANY).</summary>
    public SyncRepMethod Method { get; }

    /// <summary>How many synchronous standbys a commit waits for (0 when <see cref="IsDefined"/> is false).</summary>
    public int NumSync { get; }

    /// <summary>The standby names in order, unquoted; <c>*</c> matches every application_name.</summary>
    public IReadOnlyList<string> Names { get; }

    /// <summary>Whether synchronous replication is on (the setting is not empty): PostgreSQL's sync_standbys_defined.</summary>
    public bool IsDefined => Names.Count > 0;

    /// <summary>
    /// A walsender's sync_priority for its <paramref name="applicationName"/>: 0 when no entry
    /// matches (asynchronous); otherwise the 1-based position of the first matching entry
    /// (compared case-insensitively, <c>*</c> matching anything), or 1 for every match in quorum mode.
    /// </summary>
    public int PriorityOf(string applicationName)
    {
        for (int i = 0; i < Names.Count; i++)
        {
            string name = Names[i];
            if (name == "*" || string.Equals(name, applicationName, StringComparison.OrdinalIgnoreCase))
                return Method == SyncRepMethod.Quorum ? 1 : i + 1;
        }
        return 0;
    }

    /// <inheritdoc/>
    public override string ToString() => Text;

    /// <summary>Parses a setting; null or empty means <see cref="None"/>.</summary>
    /// <exception cref="FormatException">
    /// PostgreSQL's message, naming the parameter: <c>invalid value for parameter
    /// "synchronous_standby_names": "a b": syntax error at or near "b"</c>.
    /// </exception>
    public static SynchronousStandbyNames Parse(string? text)
        => TryParse(text, out var result, out string? error) ? result : throw new FormatException(error);

    /// <summary>Parses a setting without throwing; <paramref name="error"/> says what is wrong.</summary>
    public static bool TryParse(string? text, out SynchronousStandbyNames result, out string? error)
    {
        result = None;
        error = null;
        // check_synchronous_standby_names parses only a non-empty string (so blanks are a syntax error).
        if (string.IsNullOrEmpty(text))
            return true;
        var parser = new Parser(text);
        if (!parser.Run(out var method, out string numText, out var names))
        {
            error = $"invalid value for parameter \"{Parameter}\": \"{text}\": {parser.Error}";
            return false;
        }
        // create_syncrep_config's atoi, then the check hook's "> 0" test.
        if (!int.TryParse(numText, NumberStyles.None, CultureInfo.InvariantCulture, out int numSync))
        {
            error = $"invalid value for parameter \"{Parameter}\": \"{text}\": number of synchronous standbys ({numText}) is out of range";
            return false;
        }
        if (numSync <= 0)
        {
            error = $"invalid value for parameter \"{Parameter}\": \"{text}\": number of synchronous standbys ({numSync}) must be greater than zero";
            return false;
        }
        result = new SynchronousStandbyNames(text, method, numSync, [.. names]);
        return true;
    }

    private enum TokenKind { End, Name, Num, Any, First, Comma, Open, Close, Junk }

    // Text: what an error shows ("at or near"); Value: a name's value (unquoted).
    private readonly record struct Token(TokenKind Kind, string Text, string Value);

    // Recursive descent equivalent to the LALR grammar above; tokens are scanned on demand, so the
    // first error met is the one reported, as with bison and flex.
    private sealed class Parser(string input)
    {
        private int _position;

        public string? Error { get; private set; }

        public bool Run(out SyncRepMethod method, out string numSync, out List<string> names)
        {
            method = SyncRepMethod.Priority;
            numSync = "1";
            names = [];
            var token = Next();
            if (token.Kind is TokenKind.Any or TokenKind.First)
            {
                method = token.Kind == TokenKind.Any ? SyncRepMethod.Quorum : SyncRepMethod.Priority;
                var number = Next();
                if (number.Kind != TokenKind.Num)
                    return SyntaxError(number);
                numSync = number.Value;
                return Expect(TokenKind.Open) && ParenthesizedList(names);
            }
            if (token.Kind == TokenKind.Num)
            {
                var after = Next();
                if (after.Kind == TokenKind.Open)
                {
                    numSync = token.Value;
                    return ParenthesizedList(names);
                }
                names.Add(token.Value);
                return ListRest(after, names, out token) && (token.Kind == TokenKind.End || SyntaxError(token));
            }
            return List(token, names, out token) && (token.Kind == TokenKind.End || SyntaxError(token));
        }

        // After '(': standby_list ')' and the end of the input.
        private bool ParenthesizedList(List<string> names)
        {
            if (!List(Next(), names, out var token))
                return false;
            return token.Kind == TokenKind.Close ? ExpectEnd() : SyntaxError(token);
        }

        // standby_list starting at `first`; `next` is the token after it.
        private bool List(Token first, List<string> names, out Token next)
        {
            next = first;
            if (first.Kind is not (TokenKind.Name or TokenKind.Num))
                return SyntaxError(first);
            names.Add(first.Value);
            return ListRest(Next(), names, out next);
        }

        private bool ListRest(Token token, List<string> names, out Token next)
        {
            while (token.Kind == TokenKind.Comma)
            {
                var name = Next();
                if (name.Kind is not (TokenKind.Name or TokenKind.Num))
                {
                    next = name;
                    return SyntaxError(name);
                }
                names.Add(name.Value);
                token = Next();
            }
            next = token;
            return true;
        }

        private bool Expect(TokenKind kind)
        {
            var token = Next();
            return token.Kind == kind || SyntaxError(token);
        }

        private bool ExpectEnd() => Expect(TokenKind.End);

        private bool SyntaxError(Token at) => Fail(at.Kind == TokenKind.End ? "syntax error at end of input" : $"syntax error at or near \"{at.Text}\"");

        private bool Fail(string message)
        {
            Error ??= message;   // syncrep_yyerror reports only the first error
            return false;
        }

        private Token Next()
        {
            while (_position < input.Length && input[_position] is ' ' or '\t' or '\n' or '\r' or '\f' or '\v')
                _position++;
            if (_position == input.Length)
                return new Token(TokenKind.End, "", "");
            char c = input[_position];
            int start = _position;
            if (IsIdentStart(c))
            {
                while (_position < input.Length && (IsIdentStart(input[_position]) || char.IsAsciiDigit(input[_position]) || input[_position] == '$'))
                    _position++;
                string word = input[start.._position];
                // flex: the keyword rules win only when the identifier is no longer than they are.
                var kind = word.Equals("any", StringComparison.OrdinalIgnoreCase) ? TokenKind.Any
                    : word.Equals("first", StringComparison.OrdinalIgnoreCase) ? TokenKind.First : TokenKind.Name;
                return new Token(kind, word, word);
            }
            if (char.IsAsciiDigit(c))
            {
                while (_position < input.Length && char.IsAsciiDigit(input[_position]))
                    _position++;
                string digits = input[start.._position];
                return new Token(TokenKind.Num, digits, digits);
            }
            _position++;
            switch (c)
            {
                case '"':
                    return Quoted();
                case '*':
                    return new Token(TokenKind.Name, "*", "*");
                case ',':
                    return new Token(TokenKind.Comma, ",", "");
                case '(':
                    return new Token(TokenKind.Open, "(", "");
                case ')':
                    return new Token(TokenKind.Close, ")", "");
                default:
                    return new Token(TokenKind.Junk, c.ToString(), "");
            }
        }

        // After the opening quote: "" is a quote; the closing quote ends the name (and is what an
        // error at this token shows, flex's last match).
        private Token Quoted()
        {
            var value = new StringBuilder();
            while (_position < input.Length)
            {
                char c = input[_position++];
                if (c != '"')
                {
                    value.Append(c);
                    continue;
                }
                if (_position < input.Length && input[_position] == '"')
                {
                    value.Append('"');
                    _position++;
                    continue;
                }
                return new Token(TokenKind.Name, "\"", value.ToString());
            }
            Fail("unterminated quoted identifier at end of input");
            return new Token(TokenKind.Junk, "", "");
        }

        private static bool IsIdentStart(char c) => char.IsAsciiLetter(c) || c == '_' || c >= '\u0080';
    }
}
