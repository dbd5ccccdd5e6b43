// TlsNegotiation: SSLRequest and the TLS handshake, before any protocol message, per libpq's
// sslmode: 'N' from the server is fine for prefer/allow (continue in clear on the same socket) and
// an error for require and stricter; after 'S' the handshake runs with SslStream. require accepts
// any certificate (as libpq does when no root certificate is configured); verify-ca checks the
// chain against sslrootcert (default ~/.postgresql/root.crt); verify-full also the host name.
// Exactly one byte is read for the answer, so nothing the server sent in clear can be taken for
// encrypted data (CVE-2021-23222).
using System.Buffers.Binary;
using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using PgWal.Replication.Protocol;

namespace PgWal.Replication.Client;

internal static class TlsNegotiation
{
    /// <summary>The TLS stream, or null when the server declined and the mode allows clear text.</summary>
    public static async Task<Stream?> NegotiateAsync(Stream stream, ConnectionSettings settings, CancellationToken cancellation)
    {
        var request = new byte[8];
        BinaryPrimitives.WriteInt32BigEndian(request, 8);
        BinaryPrimitives.WriteInt32BigEndian(request.AsSpan(4), PgMessageReader.SslRequestCode);
        await stream.WriteAsync(request, cancellation).ConfigureAwait(false);
        await stream.FlushAsync(cancellation).ConfigureAwait(false);
        var answer = new byte[1];
        if (await stream.ReadAsync(answer, cancellation).ConfigureAwait(false) == 0)
            throw new ProtocolException("server closed the connection unexpectedly during the SSL request");
        switch (answer[0])
        {
            case (byte)'N':
                if (settings.SslMode is SslMode.Prefer or SslMode.Allow)
                    return null;
                throw new ProtocolException("server does not support SSL, but SSL was required");
            case (byte)'S':
                break;
            case (byte)'E':
                throw new ProtocolException("server sent an error response during SSL exchange");
            default:
                throw new ProtocolException($"received invalid response to SSL negotiation: {ReplicationClient.Show(answer[0])}");
        }
        X509Certificate2Collection? roots = settings.SslMode is SslMode.VerifyCa or SslMode.VerifyFull ? LoadRoots(settings) : null;
        var tls = new SslStream(stream, leaveInnerStreamOpen: false);
        var options = new SslClientAuthenticationOptions
        {
            // The host for SNI (SslStream sends none for an IP address, as libpq's sslsni) and for verify-full's name check.
            TargetHost = settings.Host,
            RemoteCertificateValidationCallback = (_, certificate, _, errors) => Accept(settings.SslMode, roots, certificate, errors),
        };
        try
        {
            await tls.AuthenticateAsClientAsync(options, cancellation).ConfigureAwait(false);
        }
        catch (AuthenticationException e)
        {
            await tls.DisposeAsync().ConfigureAwait(false);
            throw new IOException($"SSL handshake with \"{settings.Host}\" failed ({ConnectionSettings.SslModeName(settings.SslMode)}): {e.Message}", e);
        }
        return tls;
    }

    private static X509Certificate2Collection LoadRoots(ConnectionSettings settings)
    {
        string? file = settings.SslRootCert;
        if (file == null && Environment.GetFolderPath(Environment.SpecialFolder.UserProfile) is { Length: > 0 } home)
            file = Path.Combine(home, ".postgresql", "root.crt");
        if (file == null || !File.Exists(file))
            throw new ConnectionSettingsException(
                $"root certificate file \"{file}\" does not exist; either provide the file (sslrootcert) or change sslmode to disable server certificate verification");
        var roots = new X509Certificate2Collection();
        roots.ImportFromPemFile(file);
        return roots;
    }

    private static bool Accept(SslMode mode, X509Certificate2Collection? roots, X509Certificate? certificate, SslPolicyErrors errors)
    {
        if (mode is not (SslMode.VerifyCa or SslMode.VerifyFull))
            return true;
        if (certificate == null || roots == null)
            return false;
        if (mode == SslMode.VerifyFull && (errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0)
            return false;
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(roots);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        using var server = new X509Certificate2(certificate);
        return chain.Build(server);
    }
}
