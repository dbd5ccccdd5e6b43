// ClientTlsTests: ReplicationClient's sslmode against a real PostgreSQL 15 with ssl = on and a
// self-signed certificate made here with openssl (CN=localhost, SAN DNS:localhost), where pg_hba.conf allows replication only over TLS: require connects encrypted,
// disable is refused by the server's rule, verify-full accepts the certificate for the right host
// and root and refuses it for another root certificate or another host name.
using PgWal.Replication.Client;
using PgWal.Tests.Infrastructure;

namespace PgWal.Tests.Replication.Client;

public sealed class ClientTlsTests
{
    [Fact]
    public async Task RealPostgres_WithSslOn_RequireAndVerifyFullConnect_DisableAndWrongRootOrHostAreRefused()
    {
        using var dir = new TempDirectory("cltls");
        string certificate = dir.Combine("server.crt");
        MakeCertificate(dir, "server", "localhost");
        MakeCertificate(dir, "other", "localhost");
        using var pg = ClientCluster.Start(dir, "pg", "ssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\n",
            "hostssl replication all 127.0.0.1/32 trust\nhostnossl replication all 127.0.0.1/32 reject", data =>
            {
                File.Copy(certificate, Path.Combine(data, "server.crt"));
                File.Copy(dir.Combine("server.key"), Path.Combine(data, "server.key"));
                Assert.Equal(0, PgTools.Run("chown", ["postgres", Path.Combine(data, "server.crt"), Path.Combine(data, "server.key")]).ExitCode);
                Assert.Equal(0, PgTools.Run("chmod", ["600", Path.Combine(data, "server.key")]).ExitCode);
            });

        await using (var client = await ReplicationClient.ConnectAsync(ClientCluster.Settings(pg, ssl: SslMode.Require)))
        {
            Assert.True(client.IsTls);
            Assert.True((await client.IdentifySystemAsync()).Timeline.IsValid);
        }
        await using (var preferred = await ReplicationClient.ConnectAsync(ClientCluster.Settings(pg, ssl: SslMode.Prefer)))
            Assert.True(preferred.IsTls);
        var plain = await Assert.ThrowsAsync<PgServerException>(() => ReplicationClient.ConnectAsync(ClientCluster.Settings(pg, ssl: SslMode.Disable)));
        Assert.Equal("28000", plain.SqlState);
        Assert.Contains("pg_hba.conf rejects replication connection", plain.MessageText);

        await using (var verified = await ReplicationClient.ConnectAsync(ClientCluster.Settings(pg, ssl: SslMode.VerifyFull) with { SslRootCert = certificate, Host = "localhost" }))
            Assert.True(verified.IsTls);
        await using (var caOnly = await ReplicationClient.ConnectAsync(ClientCluster.Settings(pg, ssl: SslMode.VerifyCa) with { SslRootCert = certificate }))
            Assert.True(caOnly.IsTls);   // verify-ca does not check the name (127.0.0.1 is not in the certificate)
        var otherRoot = await Assert.ThrowsAsync<IOException>(() => ReplicationClient.ConnectAsync(ClientCluster.Settings(pg, ssl: SslMode.VerifyCa) with { SslRootCert = dir.Combine("other.crt") }));
        Assert.Contains("SSL handshake", otherRoot.Message);
        // The right root, but the certificate does not name 127.0.0.1.
        var otherHost = await Assert.ThrowsAsync<IOException>(() => ReplicationClient.ConnectAsync(ClientCluster.Settings(pg, ssl: SslMode.VerifyFull) with { SslRootCert = certificate }));
        Assert.Contains("SSL handshake", otherHost.Message);
    }

    private static void MakeCertificate(TempDirectory dir, string name, string commonName)
    {
        var r = PgTools.Run("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", $"/CN={commonName}",
            "-addext", "subjectAltName=DNS:localhost", "-keyout", dir.Combine(name + ".key"), "-out", dir.Combine(name + ".crt")]);
        Assert.True(r.ExitCode == 0, r.Stderr);
    }
}
