// ReplicationClient: one physical replication connection to a walsender (a real PostgreSQL 15 or
// PgWal's), as libpq opens it for pg_receivewal: TCP (IPv4/IPv6, names resolved) or a Unix socket,
// SSLRequest per sslmode, StartupMessage (user, database=replication, replication=true,
// application_name), authentication (trust, cleartext, md5, SCRAM-SHA-256), then the
// ParameterStatus messages (server_version 15.x to 18.x, integer_datetimes on) and BackendKeyData
// (kept for Cancel). Commands are in ReplicationClient.Commands.cs, streaming in
// ReplicationClient.Streaming.cs, BASE_BACKUP in ReplicationClient.BaseBackup.cs.
//
// Reads happen on one task at a time; writes go through the connection's WriteLock because the
// streaming loop and its status reporter both write.
using System.Net.Sockets;
using PgWal.Replication.Auth;
using PgWal.Replication.Protocol;

namespace PgWal.Replication.Client;

/// <summary>A client connection to a walsender.</summary>
public sealed partial class ReplicationClient : IAsyncDisposable
{
    // Limits on what the server may send: anything longer is a protocol violation, not an allocation.
    internal const int MaxControlMessage = 8 * 1024 * 1024;   // result rows (history files), errors
    internal const int MaxCopyMessage = 1024 * 1024;          // XLogData is at most 128 kB + header

    private readonly PgConnection _connection;
    private readonly Dictionary<string, string> _parameters = new(StringComparer.Ordinal);

    private ReplicationClient(PgConnection connection, ConnectionSettings settings, bool tls)
    {
        _connection = connection;
        Settings = settings;
        IsTls = tls;
    }

    /// <summary>The settings this connection was made with.</summary>
    public ConnectionSettings Settings { get; }

    /// <summary>Whether the connection is encrypted.</summary>
    public bool IsTls { get; }

    /// <summary>The walsender's process id (BackendKeyData).</summary>
    public int ProcessId { get; private set; }

    private int _secretKey;

    /// <summary>The server's ParameterStatus values (server_version, integer_datetimes ...).</summary>
    public IReadOnlyDictionary<string, string> Parameters => _parameters;

    /// <summary>The server's version text (ParameterStatus server_version).</summary>
    public string ServerVersion => _parameters.GetValueOrDefault("server_version", "");

    /// <summary>The server's major version (15 for "15.18 (Debian ...)").</summary>
    public int ServerMajor => ParseMajor(ServerVersion);

    /// <summary>
    /// The server versions a connection is made to. Everything this client sends and reads
    /// (startup, SCRAM, IDENTIFY_SYSTEM, SHOW, READ_REPLICATION_SLOT, slots, TIMELINE_HISTORY,
    /// START_REPLICATION and its CopyBoth messages, BASE_BACKUP) is the same from 15 to 18; 18's
    /// protocol 3.2 is only spoken when a client asks for it, and this one asks for 3.0. What the
    /// WAL is used for may narrow this (<see cref="WalReceiverOptions.ServerMajors"/>).
    /// </summary>
    public static IReadOnlyList<int> SupportedServerMajors { get; } = [15, 16, 17, 18];

    /// <summary>Connects and authenticates.</summary>
    /// <exception cref="PgServerException">The server refused the connection (authentication, hba, role).</exception>
    /// <exception cref="ProtocolException">The server broke the protocol or is not a PostgreSQL 15 to 18 walsender.</exception>
    /// <exception cref="IOException">The network failed.</exception>
    public static async Task<ReplicationClient> ConnectAsync(ConnectionSettings settings, CancellationToken cancellation = default)
    {
        if (settings.SslMode == SslMode.Allow)
        {
            // libpq's allow: plain first, TLS only when the plain attempt is refused.
            try
            {
                return await ConnectOnceAsync(settings, tls: false, cancellation).ConfigureAwait(false);
            }
            catch (PgServerException e) when (e.SqlState == "28000")
            {
                return await ConnectOnceAsync(settings, tls: true, cancellation).ConfigureAwait(false);
            }
        }
        return await ConnectOnceAsync(settings, settings.SslMode != SslMode.Disable, cancellation).ConfigureAwait(false);
    }

