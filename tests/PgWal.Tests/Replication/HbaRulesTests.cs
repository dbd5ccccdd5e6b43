// HbaRulesTests: pg_hba.conf rules for walsender connections — the first matching line decides,
// `replication` must be named (`all` does not cover a physical walsender, as in PostgreSQL),
// users and address ranges (CIDR or netmask, IPv4 and IPv6, IPv4-mapped clients), hostssl and
// hostnossl; no match is a refusal; a bad line names its number. And md5 secrets and responses.
using System.Net;
using PgWal.Replication.Auth;

namespace PgWal.Tests.Replication;

public sealed class HbaRulesTests
{
    private const string Conf = """
        # TYPE  DATABASE     USER          ADDRESS         METHOD
        hostssl replication  secure        0.0.0.0/0       scram-sha-256
        host    all          all           127.0.0.1/32    trust
        host    replication  backup        127.0.0.1/32    trust
        host    replication  streamer,bob  10.1.0.0 255.255.0.0  md5
        host    replication  all           ::1/128         scram-sha-256
        host    replication  evil          all             reject
        host    replication  all           127.0.0.0/8     scram-sha-256
        """;

    [Fact]
    public void FirstMatchingReplicationLine_Decides()
    {
        var rules = HbaRules.Parse(Conf);
        Assert.Equal(7, rules.Rules.Count);
        HbaMethod? Method(string user, string ip, bool tls = false) => rules.Match(user, IPAddress.Parse(ip), tls)?.Method;
        Assert.Equal(HbaMethod.Trust, Method("backup", "127.0.0.1"));           // line 4; line 3 (`all`) does not cover replication
        Assert.Equal(HbaMethod.ScramSha256, Method("anyone", "127.0.0.2"));     // the last line
        Assert.Equal(HbaMethod.Md5, Method("bob", "10.1.200.3"));
        Assert.Null(Method("bob", "10.2.0.1"));                                  // no line: refused
        Assert.Equal(HbaMethod.ScramSha256, Method("x", "::1"));
        Assert.Equal(HbaMethod.Trust, Method("backup", "::ffff:127.0.0.1"));     // an IPv4-mapped client
        Assert.Equal(HbaMethod.Reject, Method("evil", "127.0.0.1"));
        Assert.Equal(HbaMethod.ScramSha256, Method("secure", "192.0.2.1", tls: true));
        Assert.Null(Method("secure", "192.0.2.1", tls: false));                  // hostssl needs TLS
        Assert.Equal(2, rules.Match("secure", IPAddress.Parse("127.0.0.1"), tls: true)!.LineNumber);
    }

    [Theory]
    [InlineData("hots replication all 127.0.0.1/32 trust", "line 1: unknown connection type \"hots\"")]
    [InlineData("host replication all 127.0.0.1/33 trust", "invalid CIDR mask")]
    [InlineData("host replication all localhost trust", "invalid IP address \"localhost\"")]
    [InlineData("\nhost replication all 127.0.0.1/32 password", "line 2: unsupported authentication method \"password\"")]
    [InlineData("host replication all", "expected TYPE DATABASE USER ADDRESS METHOD")]
    [InlineData("local replication all trust", "local (Unix-socket) connections are not served")]
    public void BadLines_AreNamed(string conf, string expected)
    {
        var e = Assert.Throws<FormatException>(() => HbaRules.Parse(conf));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void Md5_SecretAndResponse_ArePostgresqls()
    {
        // md5("pencil" + "user") and the salted response, as libpq computes them (pg_md5_encrypt).
        string secret = Md5Password.Secret("user", "pencil");
        Assert.Matches("^md5[0-9a-f]{32}$", secret);
        byte[] salt = [1, 2, 3, 4];
        string response = Md5Password.ExpectedResponse(secret, salt);
        Assert.True(Md5Password.Verify(secret, salt, response));
        Assert.False(Md5Password.Verify(secret, [1, 2, 3, 5], response));
        Assert.False(Md5Password.Verify(Md5Password.Secret("user", "crayon"), salt, response));
    }
}
