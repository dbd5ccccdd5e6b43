// ScramClientTests: the client side of SCRAM-SHA-256 against PgWal's server side (both ways of a
// wrong password), RFC 7677's vector from the client's view, and the refusals: a server signature
// that is wrong, a nonce that does not extend ours, malformed server messages.
using PgWal.Replication.Auth;
using PgWal.Replication.Protocol;

namespace PgWal.Tests.Replication.Client;

public sealed class ScramClientTests
{
    [Fact]
    public void ClientAndServer_AgreeOnTheRightPassword_AndTheClientChecksTheServer()
    {
        var verifier = ScramVerifier.FromPassword("pencil");
        var client = new ScramClientExchange("pencil");
        Assert.Matches("^n,,n=,r=[A-Za-z0-9+/]{24}$", client.ClientFirst);
        var server = new ScramServerExchange(verifier);
        string final = server.Verify(client.ClientFinal(server.ServerFirst(client.ClientFirst)))!;
        client.VerifyServerFinal(final);

        var wrongClient = new ScramClientExchange("crayon");
        var server2 = new ScramServerExchange(verifier);
        Assert.Null(server2.Verify(wrongClient.ClientFinal(server2.ServerFirst(wrongClient.ClientFirst))));
    }

    [Fact]
    public void Rfc7677Vector_FromTheClientsSide()
    {
        // RFC 7677 uses user "user"; libpq's n= is empty, so the proof differs; the server signature check still holds.
        var verifier = ScramVerifier.FromPassword("pencil", 4096, Convert.FromBase64String("W22ZaJ0SNY7soEsUEjb6gQ=="));
        var client = new ScramClientExchange("pencil", "rOprNGfwEbeRWgbNEkqO");
        var server = new ScramServerExchange(verifier, "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0");
        string serverFirst = server.ServerFirst(client.ClientFirst);
        Assert.Equal("r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096", serverFirst);
        client.VerifyServerFinal(server.Verify(client.ClientFinal(serverFirst))!);
    }

    [Fact]
    public void AServerThatDoesNotKnowThePassword_IsRefused()
    {
        var client = new ScramClientExchange("pencil");
        var impostor = new ScramServerExchange(ScramVerifier.FromPassword("something else"));
        client.ClientFinal(impostor.ServerFirst(client.ClientFirst));
        var e = Assert.Throws<ProtocolException>(() => client.VerifyServerFinal("v=" + Convert.ToBase64String(new byte[32])));
        Assert.Contains("incorrect server signature", e.Message);
    }

    [Theory]
    [InlineData("r=someoneelsesnonce,s=AAAA,i=4096", "nonce mismatch")]
    [InlineData("r={0}x,s=AAAA", "r=, s= and i= are all required")]
    [InlineData("r={0}x,s=AAAA,i=0", "invalid iteration count")]
    [InlineData("r={0}x,s=AAAA,i=99999999999", "invalid iteration count")]
    [InlineData("r={0}x,s=%%%,i=4096", "the salt is not base64")]
    [InlineData("m=ext,r={0}x,s=AAAA,i=4096", "mandatory extension")]
    [InlineData("garbage", "is not of the form")]
    public void MalformedServerFirst_IsAProtocolError(string serverFirst, string message)
    {
        var client = new ScramClientExchange("pencil", "clientnonce");
        var e = Assert.Throws<ProtocolException>(() => client.ClientFinal(string.Format(System.Globalization.CultureInfo.InvariantCulture, serverFirst, "clientnonce")));
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void ServerFinalBeforeServerFirst_OrWithAnError_IsAProtocolError()
    {
        var client = new ScramClientExchange("pencil");
        Assert.Throws<ProtocolException>(() => client.VerifyServerFinal("v=AAAA"));
        client.ClientFinal($"r={client.ClientFirst[8..]}x,s=AAAA,i=1");
        Assert.Contains("other-error", Assert.Throws<ProtocolException>(() => client.VerifyServerFinal("e=other-error")).Message);
    }
}