    /// <summary>
    /// Runs the startup and authentication over an already connected <paramref name="stream"/>
    /// (owned: disposed with the client). For tests and for transports the client does not open.
    /// </summary>
    public static async Task<ReplicationClient> ConnectOverAsync(Stream stream, ConnectionSettings settings, CancellationToken cancellation = default)
    {
        var client = new ReplicationClient(new PgConnection(stream), settings, tls: false);
        try
        {
            await client.StartupAsync(cancellation).ConfigureAwait(false);
            return client;
        }
        catch
        {
            await client._connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private static async Task<ReplicationClient> ConnectOnceAsync(ConnectionSettings settings, bool tls, CancellationToken cancellation)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        if (settings.ConnectTimeoutSeconds > 0)
            timeout.CancelAfter(TimeSpan.FromSeconds(Math.Max(2, settings.ConnectTimeoutSeconds)));
        Stream stream = await OpenSocketAsync(settings, timeout.Token).ConfigureAwait(false);
        bool encrypted = false;
        try
        {
            if (tls && !settings.Host.StartsWith('/'))
            {
                var upgraded = await TlsNegotiation.NegotiateAsync(stream, settings, timeout.Token).ConfigureAwait(false);
                encrypted = upgraded != null;
                stream = upgraded ?? stream;
            }
        }
        catch
        {
            await stream.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        var client = new ReplicationClient(new PgConnection(stream), settings, encrypted);
        try
        {
            await client.StartupAsync(timeout.Token).ConfigureAwait(false);
            return client;
        }
        catch
        {
            await client._connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private static async Task<Stream> OpenSocketAsync(ConnectionSettings settings, CancellationToken cancellation)
    {
        if (settings.Host.StartsWith('/'))
        {
            var unix = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            try
            {
                await unix.ConnectAsync(new UnixDomainSocketEndPoint(Path.Combine(settings.Host, $".s.PGSQL.{settings.Port}")), cancellation).ConfigureAwait(false);
            }
            catch (SocketException e)
            {
                unix.Dispose();
                throw new IOException($"connection to server on socket \"{settings.Host}/.s.PGSQL.{settings.Port}\" failed: {e.Message}", e);
            }
            return new NetworkStream(unix, ownsSocket: true);
        }
        // A dual-mode socket reaches IPv4 and IPv6 addresses; ConnectAsync(host) tries each address.
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(settings.Host, settings.Port, cancellation).ConfigureAwait(false);
        }
        catch (SocketException e)
        {
            socket.Dispose();
            throw new IOException($"connection to server at \"{settings.Host}\", port {settings.Port} failed: {e.Message}", e);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        return new NetworkStream(socket, ownsSocket: true);
    }

    private async Task StartupAsync(CancellationToken cancellation)
    {
        _connection.Writer.Startup(
            new("user", Settings.User), new("database", "replication"), new("replication", "true"), new("application_name", Settings.ApplicationName));
        await _connection.FlushAsync(cancellation).ConfigureAwait(false);
        await AuthenticateAsync(cancellation).ConfigureAwait(false);
        while (true)
        {
            var message = await ReadAsync(MaxControlMessage, cancellation).ConfigureAwait(false);
            switch (message.Type)
            {
                case (byte)'K':
                {
                    var body = new PgBodyReader(Span(message), "BackendKeyData");
                    ProcessId = body.ReadInt32();
                    _secretKey = body.ReadInt32();
                    body.EnsureEnd();
                    break;
                }
                case (byte)'Z':
                    CheckServer();
                    return;
                default:
                    HandleAsynchronous(message, "the startup");
                    break;
            }
        }
    }

    // What libpq tools insist on before talking replication with a server.
    private void CheckServer()
    {
        string version = ServerVersion;
        int major = ParseMajor(version);
        if (!SupportedServerMajors.Contains(major))
            throw new ProtocolException(version.Length == 0
                ? "the server did not report server_version"
                : $"incompatible server version {version}: PgWal's replication client supports PostgreSQL 15, 16, 17 and 18 servers", "0A000");
        if (!_parameters.TryGetValue("integer_datetimes", out var integer))
            throw new ProtocolException("could not determine server setting for integer_datetimes");
        if (integer != "on")
            throw new ProtocolException("integer_datetimes compile flag does not match server");
    }

    /// <summary>The major version in a server_version text ("15.4 (Debian ...)" → 15), 0 when there is none.</summary>
    public static int ParseMajor(string version)
    {
        int i = 0, major = 0;
        while (i < version.Length && char.IsAsciiDigit(version[i]) && major < 100_000)
            major = major * 10 + (version[i++] - '0');
        return i == 0 ? 0 : major;
    }

    private async Task AuthenticateAsync(CancellationToken cancellation)
    {
        ScramClientExchange? scram = null;
        while (true)
        {
            var message = await ReadAsync(MaxControlMessage, cancellation).ConfigureAwait(false);
            if (message.Type != (byte)'R')
            {
                HandleAsynchronous(message, "authentication");
                continue;
            }
            byte[] bodyBytes = System.Buffers.BuffersExtensions.ToArray(message.Body);
            var body = new PgBodyReader(bodyBytes, "Authentication");
            int code = body.ReadInt32();
            switch (code)
            {
                case 0:
                    body.EnsureEnd();
                    return;
                case 3:
                    body.EnsureEnd();
                    _connection.Writer.Begin((byte)'p').CString(RequirePassword()).End();
                    break;
                case 5:
                {
                    var salt = body.ReadBytes(4);
                    body.EnsureEnd();
                    string response = Md5Password.ExpectedResponse(Md5Password.Secret(Settings.User, RequirePassword()), salt);
                    _connection.Writer.Begin((byte)'p').CString(response).End();
                    break;
                }
                case 10:
                {
                    var mechanisms = new List<string>();
                    while (true)
                    {
                        string name = body.ReadCString();
                        if (name.Length == 0)
                            break;
                        mechanisms.Add(name);
                    }
                    body.EnsureEnd();
                    if (!mechanisms.Contains(ScramServerExchange.Mechanism))
                        throw new ProtocolException($"none of the server's SASL authentication mechanisms are supported ({string.Join(", ", mechanisms)})");
                    scram = new ScramClientExchange(RequirePassword());
                    _connection.Writer.SaslInitialResponse(ScramServerExchange.Mechanism, System.Text.Encoding.UTF8.GetBytes(scram.ClientFirst));
                    break;
                }
                case 11:
                {
                    if (scram == null)
                        throw new ProtocolException("AuthenticationSASLContinue without AuthenticationSASL");
                    string serverFirst = System.Text.Encoding.UTF8.GetString(body.ReadRest());
                    _connection.Writer.SaslResponse(System.Text.Encoding.UTF8.GetBytes(scram.ClientFinal(serverFirst)));
                    break;
                }
                case 12:
                    if (scram == null)
                        throw new ProtocolException("AuthenticationSASLFinal without AuthenticationSASL");
                    scram.VerifyServerFinal(System.Text.Encoding.UTF8.GetString(body.ReadRest()));
                    scram = null;   // AuthenticationOk must follow; a second final is a violation
                    continue;
                default:
                    throw new ProtocolException($"authentication method {code} not supported");
            }
            await _connection.FlushAsync(cancellation).ConfigureAwait(false);
        }
    }

    private string RequirePassword()
        => Settings.ResolvePassword() ?? Settings.PasswordPrompt?.Invoke() ?? throw new PgServerException("FATAL", "28000", "fe_sendauth: no password supplied");

    /// <summary>
    /// Asks the server to cancel what this connection is doing (a CancelRequest on a new
    /// connection, as libpq's PQcancel). The server answers on this connection (ERROR 57014).
    /// </summary>
    public async Task CancelAsync(CancellationToken cancellation = default)
    {
        var settings = Settings with { SslMode = SslMode.Disable };
        await using var stream = await OpenSocketAsync(settings, cancellation).ConfigureAwait(false);
        var request = new byte[16];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(request, 16);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(request.AsSpan(4), PgMessageReader.CancelRequestCode);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(request.AsSpan(8), ProcessId);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(request.AsSpan(12), _secretKey);
        await stream.WriteAsync(request, cancellation).ConfigureAwait(false);
        await stream.FlushAsync(cancellation).ConfigureAwait(false);
        // The server closes the socket when it has read the request; wait for that, briefly.
        var one = new byte[1];
        using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        wait.CancelAfter(TimeSpan.FromSeconds(5));
        try
        {
            _ = await stream.ReadAsync(one, wait.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException)
        {
            // the request was sent; whether the server closed quickly does not matter
        }
    }

    /// <summary>Sends Terminate and closes the connection.</summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            await _connection.WriteLock.WaitAsync().ConfigureAwait(false);
            try
            {
                _connection.Writer.Terminate();
                await _connection.FlushAsync().ConfigureAwait(false);
            }
            finally
            {
                _connection.WriteLock.Release();
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException or SocketException)
        {
            // the server is gone already
        }
        await _connection.DisposeAsync().ConfigureAwait(false);
    }
}
