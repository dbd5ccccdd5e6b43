// WalSenderOptions: how a WalInstance serves PostgreSQL's streaming replication protocol: where it
// listens (127.0.0.1 only unless told otherwise), who may connect (pg_hba.conf rules and stored
// secrets, SCRAM-SHA-256 by default; trust only where a rule says so), TLS, and PostgreSQL's
// walsender settings (max_wal_senders, wal_sender_timeout).
using System.Net;
using System.Security.Cryptography.X509Certificates;
using PgWal.Replication.Auth;

namespace PgWal.Replication.Server;

/// <summary>Settings of the walsender server.</summary>
public sealed record WalSenderOptions
{
    /// <summary>The rules used when none are given: replication from loopback with SCRAM-SHA-256.</summary>
    public const string DefaultHba = "host replication all 127.0.0.1/32 scram-sha-256\nhost replication all ::1/128 scram-sha-256\n";

    /// <summary>Where to listen. Default 127.0.0.1:5432; port 0 picks a free one (see <see cref="WalSenderServer.EndPoint"/>).</summary>
    public IPEndPoint Listen { get; init; } = new(IPAddress.Loopback, 5432);

    /// <summary>max_wal_senders: concurrent replication connections. Default 10.</summary>
    public int MaxWalSenders { get; init; } = 10;

    /// <summary>
    /// wal_sender_timeout: a client silent for half of it is asked for a reply; one silent (or not
    /// reading) for all of it is disconnected. Zero disables. Default 60 s.
    /// </summary>
    public TimeSpan WalSenderTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>pg_hba.conf rules for replication connections. Default <see cref="DefaultHba"/>.</summary>
    public HbaRules Hba { get; init; } = HbaRules.Parse(DefaultHba);

    /// <summary>
    /// Users allowed to replicate and their stored secrets, in pg_authid's forms: a SCRAM verifier
    /// (<c>SCRAM-SHA-256$iter:salt$StoredKey:ServerKey</c>) or an md5 secret (<c>md5...</c>).
    /// Use <see cref="WithPassword"/> to add one from a password.
    /// </summary>
    public IReadOnlyDictionary<string, string> Users { get; init; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>The server certificate (with its private key) for TLS; null: SSLRequest is answered 'N'.</summary>
    public X509Certificate2? Certificate { get; init; }

    /// <summary>What server_version reports: a 15.x, since PostgreSQL 15's tools check it.</summary>
    public string ServerVersion { get; init; } = "15.18 (PgWal)";

    /// <summary>data_directory_mode as SHOW reports it (the tools make their files with it). Default 0700.</summary>
    public int DataDirectoryMode { get; init; } = Convert.ToInt32("700", 8);

    /// <summary>A copy with user <paramref name="user"/> allowed, its SCRAM verifier made from <paramref name="password"/>.</summary>
    public WalSenderOptions WithPassword(string user, string password)
    {
        var users = new Dictionary<string, string>(Users, StringComparer.Ordinal) { [user] = ScramVerifier.FromPassword(password).ToString() };
        return this with { Users = users };
    }

    internal void Validate()
    {
        if (MaxWalSenders < 1)
            throw new ArgumentException($"max_wal_senders must be at least 1 (got {MaxWalSenders})");
        if (WalSenderTimeout < TimeSpan.Zero)
            throw new ArgumentException($"wal_sender_timeout must not be negative (got {WalSenderTimeout})");
        if (!ServerVersion.StartsWith("15.", StringComparison.Ordinal))
            throw new ArgumentException($"server_version must be 15.x: PostgreSQL 15's clients refuse other versions (got \"{ServerVersion}\")");
        foreach (var (user, secret) in Users)
        {
            if (ScramVerifier.TryParse(secret) == null && !(secret.StartsWith("md5", StringComparison.Ordinal) && secret.Length == 35))
                throw new ArgumentException($"the secret of user \"{user}\" is neither a SCRAM-SHA-256 verifier nor an md5 secret");
        }
    }
}
