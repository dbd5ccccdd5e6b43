// ScramClientExchange: the client's side of SCRAM-SHA-256 (RFC 5802/7677) as libpq's
// fe-auth-scram.c does it without channel binding: gs2 header "n,,", an empty user name
// ("n=", the server takes the StartupMessage's user), 18 random bytes of nonce in base64 (24
// characters). The server's nonce must extend ours, the salt and iteration count must be sane, and
// the server's signature must be the one our password implies: a server that cannot prove it
// knows the verifier is refused (ProtocolException), as libpq refuses it.
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using PgWal.Replication.Protocol;

namespace PgWal.Replication.Auth;

/// <summary>One SCRAM-SHA-256 authentication, client side.</summary>
public sealed class ScramClientExchange
{
    /// <summary>The gs2 header: no channel binding, and the client does not support it.</summary>
    public const string Gs2Header = "n,,";

    // PBKDF2 with more iterations than this is a denial of service by the server, not a password hash.
    private const int MaxIterations = 10_000_000;

    private readonly string _password;
    private readonly string _clientNonce;
    private readonly string _clientFirstBare;
    private byte[]? _expectedServerSignature;

    /// <summary>Starts an exchange for <paramref name="password"/>; <paramref name="clientNonce"/> only for tests.</summary>
    public ScramClientExchange(string password, string? clientNonce = null)
    {
        _password = password;
        _clientNonce = clientNonce ?? Convert.ToBase64String(RandomNumberGenerator.GetBytes(18));
        _clientFirstBare = "n=,r=" + _clientNonce;
    }

    /// <summary>client-first-message: the SASLInitialResponse's data.</summary>
    public string ClientFirst => Gs2Header + _clientFirstBare;

    /// <summary>Takes server-first-message (SASLContinue); returns client-final-message.</summary>
    /// <exception cref="ProtocolException">The message is malformed or its nonce does not extend ours.</exception>
    public string ClientFinal(string serverFirst)
    {
        string? nonce = null, salt = null, iterations = null;
        foreach (var attribute in serverFirst.Split(','))
        {
            if (attribute.Length < 2 || attribute[1] != '=')
                throw Malformed("server-first-message", $"attribute \"{attribute}\" is not of the form x=value");
            switch (attribute[0])
            {
                case 'r' when nonce == null: nonce = attribute[2..]; break;
                case 's' when salt == null: salt = attribute[2..]; break;
                case 'i' when iterations == null: iterations = attribute[2..]; break;
                case 'm':
                    throw Malformed("server-first-message", "a mandatory extension (m=) is not supported");
                default:
                    throw Malformed("server-first-message", $"unexpected attribute '{attribute[0]}'");
            }
        }
        if (nonce == null || salt == null || iterations == null)
            throw Malformed("server-first-message", "r=, s= and i= are all required");
        if (!nonce.StartsWith(_clientNonce, StringComparison.Ordinal) || nonce.Length == _clientNonce.Length)
            throw new ProtocolException("invalid SCRAM response (nonce mismatch)");
        if (!int.TryParse(iterations, NumberStyles.None, CultureInfo.InvariantCulture, out int count) || count < 1 || count > MaxIterations)
            throw Malformed("server-first-message", $"invalid iteration count \"{iterations}\"");
        byte[] saltBytes;
        try
        {
            saltBytes = Convert.FromBase64String(salt);
        }
        catch (FormatException)
        {
            throw Malformed("server-first-message", "the salt is not base64");
        }
        if (saltBytes.Length == 0)
            throw Malformed("server-first-message", "the salt is empty");

        string withoutProof = $"c={Convert.ToBase64String(Encoding.ASCII.GetBytes(Gs2Header))},r={nonce}";
        byte[] authMessage = Encoding.UTF8.GetBytes($"{_clientFirstBare},{serverFirst},{withoutProof}");
        byte[] salted = ScramVerifier.SaltedPassword(_password, saltBytes, count);
        byte[] clientKey = HMACSHA256.HashData(salted, "Client Key"u8);
        byte[] clientSignature = HMACSHA256.HashData(SHA256.HashData(clientKey), authMessage);
        for (int i = 0; i < clientKey.Length; i++)
            clientKey[i] ^= clientSignature[i];
        _expectedServerSignature = HMACSHA256.HashData(HMACSHA256.HashData(salted, "Server Key"u8), authMessage);
        return $"{withoutProof},p={Convert.ToBase64String(clientKey)}";
    }

    /// <summary>Checks server-final-message (SASLFinal): "v=" and the server's signature.</summary>
    /// <exception cref="ProtocolException">An error attribute, a malformed message, or a wrong signature.</exception>
    public void VerifyServerFinal(string serverFinal)
    {
        if (_expectedServerSignature == null)
            throw new ProtocolException("SCRAM server-final-message received before server-first-message");
        if (serverFinal.StartsWith("e=", StringComparison.Ordinal))
            throw new ProtocolException($"SCRAM authentication failed on the server: {serverFinal[2..]}");
        if (!serverFinal.StartsWith("v=", StringComparison.Ordinal))
            throw Malformed("server-final-message", "it does not start with v=");
        byte[] signature;
        try
        {
            signature = Convert.FromBase64String(serverFinal[2..]);
        }
        catch (FormatException)
        {
            throw Malformed("server-final-message", "the signature is not base64");
        }
        if (!CryptographicOperations.FixedTimeEquals(signature, _expectedServerSignature))
            throw new ProtocolException("incorrect server signature: the server does not know this password's verifier", "28000");
    }

    private static ProtocolException Malformed(string which, string why) => new($"malformed SCRAM message ({which}): {why}");
}
