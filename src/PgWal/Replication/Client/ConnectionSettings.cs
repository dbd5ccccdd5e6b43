// ConnectionSettings: where and how to connect, from a libpq "keyword=value" connection string
// (conninfo_parse in fe-connect.c: values unquoted up to white space, or single-quoted; a
// backslash escapes the next character in both) and libpq's environment defaults (PGHOST, PGPORT,
// PGUSER, PGPASSWORD, PGPASSFILE, PGAPPNAME, PGSSLMODE, PGSSLROOTCERT). A keyword given in the
// string wins over the environment; the password file is consulted only when no password was
// given (PasswordFile). Unknown keywords and bad values are errors that name the keyword.
using System.Globalization;
using System.Text;

namespace PgWal.Replication.Client;

/// <summary>libpq's sslmode.</summary>
public enum SslMode
{
    /// <summary>Never TLS.</summary>
    Disable,
    /// <summary>Plain first; TLS if the server refuses the plain connection.</summary>
    Allow,
    /// <summary>TLS if the server offers it (libpq's default).</summary>
    Prefer,
    /// <summary>TLS, without checking the certificate.</summary>
    Require,
    /// <summary>TLS with a certificate signed by a trusted CA (sslrootcert).</summary>
    VerifyCa,
    /// <summary>As VerifyCa, and the certificate must name the host.</summary>
    VerifyFull,
}

/// <summary>An invalid connection string or setting; the message names the keyword.</summary>
public sealed class ConnectionSettingsException(string message) : Exception(message);

/// <summary>Immutable connection settings for a replication (walsender) connection.</summary>
public sealed record ConnectionSettings
{
    /// <summary>Host name, IP address, or (starting with '/') a Unix socket directory.</summary>
    public string Host { get; init; } = "localhost";
    /// <summary>TCP port (also names the Unix socket file).</summary>
    public int Port { get; init; } = 5432;
    /// <summary>The role to connect as.</summary>
    public string User { get; init; } = Environment.UserName;
    /// <summary>The password, or null (then <see cref="PasswordFile"/> is looked up).</summary>
    public string? Password { get; init; }
    /// <summary>The password file (~/.pgpass by default).</summary>
    public string? PasswordFile { get; init; }
    /// <summary>Sent in the StartupMessage; shown in pg_stat_replication.</summary>
    public string ApplicationName { get; init; } = "pgwal";
    /// <summary>Whether and how to use TLS.</summary>
    public SslMode SslMode { get; init; } = SslMode.Prefer;
    /// <summary>CA certificates (PEM) trusted for verify-ca / verify-full; ~/.postgresql/root.crt by default.</summary>
    public string? SslRootCert { get; init; }
    /// <summary>The database name: "replication" for a physical walsender (used only for the password file).</summary>
    public string DatabaseName { get; init; } = "replication";
    /// <summary>
    /// Asked for a password when the server wants one and none is set or in the password file
    /// (libpq's prompt in the tools); null: fail with "no password supplied". Not part of the
    /// connection string.
    /// </summary>
    public Func<string?>? PasswordPrompt { get; init; }
    /// <summary>Seconds to wait for the TCP connection (0: the operating system's limit).</summary>
    public int ConnectTimeoutSeconds { get; init; }

    /// <summary>libpq's environment defaults, then <paramref name="connectionString"/> (null: none).</summary>
    /// <exception cref="ConnectionSettingsException">A keyword is unknown or a value invalid.</exception>
    public static ConnectionSettings Parse(string? connectionString, string defaultApplicationName = "pgwal")
        => Parse(connectionString, Environment.GetEnvironmentVariable, defaultApplicationName);

