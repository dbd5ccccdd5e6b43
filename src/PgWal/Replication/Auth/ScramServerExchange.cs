// ScramServerExchange: the server's side of SCRAM-SHA-256 (RFC 5802/7677, PostgreSQL's
// auth-scram.c), without channel binding: client-first → server-first → client-final →
// server-final, checking the gs2 header ("n,," or "y,,"; authzid and extensions are refused),
// that the final nonce is exactly the client's nonce plus ours, that c= repeats the gs2 header,
// and the proof against the stored key. Every malformed message is a ProtocolException; a wrong
// password is Verify's false, which the server reports as 28P01.
using System.Security.Cryptography;
using System.Text;
using PgWal.Replication.Protocol;

namespace PgWal.Replication.Auth;

/// <summary>One SCRAM-SHA-256 authentication, server side.</summary>
public sealed class ScramServerExchange(ScramVerifier verifier, string? serverNonce = null)
{
    /// <summary>The mechanism name.</summary>
    public const string Mechanism = "SCRAM-SHA-256";

    private readonly string _serverNonce = serverNonce ?? Convert.ToBase64String(RandomNumberGenerator.GetBytes(18));
    private string? _gs2Header, _clientFirstBare, _serverFirst, _clientNonce;

    /// <summary>Takes client-first-message; returns server-first-message.</summary>
    /// <exception cref="ProtocolException">The message is malformed or asks for what PostgreSQL refuses.</exception>
    public string ServerFirst(string clientFirst)
    {
        if (clientFirst.StartsWith("p=", StringComparison.Ordinal))
            throw new ProtocolException("channel binding is not supported on this connection (SCRAM-SHA-256-PLUS was not offered)", "28000");
        if (!clientFirst.StartsWith("n,", StringComparison.Ordinal) && !clientFirst.StartsWith("y,", StringComparison.Ordinal))
            throw new ProtocolException("malformed SCRAM message: unexpected channel-binding flag in client-first-message", "08P01");
        int second = clientFirst.IndexOf(',', 2);
        if (second < 0)
            throw new ProtocolException("malformed SCRAM message: client-first-message has no gs2 header end", "08P01");
        if (second != 2)
            throw new ProtocolException("client uses authorization identity, but it is not supported", "0A000");
        _gs2Header = clientFirst[..3];
        _clientFirstBare = clientFirst[3..];
        var attributes = _clientFirstBare.Split(',');
        if (attributes.Length < 2 || !attributes[0].StartsWith("n=", StringComparison.Ordinal) || !attributes[1].StartsWith("r=", StringComparison.Ordinal))
            throw new ProtocolException("malformed SCRAM message: expected n=user,r=nonce in client-first-message", "08P01");
        if (attributes.Length > 2)
            throw new ProtocolException("malformed SCRAM message: unsupported extension in client-first-message", "08P01");
        _clientNonce = attributes[1][2..];
        if (_clientNonce.Length == 0 || _clientNonce.Any(ch => ch is < (char)0x21 or > (char)0x7E or ','))
            throw new ProtocolException("malformed SCRAM message: invalid nonce in client-first-message", "08P01");
        _serverFirst = $"r={_clientNonce}{_serverNonce},s={Convert.ToBase64String(verifier.Salt)},i={verifier.Iterations}";
        return _serverFirst;
    }

    /// <summary>
    /// Takes client-final-message; returns server-final-message ("v=..."), or null when the proof
    /// is wrong (the password does not match).
    /// </summary>
    /// <exception cref="ProtocolException">The message is malformed, out of order, or its nonce or binding does not match.</exception>
    public string? Verify(string clientFinal)
    {
        if (_serverFirst == null)
            throw new ProtocolException("malformed SCRAM message: client-final-message before client-first-message", "08P01");
        int proofAt = clientFinal.LastIndexOf(",p=", StringComparison.Ordinal);
        if (proofAt < 0 || !clientFinal.StartsWith("c=", StringComparison.Ordinal))
            throw new ProtocolException("malformed SCRAM message: expected c=...,r=...,p=... in client-final-message", "08P01");
        string withoutProof = clientFinal[..proofAt];
        var attributes = withoutProof.Split(',');
        if (attributes.Length != 2 || !attributes[1].StartsWith("r=", StringComparison.Ordinal))
            throw new ProtocolException("malformed SCRAM message: expected c=...,r=... in client-final-message", "08P01");
        byte[] binding, proof;
        try
        {
            binding = Convert.FromBase64String(attributes[0][2..]);
            proof = Convert.FromBase64String(clientFinal[(proofAt + 3)..]);
        }
        catch (FormatException)
        {
            throw new ProtocolException("malformed SCRAM message: invalid base64 in client-final-message", "08P01");
        }
        if (Encoding.ASCII.GetString(binding) != _gs2Header)
            throw new ProtocolException("SCRAM channel binding check failed", "28000");
        if (attributes[1][2..] != _clientNonce + _serverNonce)
            throw new ProtocolException("SCRAM nonce mismatch", "08P01");
        if (proof.Length != 32)
            throw new ProtocolException("malformed SCRAM message: invalid ClientProof length", "08P01");
        byte[] authMessage = Encoding.UTF8.GetBytes($"{_clientFirstBare},{_serverFirst},{withoutProof}");
        byte[] clientSignature = HMACSHA256.HashData(verifier.StoredKey, authMessage);
        var clientKey = new byte[32];
        for (int i = 0; i < 32; i++)
            clientKey[i] = (byte)(proof[i] ^ clientSignature[i]);
        if (!CryptographicOperations.FixedTimeEquals(SHA256.HashData(clientKey), verifier.StoredKey))
            return null;
        return "v=" + Convert.ToBase64String(HMACSHA256.HashData(verifier.ServerKey, authMessage));
    }
}
