// Connection start-up of a walsender (ProcessStartupPacket, ClientAuthentication, InitPostgres):
// SSLRequest (TLS when a certificate is configured, else 'N'), GSSENCRequest ('N'), CancelRequest
// (passed to the server, no reply), then the StartupMessage. Only physical replication
// connections are served. The first pg_hba rule matching user, address and TLS decides how to
// authenticate: trust, SCRAM-SHA-256 or md5 (SCRAM when the stored secret is a SCRAM verifier, as
// PostgreSQL does), or reject. Unknown users fail exactly as a wrong password does. Then
// max_wal_senders, AuthenticationOk, the ParameterStatus messages the tools check,
// BackendKeyData and ReadyForQuery.
using System.Buffers;
using System.Net.Security;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using PgWal.Replication.Auth;
using PgWal.Replication.Protocol;

namespace PgWal.Replication.Server;

internal sealed partial class WalSenderSession
{
    private static readonly TimeSpan AuthenticationTimeout = TimeSpan.FromSeconds(60);   // authentication_timeout

    // False when the connection ends without a session (a cancel request, a client that left).
    private async Task<bool> StartupAsync()
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_lifetime.Token);
        timeout.CancelAfter(AuthenticationTimeout);
        StartupPacket? packet;
        bool negotiated = false;
        while (true)
        {
            try
            {
                packet = await _connection.ReadStartupAsync(timeout.Token).ConfigureAwait(false);
            }
            catch (ProtocolException) when (_connection.PeerClosed)
            {
                _logger.LogDebug("incomplete startup packet from {Remote}", Remote);   // closed silently, as PostgreSQL does
                return false;
            }
            if (packet == null)
                return false;
            if (packet.Kind == StartupKind.CancelRequest)
            {
                _server.Cancel(packet.ProcessId, packet.SecretKey);
                return false;
            }
            if (packet.Kind == StartupKind.Startup)
                break;
            if (negotiated)
                throw new ProtocolException("unsupported frontend protocol: a second SSL or GSS request");
            negotiated = true;
            var certificate = _server.Options.Certificate;
            bool tls = packet.Kind == StartupKind.SslRequest && certificate != null;
            // A bare byte, no framing: straight to the stream (the send pipe is empty here).
            await _connection.Stream.WriteAsync(new[] { tls ? (byte)'S' : (byte)'N' }, timeout.Token).ConfigureAwait(false);
            if (tls)
            {
                await _connection.UpgradeAsync(async stream =>
                {
                    var ssl = new SslStream(stream, leaveInnerStreamOpen: false);
                    await ssl.AuthenticateAsServerAsync(new SslServerAuthenticationOptions { ServerCertificate = certificate }, timeout.Token).ConfigureAwait(false);
                    return ssl;
                }).ConfigureAwait(false);
                Tls = true;
            }
        }
        await AuthenticateAsync(packet, timeout.Token).ConfigureAwait(false);
        return true;
    }

    private async Task AuthenticateAsync(StartupPacket packet, CancellationToken cancellation)
    {
        User = packet["user"] is { Length: > 0 } user ? user : throw Fatal("28000", "no PostgreSQL user name specified in startup packet");
        ApplicationName = packet["application_name"] ?? "";
        string replication = packet["replication"] ?? "false";
        if (replication == "database")
            throw Fatal("0A000", "PgWal serves physical replication only: logical replication (replication=database) is not supported");
        if (!ReplicationCommandParser.TryBoolean(replication, out bool physical))
            throw Fatal("22023", $"invalid value for parameter \"replication\": \"{replication}\"");
        if (!physical)
            throw Fatal("0A000", "PgWal serves replication connections only: connect with replication=true (as pg_receivewal and pg_basebackup do)");
        string from = $"host \"{Remote.Address}\", user \"{User}\", {(Tls ? "SSL encryption" : "no encryption")}";
        var rule = _server.Options.Hba.Match(User, Remote.Address, Tls)
            ?? throw Fatal("28000", $"no pg_hba.conf entry for replication connection from {from}");
        _server.Options.Users.TryGetValue(User, out string? secret);
        switch (rule.Method)
        {
            case HbaMethod.Reject:
                throw Fatal("28000", $"pg_hba.conf rejects replication connection for {from}");
            case HbaMethod.Trust:
                break;
            case HbaMethod.Md5 when secret != null && secret.StartsWith("md5", StringComparison.Ordinal):
                await Md5Async(secret, cancellation).ConfigureAwait(false);
                break;
            default:
                await ScramAsync(secret, cancellation).ConfigureAwait(false);
                break;
        }
        if (rule.Method == HbaMethod.Trust && !_server.Options.Users.ContainsKey(User) && _server.Options.Users.Count > 0)
            throw Fatal("28000", $"role \"{User}\" does not exist");
        if (!_server.TryCount(this))
            throw Fatal("53300", $"number of requested standby connections exceeds max_wal_senders (currently {_server.Options.MaxWalSenders})");
        Counted = true;
        var w = _connection.Writer;
        w.AuthenticationOk();
        foreach (var (name, value) in new (string, string)[]
        {
            ("application_name", ApplicationName), ("client_encoding", packet["client_encoding"] ?? "SQL_ASCII"), ("DateStyle", "ISO, MDY"),
            ("default_transaction_read_only", "off"), ("in_hot_standby", "off"), ("integer_datetimes", "on"), ("IntervalStyle", "postgres"),
            ("is_superuser", "on"), ("server_encoding", "SQL_ASCII"), ("server_version", _server.Options.ServerVersion),
            ("session_authorization", User), ("standard_conforming_strings", "on"), ("TimeZone", "Etc/UTC"),
        })
            w.ParameterStatus(name, value);
        w.BackendKeyData(Pid, SecretKey);
        w.ReadyForQuery();
        State = "idle";
        await FlushAsync().ConfigureAwait(false);
        _logger.LogInformation("replication connection authorized: user={User} application_name={Application} from {Remote}{Tls}", User, ApplicationName, Remote, Tls ? " (TLS)" : "");
    }

    private ReplicationError Fatal(string sqlState, string message) => new(sqlState, message, fatal: true);

    private ReplicationError PasswordFailed() => Fatal("28P01", $"password authentication failed for user \"{User}\"");

    // A user without a SCRAM secret still goes through the exchange (with a made-up verifier, as
    // PostgreSQL's mock authentication) so that a client cannot tell unknown users from wrong passwords.
    private async Task ScramAsync(string? secret, CancellationToken cancellation)
    {
        var verifier = secret == null ? null : ScramVerifier.TryParse(secret);
        var exchange = new ScramServerExchange(verifier ?? ScramVerifier.FromPassword(Convert.ToBase64String(RandomNumberGenerator.GetBytes(16)), 4096));
        _connection.Writer.AuthenticationSasl(ScramServerExchange.Mechanism);
        await FlushAsync().ConfigureAwait(false);
        var first = await ReadPasswordMessageAsync(cancellation).ConfigureAwait(false);
        var reader = new PgBodyReader(first, "SASLInitialResponse");
        string mechanism = reader.ReadCString();
        if (mechanism != ScramServerExchange.Mechanism)
            throw Fatal("08P01", $"client selected an invalid SASL authentication mechanism: \"{mechanism}\"");
        int length = reader.ReadInt32();
        if (length < 0 || length != reader.Remaining)
            throw new ProtocolException("invalid SASLInitialResponse: the length of the initial response does not match the message");
        string clientFirst = Encoding.UTF8.GetString(reader.ReadBytes(length));
        string serverFirst = ExchangeStep(() => exchange.ServerFirst(clientFirst));
        _connection.Writer.AuthenticationSaslContinue(Encoding.UTF8.GetBytes(serverFirst));
        await FlushAsync().ConfigureAwait(false);
        var final = await ReadPasswordMessageAsync(cancellation).ConfigureAwait(false);
        string? serverFinal = ExchangeStep(() => exchange.Verify(Encoding.UTF8.GetString(final)));
        if (serverFinal == null || verifier == null)
        {
            _logger.LogWarning("password authentication failed for user \"{User}\" from {Remote}{Why}", User, Remote, verifier == null ? (secret == null ? ": role does not exist" : ": no SCRAM secret stored") : "");
            throw PasswordFailed();
        }
        _connection.Writer.AuthenticationSaslFinal(Encoding.UTF8.GetBytes(serverFinal));
    }

    private static T ExchangeStep<T>(Func<T> step)
    {
        try
        {
            return step();
        }
        catch (ProtocolException e)
        {
            throw new ReplicationError(e.SqlState, e.Message, fatal: true);
        }
    }

    private async Task Md5Async(string secret, CancellationToken cancellation)
    {
        var salt = RandomNumberGenerator.GetBytes(4);
        _connection.Writer.Begin((byte)'R').Int32(5).Bytes(salt).End();
        await FlushAsync().ConfigureAwait(false);
        var body = await ReadPasswordMessageAsync(cancellation).ConfigureAwait(false);
        var reader = new PgBodyReader(body, "PasswordMessage");
        string response = reader.ReadCString();
        reader.EnsureEnd();
        if (!Md5Password.Verify(secret, salt, response))
            throw PasswordFailed();
    }

    // A 'p' message during authentication (copied: the exchange keeps parts of it).
    private async Task<byte[]> ReadPasswordMessageAsync(CancellationToken cancellation)
    {
        var message = await _connection.ReadMessageAsync(MaxCopyMessageLength, cancellation).ConfigureAwait(false);
        if (message is not { } m)
            throw new IOException("the client closed the connection during authentication");
        if (m.Type != (byte)'p')
            throw new ProtocolException($"expected password response, got message type {m.Type}");
        return m.Body.ToArray();
    }
}
