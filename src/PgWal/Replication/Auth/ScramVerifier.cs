// ScramVerifier: a SCRAM-SHA-256 verifier as PostgreSQL stores it in pg_authid.rolpassword:
// "SCRAM-SHA-256$<iterations>:<base64 salt>$<base64 StoredKey>:<base64 ServerKey>". Made from a
// password (PBKDF2-HMAC-SHA-256), or parsed; the password itself is never kept.
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace PgWal.Replication.Auth;

/// <summary>A stored SCRAM-SHA-256 verifier.</summary>
/// <param name="Iterations">PBKDF2 iterations (PostgreSQL's default 4096).</param>
/// <param name="Salt">The salt (16 bytes by default).</param>
/// <param name="StoredKey">H(ClientKey).</param>
/// <param name="ServerKey">HMAC(SaltedPassword, "Server Key").</param>
public sealed record ScramVerifier(int Iterations, byte[] Salt, byte[] StoredKey, byte[] ServerKey)
{
    private const string Prefix = "SCRAM-SHA-256$";

    /// <summary>A verifier for <paramref name="password"/> with a random 16-byte salt.</summary>
    public static ScramVerifier FromPassword(string password, int iterations = 4096, byte[]? salt = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(iterations, 1);
        salt ??= RandomNumberGenerator.GetBytes(16);
        byte[] salted = SaltedPassword(password, salt, iterations);
        byte[] clientKey = HMACSHA256.HashData(salted, "Client Key"u8);
        return new ScramVerifier(iterations, salt, SHA256.HashData(clientKey), HMACSHA256.HashData(salted, "Server Key"u8));
    }

    /// <summary>
    /// SaltedPassword = PBKDF2-HMAC-SHA-256(password, salt, iterations). PostgreSQL applies SASLprep
    /// first; for the ASCII passwords it is the identity, and other passwords are used as UTF-8.
    /// </summary>
    public static byte[] SaltedPassword(string password, byte[] salt, int iterations)
        => Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), salt, iterations, HashAlgorithmName.SHA256, 32);

    /// <summary>Parses PostgreSQL's text form; null when it is not one.</summary>
    public static ScramVerifier? TryParse(string text)
    {
        if (!text.StartsWith(Prefix, StringComparison.Ordinal))
            return null;
        var parts = text[Prefix.Length..].Split('$');
        if (parts.Length != 2)
            return null;
        var head = parts[0].Split(':');
        var keys = parts[1].Split(':');
        if (head.Length != 2 || keys.Length != 2 || !int.TryParse(head[0], NumberStyles.None, CultureInfo.InvariantCulture, out int iterations) || iterations < 1)
            return null;
        try
        {
            byte[] salt = Convert.FromBase64String(head[1]), stored = Convert.FromBase64String(keys[0]), server = Convert.FromBase64String(keys[1]);
            return stored.Length == 32 && server.Length == 32 && salt.Length > 0 ? new ScramVerifier(iterations, salt, stored, server) : null;
        }
        catch (FormatException)
        {
            return null;
        }
    }

    /// <inheritdoc/>
    public override string ToString()
        => $"{Prefix}{Iterations.ToString(CultureInfo.InvariantCulture)}:{Convert.ToBase64String(Salt)}${Convert.ToBase64String(StoredKey)}:{Convert.ToBase64String(ServerKey)}";
}