    /// <summary>As <see cref="Parse(string?, string)"/> with an explicit environment (tests).</summary>
    public static ConnectionSettings Parse(string? connectionString, Func<string, string?> environment, string defaultApplicationName = "pgwal")
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        void FromEnvironment(string keyword, string variable)
        {
            if (environment(variable) is { Length: > 0 } v)
                values[keyword] = v;
        }
        FromEnvironment("host", "PGHOST");
        FromEnvironment("port", "PGPORT");
        FromEnvironment("user", "PGUSER");
        FromEnvironment("password", "PGPASSWORD");
        FromEnvironment("passfile", "PGPASSFILE");
        FromEnvironment("application_name", "PGAPPNAME");
        FromEnvironment("sslmode", "PGSSLMODE");
        FromEnvironment("sslrootcert", "PGSSLROOTCERT");
        FromEnvironment("connect_timeout", "PGCONNECT_TIMEOUT");
        if (connectionString != null)
        {
            foreach (var (keyword, value) in ParseKeywordValues(connectionString))
                values[keyword] = value;
        }
        return FromValues(values, defaultApplicationName);
    }

    /// <summary>Settings with the given keywords overriding these (the tools' -h -p -U options).</summary>
    public ConnectionSettings With(string keyword, string? value)
    {
        if (value == null)
            return this;
        var values = ToValues();
        values[keyword] = value;
        return Apply(this, values);
    }

    private static ConnectionSettings FromValues(Dictionary<string, string> values, string defaultApplicationName)
    {
        var s = new ConnectionSettings { ApplicationName = defaultApplicationName };
        return Apply(s, values);
    }

    private static ConnectionSettings Apply(ConnectionSettings s, Dictionary<string, string> values)
    {
        foreach (var (keyword, value) in values)
        {
            s = keyword switch
            {
                "host" or "hostaddr" => s with { Host = CheckHost(value) },
                "port" => s with { Port = ParsePort(value) },
                "user" => s with { User = value },
                "password" => s with { Password = value },
                "passfile" => s with { PasswordFile = value },
                "application_name" => s with { ApplicationName = value },
                "fallback_application_name" => values.ContainsKey("application_name") ? s : s with { ApplicationName = value },
                "sslmode" => s with { SslMode = ParseSslMode(value) },
                "sslrootcert" => s with { SslRootCert = value },
                "dbname" => s with { DatabaseName = value },
                "connect_timeout" => s with { ConnectTimeoutSeconds = ParseTimeout(value) },
                // A physical walsender is what this client always asks for; accept what says so.
                "replication" when value is "true" or "on" or "yes" or "1" => s,
                "replication" => throw new ConnectionSettingsException($"invalid value for parameter \"replication\": \"{value}\" (only physical replication is supported)"),
                // What pg_basebackup -R writes into primary_conninfo: accepted where their value asks
                // for nothing this client lacks (it offers SCRAM without channel binding, no GSSAPI).
                "channel_binding" when value is "prefer" or "disable" => s,
                "gssencmode" when value is "prefer" or "disable" => s,
                "target_session_attrs" when value is "any" => s,
                "sslcompression" or "sslsni" or "ssl_min_protocol_version" or "ssl_max_protocol_version" or "krbsrvname" or "gsslib"
                    or "keepalives" or "keepalives_idle" or "keepalives_interval" or "keepalives_count" or "tcp_user_timeout" or "options" or "requirepeer" => s,
                "channel_binding" or "gssencmode" or "target_session_attrs" => throw new ConnectionSettingsException($"unsupported value for connection option \"{keyword}\": \"{value}\""),
                _ => throw new ConnectionSettingsException($"invalid connection option \"{keyword}\""),
            };
        }
        return s;
    }

    private Dictionary<string, string> ToValues()
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["host"] = Host,
            ["port"] = Port.ToString(CultureInfo.InvariantCulture),
            ["user"] = User,
            ["application_name"] = ApplicationName,
            ["sslmode"] = SslModeName(SslMode),
            ["dbname"] = DatabaseName,
            ["connect_timeout"] = ConnectTimeoutSeconds.ToString(CultureInfo.InvariantCulture),
        };
        if (Password != null)
            values["password"] = Password;
        if (PasswordFile != null)
            values["passfile"] = PasswordFile;
        if (SslRootCert != null)
            values["sslrootcert"] = SslRootCert;
        return values;
    }

    /// <summary>libpq's text for <paramref name="mode"/> ("verify-full" ...).</summary>
    public static string SslModeName(SslMode mode) => mode switch
    {
        SslMode.Disable => "disable",
        SslMode.Allow => "allow",
        SslMode.Prefer => "prefer",
        SslMode.Require => "require",
        SslMode.VerifyCa => "verify-ca",
        _ => "verify-full",
    };

    /// <summary>
    /// The password to send: <see cref="Password"/>, else the first matching line of the password
    /// file, else null.
    /// </summary>
    public string? ResolvePassword()
    {
        if (Password != null)
            return Password;
        string? file = PasswordFile;
        if (file == null && Environment.GetFolderPath(Environment.SpecialFolder.UserProfile) is { Length: > 0 } home)
            file = Path.Combine(home, ".pgpass");
        if (file == null)
            return null;
        // libpq matches a Unix socket connection against "localhost" in the file.
        string host = Host.StartsWith('/') ? "localhost" : Host;
        return PasswordFileLookup.Find(file, host, Port.ToString(CultureInfo.InvariantCulture), DatabaseName, User);
    }

    /// <summary>A libpq connection string that reproduces these settings (for primary_conninfo).</summary>
    public string ToConnectionString(bool includePassword)
    {
        var text = new StringBuilder();
        foreach (var (keyword, value) in ToValues())
        {
            if (keyword is "dbname" or "application_name" or "connect_timeout" || (keyword == "password" && !includePassword))
                continue;
            if (text.Length > 0)
                text.Append(' ');
            text.Append(keyword).Append('=').Append(Quote(value));
        }
        return text.ToString();
    }

    /// <summary>Quotes a value for a connection string (always in single quotes, ' and \ escaped).</summary>
    public static string Quote(string value) => "'" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("'", "\\'", StringComparison.Ordinal) + "'";

    /// <summary>The keyword/value pairs of a connection string, in order, as libpq's conninfo_parse reads them.</summary>
    /// <exception cref="ConnectionSettingsException">A missing '=' or an unterminated quote.</exception>
    public static List<KeyValuePair<string, string>> ParseKeywordValues(string text)
    {
        var result = new List<KeyValuePair<string, string>>();
        int i = 0;
        while (true)
        {
            while (i < text.Length && char.IsWhiteSpace(text[i]))
                i++;
            if (i >= text.Length)
                return result;
            int start = i;
            while (i < text.Length && text[i] != '=' && !char.IsWhiteSpace(text[i]))
                i++;
            string keyword = text[start..i];
            while (i < text.Length && char.IsWhiteSpace(text[i]))
                i++;
            if (i >= text.Length || text[i] != '=')
                throw new ConnectionSettingsException($"missing \"=\" after \"{keyword}\" in connection info string");
            i++;
            while (i < text.Length && char.IsWhiteSpace(text[i]))
                i++;
            var value = new StringBuilder();
            if (i < text.Length && text[i] == '\'')
            {
                i++;
                while (true)
                {
                    if (i >= text.Length)
                        throw new ConnectionSettingsException($"unterminated quoted string in connection info string (value of \"{keyword}\")");
                    char c = text[i++];
                    if (c == '\'')
                        break;
                    if (c == '\\' && i < text.Length)
                        c = text[i++];
                    value.Append(c);
                }
            }
            else
            {
                while (i < text.Length && !char.IsWhiteSpace(text[i]))
                {
                    char c = text[i++];
                    if (c == '\\' && i < text.Length)
                        c = text[i++];
                    value.Append(c);
                }
            }
            result.Add(new(keyword, value.ToString()));
        }
    }

    private static string CheckHost(string value)
    {
        if (value.Length == 0)
            throw new ConnectionSettingsException("invalid value for parameter \"host\": empty");
        if (value.Contains(','))
            throw new ConnectionSettingsException($"invalid value for parameter \"host\": \"{value}\" (a list of hosts is not supported)");
        return value;
    }

    private static int ParsePort(string value)
        => int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int port) && port is > 0 and < 65536
            ? port
            : throw new ConnectionSettingsException($"invalid integer value \"{value}\" for connection option \"port\"");

    private static int ParseTimeout(string value)
        => int.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int seconds)
            ? Math.Max(seconds, 0)
            : throw new ConnectionSettingsException($"invalid integer value \"{value}\" for connection option \"connect_timeout\"");

    private static SslMode ParseSslMode(string value) => value switch
    {
        "disable" => SslMode.Disable,
        "allow" => SslMode.Allow,
        "prefer" => SslMode.Prefer,
        "require" => SslMode.Require,
        "verify-ca" => SslMode.VerifyCa,
        "verify-full" => SslMode.VerifyFull,
        _ => throw new ConnectionSettingsException($"invalid sslmode value: \"{value}\""),
    };
}
