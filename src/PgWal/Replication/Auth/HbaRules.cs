// HbaRules: who may connect, and how they must authenticate (PostgreSQL's pg_hba.conf, for the
// connections a walsender takes). Lines are "TYPE DATABASE USER ADDRESS METHOD": TYPE host, hostssl
// or hostnossl; DATABASE must name `replication` for a physical walsender connection (`all` does
// not match it, as in PostgreSQL); USER a name, a comma list or `all`; ADDRESS a CIDR, an address
// with a mask length, or `all`; METHOD trust, scram-sha-256, md5 or reject. The first line that
// matches decides; no match is a refusal. A bad line is an error naming its line number.
using System.Net;
using System.Net.Sockets;

namespace PgWal.Replication.Auth;

/// <summary>How a matching connection must authenticate.</summary>
public enum HbaMethod
{
    /// <summary>No password.</summary>
    Trust,
    /// <summary>SCRAM-SHA-256.</summary>
    ScramSha256,
    /// <summary>md5 (SCRAM when the stored secret is a SCRAM verifier, as in PostgreSQL).</summary>
    Md5,
    /// <summary>Refused.</summary>
    Reject,
}

/// <summary>One pg_hba.conf line.</summary>
/// <param name="LineNumber">Its line in the file (for messages).</param>
/// <param name="RequireTls">hostssl: only over TLS; null for host (either).</param>
/// <param name="Databases">The database field (`replication` for walsenders).</param>
/// <param name="Users">User names, or `all`.</param>
/// <param name="Network">The client address range, or null for all.</param>
/// <param name="PrefixLength">The range's prefix length.</param>
/// <param name="Method">How to authenticate.</param>
public sealed record HbaRule(int LineNumber, bool? RequireTls, IReadOnlyList<string> Databases, IReadOnlyList<string> Users,
    IPAddress? Network, int PrefixLength, HbaMethod Method);

/// <summary>A parsed pg_hba.conf.</summary>
public sealed class HbaRules(IReadOnlyList<HbaRule> rules)
{
    /// <summary>The rules, in order.</summary>
    public IReadOnlyList<HbaRule> Rules { get; } = rules;

    /// <summary>Parses pg_hba.conf text (comments with '#', blank lines skipped).</summary>
    /// <exception cref="FormatException">A line is invalid; the message names it.</exception>
    public static HbaRules Parse(string text)
    {
        var rules = new List<HbaRule>();
        var lines = text.Split('\n');
        for (int n = 0; n < lines.Length; n++)
        {
            string line = lines[n];
            int hash = line.IndexOf('#');
            if (hash >= 0)
                line = line[..hash];
            var fields = line.Split([' ', '\t', '\r'], StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length == 0)
                continue;
            FormatException Bad(string why) => new($"invalid pg_hba.conf line {n + 1}: {why}: \"{lines[n].Trim()}\"");
            bool? tls = fields[0] switch
            {
                "host" => null,
                "hostssl" => true,
                "hostnossl" => false,
                "local" => throw Bad("local (Unix-socket) connections are not served; use host"),
                _ => throw Bad($"unknown connection type \"{fields[0]}\""),
            };
            if (fields.Length < 5)
                throw Bad("expected TYPE DATABASE USER ADDRESS METHOD");
            var (network, prefix) = fields[3] == "all" ? (null, 0) : ParseAddress(fields[3], fields.Length > 5 && !IsMethod(fields[4]) ? fields[4] : null, Bad);
            string method = fields[3] != "all" && fields.Length > 5 && !IsMethod(fields[4]) ? fields[5] : fields[4];
            var m = method switch
            {
                "trust" => HbaMethod.Trust,
                "scram-sha-256" => HbaMethod.ScramSha256,
                "md5" => HbaMethod.Md5,
                "reject" => HbaMethod.Reject,
                _ => throw Bad($"unsupported authentication method \"{method}\" (trust, scram-sha-256, md5, reject)"),
            };
            rules.Add(new HbaRule(n + 1, tls, fields[1].Split(','), fields[2].Split(','), network, prefix, m));
        }
        return new HbaRules(rules);
    }

    private static bool IsMethod(string field) => field is "trust" or "scram-sha-256" or "md5" or "reject" or "password" or "peer" or "ident" or "cert";

    private static (IPAddress, int) ParseAddress(string field, string? mask, Func<string, FormatException> bad)
    {
        int slash = field.IndexOf('/');
        string host = slash < 0 ? field : field[..slash];
        if (!IPAddress.TryParse(host, out var address))
            throw bad($"invalid IP address \"{host}\" (host names are not supported)");
        int max = address.AddressFamily == AddressFamily.InterNetworkV6 ? 128 : 32;
        int prefix;
        if (slash >= 0)
        {
            if (!int.TryParse(field[(slash + 1)..], out prefix) || prefix < 0 || prefix > max)
                throw bad($"invalid CIDR mask in address \"{field}\"");
        }
        else if (mask != null && IPAddress.TryParse(mask, out var m))
        {
            prefix = m.GetAddressBytes().Sum(b => System.Numerics.BitOperations.PopCount(b));
        }
        else
        {
            throw bad($"address \"{field}\" needs a CIDR mask length or a netmask");
        }
        return (address, prefix);
    }

    /// <summary>
    /// The first rule matching a physical replication connection of <paramref name="user"/> from
    /// <paramref name="client"/>, or null (PostgreSQL: "no pg_hba.conf entry for replication
    /// connection from host ..., user ...").
    /// </summary>
    public HbaRule? Match(string user, IPAddress client, bool tls)
    {
        if (client.IsIPv4MappedToIPv6)
            client = client.MapToIPv4();
        foreach (var rule in Rules)
        {
            if (rule.RequireTls is { } required && required != tls)
                continue;
            if (!rule.Databases.Contains("replication"))
                continue;   // `all` does not cover a physical walsender
            if (!rule.Users.Contains("all") && !rule.Users.Contains(user))
                continue;
            if (rule.Network != null && !InRange(client, rule.Network, rule.PrefixLength))
                continue;
            return rule;
        }
        return null;
    }

    private static bool InRange(IPAddress client, IPAddress network, int prefix)
    {
        byte[] a = client.GetAddressBytes(), b = network.GetAddressBytes();
        if (a.Length != b.Length)
            return false;
        for (int i = 0; i < a.Length && prefix > 0; i++, prefix -= 8)
        {
            int mask = prefix >= 8 ? 0xFF : (0xFF << (8 - prefix)) & 0xFF;
            if ((a[i] & mask) != (b[i] & mask))
                return false;
        }
        return true;
    }
}
