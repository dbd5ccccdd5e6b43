// Md5Password: PostgreSQL's md5 authentication. The stored secret is "md5" + hex(md5(password +
// user)); the client answers a 4-byte salt with "md5" + hex(md5(hex(md5(password + user)) + salt)).
using System.Security.Cryptography;
using System.Text;

namespace PgWal.Replication.Auth;

/// <summary>md5 password secrets and responses, as PostgreSQL computes them.</summary>
public static class Md5Password
{
    /// <summary>The stored secret for <paramref name="password"/> of <paramref name="user"/> (pg_authid.rolpassword).</summary>
    public static string Secret(string user, string password) => "md5" + Hex(MD5.HashData(Encoding.UTF8.GetBytes(password + user)));

    /// <summary>What the client must send for <paramref name="salt"/>, from the stored secret.</summary>
    public static string ExpectedResponse(string secret, ReadOnlySpan<byte> salt)
    {
        if (!secret.StartsWith("md5", StringComparison.Ordinal) || secret.Length != 35)
            throw new ArgumentException("not an md5 secret", nameof(secret));
        byte[] input = [.. Encoding.ASCII.GetBytes(secret[3..]), .. salt];
        return "md5" + Hex(MD5.HashData(input));
    }

    /// <summary>Whether the client's response matches (constant time).</summary>
    public static bool Verify(string secret, ReadOnlySpan<byte> salt, string response)
        => CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(ExpectedResponse(secret, salt)), Encoding.ASCII.GetBytes(response));

    private static string Hex(byte[] bytes) => Convert.ToHexStringLower(bytes);
}
