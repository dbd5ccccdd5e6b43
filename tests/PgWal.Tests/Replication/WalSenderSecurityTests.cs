// Who may connect to PgWal's walsender, checked with libpq's psql as the client: SCRAM with the
// right password, the wrong one refused, unknown users refused alike, addresses and users no rule
// allows refused with PostgreSQL's message, trust only where a rule says so, md5 secrets, SQL
// refused in a physical walsender; TLS with sslmode=require and verify-full, and a plain
// connection refused where a hostssl rule requires TLS.
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using PgWal.Replication.Auth;
using PgWal.Tests.Infrastructure;

namespace PgWal.Tests.Replication;

public sealed class WalSenderSecurityTests
{
    private static ToolResult Psql(WalSenderFixture f, string user, string? password, string command = "IDENTIFY_SYSTEM", string ssl = "sslmode=disable", string host = "host=127.0.0.1")
    {
        var environment = new Dictionary<string, string> { ["PGCONNECT_TIMEOUT"] = "10" };
        if (password != null)
            environment["PGPASSWORD"] = password;
        return PgTools.Run(PgTools.Require("psql"), ["-X", "-A", "-t", "-w", "-c", command, $"{host} port={f.Port} user={user} dbname=replication replication=true {ssl}"],
            timeout: TimeSpan.FromSeconds(30), environment: environment);
    }

    [Fact]
    public void PasswordsUsersAndAddressesAreCheckedAsPgHbaSays()
    {
        const string hba = "host replication trusted 127.0.0.1/32 trust\nhost replication old 127.0.0.1/32 md5\nhost replication repl,nobody 127.0.0.1/32 scram-sha-256\nhost replication far 10.0.0.0/8 trust\n";
        using var f = new WalSenderFixture(hba, o => o.WithPassword("trusted", "unused") with
        {
            Users = new Dictionary<string, string>(o.Users) { ["trusted"] = o.Users[WalSenderFixture.User], ["old"] = Md5Password.Secret("old", "md5pw"), ["far"] = o.Users[WalSenderFixture.User] },
        });
        string systemId = f.Instance.ControlFile.SystemIdentifier.ToString(System.Globalization.CultureInfo.InvariantCulture);

        var ok = Psql(f, WalSenderFixture.User, WalSenderFixture.Password);
        Assert.True(ok.ExitCode == 0, ok.Stderr);
        Assert.StartsWith(systemId + "|1|", ok.StdoutText);

        var wrong = Psql(f, WalSenderFixture.User, "not the password");
        Assert.NotEqual(0, wrong.ExitCode);
        Assert.Contains("password authentication failed for user \"repl\"", wrong.Stderr);

        var unknown = Psql(f, "nobody", "whatever");
        Assert.NotEqual(0, unknown.ExitCode);
        Assert.Contains("password authentication failed for user \"nobody\"", unknown.Stderr);

        var noRule = Psql(f, "stranger", "x");
        Assert.Contains("no pg_hba.conf entry for replication connection from host \"127.0.0.1\", user \"stranger\", no encryption", noRule.Stderr);
        var farAway = Psql(f, "far", null);
        Assert.Contains("no pg_hba.conf entry for replication connection from host \"127.0.0.1\", user \"far\"", farAway.Stderr);

        var trusted = Psql(f, "trusted", null);
        Assert.True(trusted.ExitCode == 0, trusted.Stderr);

        var md5 = Psql(f, "old", "md5pw");
        Assert.True(md5.ExitCode == 0, md5.Stderr);
        Assert.Contains("password authentication failed", Psql(f, "old", "nope").Stderr);

        var sql = Psql(f, WalSenderFixture.User, WalSenderFixture.Password, "SELECT 1");
        Assert.Contains("cannot execute SQL commands in WAL sender for physical replication", sql.Stderr);
        var lower = Psql(f, WalSenderFixture.User, WalSenderFixture.Password, "identify_system");
        Assert.Contains("cannot execute SQL commands in WAL sender for physical replication", lower.Stderr);
        var show = Psql(f, WalSenderFixture.User, WalSenderFixture.Password, "SHOW wal_segment_size");
        Assert.Equal("1MB", show.StdoutText.Trim());
        var unknownSetting = Psql(f, WalSenderFixture.User, WalSenderFixture.Password, "SHOW no_such_thing");
        Assert.Contains("unrecognized configuration parameter \"no_such_thing\"", unknownSetting.Stderr);
    }

    [Fact]
    public void TlsWorksWithRequireAndVerifyFull_AndHostsslRefusesPlainConnections()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName("localhost");
        san.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        using var selfSigned = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(7));
        var certificate = X509CertificateLoader.LoadPkcs12(selfSigned.Export(X509ContentType.Pkcs12), null);
        const string hba = "hostssl replication all 127.0.0.1/32 scram-sha-256\n";
        using var f = new WalSenderFixture(hba, o => o with { Certificate = certificate });
        string root = f.Combine("root.crt");
        File.WriteAllText(root, selfSigned.ExportCertificatePem());

        var required = Psql(f, WalSenderFixture.User, WalSenderFixture.Password, ssl: "sslmode=require");
        Assert.True(required.ExitCode == 0, required.Stderr);
        var verified = Psql(f, WalSenderFixture.User, WalSenderFixture.Password, ssl: $"sslmode=verify-full sslrootcert={root}", host: "host=localhost hostaddr=127.0.0.1");
        Assert.True(verified.ExitCode == 0, verified.Stderr);
        var wrongName = Psql(f, WalSenderFixture.User, WalSenderFixture.Password, ssl: $"sslmode=verify-full sslrootcert={root}", host: "host=other.example hostaddr=127.0.0.1");
        Assert.NotEqual(0, wrongName.ExitCode);
        var wrongPassword = Psql(f, WalSenderFixture.User, "nope", ssl: "sslmode=require");
        Assert.Contains("password authentication failed", wrongPassword.Stderr);

        var plain = Psql(f, WalSenderFixture.User, WalSenderFixture.Password, ssl: "sslmode=disable");
        Assert.NotEqual(0, plain.ExitCode);
        Assert.Contains("no pg_hba.conf entry for replication connection from host \"127.0.0.1\", user \"repl\", no encryption", plain.Stderr);

        // pg_receivewal over TLS too.
        string target = f.Combine("recv");
        Directory.CreateDirectory(target);
        var created = PgTools.Run(PgTools.Require("pg_receivewal"), ["--create-slot", "-S", "tls1", "-d", $"host=127.0.0.1 port={f.Port} user={WalSenderFixture.User} sslmode=require"],
            timeout: TimeSpan.FromSeconds(30), environment: f.Environment);
        Assert.True(created.ExitCode == 0, created.Stderr);
    }
}
