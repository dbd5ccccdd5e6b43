// ScramTests: the server's SCRAM-SHA-256 (issue 15's authentication). RFC 7677's test vector
// end to end; a wrong password fails the proof; malformed or out-of-order messages, authzid,
// extensions, a nonce or channel-binding mismatch are protocol errors; and the verifier PgWal makes
// from a password equals, key for key, the one a real PostgreSQL 15 stores for that password and
// salt (pg_authid.rolpassword), so verifiers can be copied between the two.
using System.Security.Cryptography;
using System.Text;
using PgWal.Replication.Auth;
using PgWal.Replication.Protocol;
using PgWal.Tests.Infrastructure;

namespace PgWal.Tests.Replication;

public sealed class ScramTests
{
    private const string ClientNonce = "rOprNGfwEbeRWgbNEkqO";
    private const string ServerNonce = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
    private static readonly byte[] Salt = Convert.FromBase64String("W22ZaJ0SNY7soEsUEjb6gQ==");

    [Fact]
    public void Rfc7677TestVector_RunsEndToEnd()
    {
        var verifier = ScramVerifier.FromPassword("pencil", 4096, Salt);
        var exchange = new ScramServerExchange(verifier, ServerNonce);
        Assert.Equal($"r={ClientNonce}{ServerNonce},s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096", exchange.ServerFirst($"n,,n=user,r={ClientNonce}"));
        string final = exchange.Verify($"c=biws,r={ClientNonce}{ServerNonce},p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=")!;
        Assert.Equal("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=", final);
        Assert.Equal(verifier.ToString(), ScramVerifier.TryParse(verifier.ToString())!.ToString());
    }

    [Fact]
    public void WrongPassword_FailsTheProof_AndMalformedMessagesAreProtocolErrors()
    {
        var verifier = ScramVerifier.FromPassword("pencil", 4096, Salt);
        var wrong = new ScramServerExchange(verifier, ServerNonce);
        string serverFirst = wrong.ServerFirst($"n,,n=,r={ClientNonce}");
        Assert.Null(wrong.Verify(ClientFinal("crayon", serverFirst, "biws")));
        var right = new ScramServerExchange(verifier, ServerNonce);
        Assert.NotNull(right.Verify(ClientFinal("pencil", right.ServerFirst($"y,,n=*,r={ClientNonce}"), "eSws")));   // Npgsql's y,, and n=*

        foreach (var (first, expected) in new[]
        {
            ("n,a=admin,n=,r=abc", "authorization identity"),
            ("p=tls-server-end-point,,n=,r=abc", "channel binding"),
            ("x,,n=,r=abc", "channel-binding flag"),
            ("n,,n=,r=abc,m=ext", "extension"),
            ("n,,r=abc", "expected n=user,r=nonce"),
            ("n,,n=,r=a,b", "extension"),
        })
        {
            var e = Assert.Throws<ProtocolException>(() => new ScramServerExchange(verifier).ServerFirst(first));
            Assert.Contains(expected, e.Message);
        }
        var exchange = new ScramServerExchange(verifier, ServerNonce);
        Assert.Throws<ProtocolException>(() => exchange.Verify("c=biws,r=x,p=AAAA"));   // before client-first
        exchange.ServerFirst($"n,,n=,r={ClientNonce}");
        Assert.Contains("nonce mismatch", Assert.Throws<ProtocolException>(() => exchange.Verify($"c=biws,r={ClientNonce}other,p=" + Convert.ToBase64String(new byte[32]))).Message);
        Assert.Contains("channel binding", Assert.Throws<ProtocolException>(() => exchange.Verify($"c=eSws,r={ClientNonce}{ServerNonce},p=" + Convert.ToBase64String(new byte[32]))).Message);
        Assert.Contains("base64", Assert.Throws<ProtocolException>(() => exchange.Verify($"c=biws,r={ClientNonce}{ServerNonce},p=***")).Message);
        Assert.Null(ScramVerifier.TryParse("md5abc"));
        Assert.Null(ScramVerifier.TryParse("SCRAM-SHA-256$x:y$z:w"));
    }

    [Fact]
    public void Verifiers_EqualWhatRealPostgresStores_ScramForTheSameSalt_AndMd5()
    {
        using var dir = new TempDirectory("scram");
        ScratchCluster.MakeShared(dir.Path);
        using var pg = ScratchCluster.Init(dir.Combine("pg"), "password_encryption = 'scram-sha-256'\n");
        pg.Sql("CREATE ROLE streamer LOGIN REPLICATION PASSWORD 'correct horse battery staple'");
        string stored = pg.Sql("SELECT rolpassword FROM pg_authid WHERE rolname = 'streamer'");
        var theirs = ScramVerifier.TryParse(stored);
        Assert.NotNull(theirs);
        var ours = ScramVerifier.FromPassword("correct horse battery staple", theirs.Iterations, theirs.Salt);
        Assert.Equal(stored, ours.ToString());
        // And the md5 secret, for old clients.
        pg.Sql("SET password_encryption = 'md5'; CREATE ROLE oldclient LOGIN REPLICATION PASSWORD 'tr0ub4dor'");
        Assert.Equal(pg.Sql("SELECT rolpassword FROM pg_authid WHERE rolname = 'oldclient'"), Md5Password.Secret("oldclient", "tr0ub4dor"));
    }

    // What a client computes for client-final-message.
    private static string ClientFinal(string password, string serverFirst, string binding)
    {
        var fields = serverFirst.Split(',');
        string nonce = fields[0][2..];
        var salt = Convert.FromBase64String(fields[1][2..]);
        int iterations = int.Parse(fields[2][2..]);
        byte[] salted = ScramVerifier.SaltedPassword(password, salt, iterations);
        byte[] clientKey = HMACSHA256.HashData(salted, "Client Key"u8);
        string withoutProof = $"c={binding},r={nonce}";
        string clientFirstBare = binding == "eSws" ? $"n=*,r={ClientNonce}" : $"n=,r={ClientNonce}";
        byte[] signature = HMACSHA256.HashData(SHA256.HashData(clientKey), Encoding.UTF8.GetBytes($"{clientFirstBare},{serverFirst},{withoutProof}"));
        for (int i = 0; i < 32; i++)
            clientKey[i] ^= signature[i];
        return $"{withoutProof},p={Convert.ToBase64String(clientKey)}";
    }
}
