// KvServeCommand: `pgwal kv serve -D DIR --listen HOST:PORT` runs a kv store with its walsender, so
// that pg_receivewal, pg_basebackup, a standby or Npgsql can stream and back it up. Who may
// connect: a pg_hba.conf file (--hba; default: replication from loopback with SCRAM-SHA-256) and
// one replication user whose password comes from PGWAL_REPLICATION_PASSWORD or --password-file
// (never from the command line). TLS with --ssl-cert/--ssl-key (PEM). --load writes puts at a
// steady rate (something to stream); --stats prints pg_stat_replication and pg_replication_slots
// every so many seconds. --synchronous-standby-names and --synchronous-commit make the store's
// commits wait for synchronous standbys, as PostgreSQL's settings do (a stop cancels those waits).
// SIGINT/SIGTERM stop it with a shutdown checkpoint that streaming clients receive before the
// connection closes.
using System.CommandLine;
using System.Globalization;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using PgWal.Cli.Common;
using PgWal.Kv;
using PgWal.Replication.Auth;
using PgWal.Replication.Server;
using PgWal.Replication.Sync;

namespace PgWal.Cli.Kv;

internal static class KvServeCommand
{
    public static Command Create(Option<string> dir)
    {
        var listen = new Option<string>("--listen") { Description = "address:port to listen on (default 127.0.0.1:5432; use 0.0.0.0 only behind a hostssl rule)", DefaultValueFactory = _ => "127.0.0.1:5432" };
        var hba = CliOptions.Path("--hba", null, "pg_hba.conf rules for replication connections (default: host replication all 127.0.0.1/32 and ::1/128 scram-sha-256)");
        var user = new Option<string>("--user", "-U") { Description = "the replication user", DefaultValueFactory = _ => "replication" };
        var passwordFile = CliOptions.Path("--password-file", null, "file holding the user's password (or set PGWAL_REPLICATION_PASSWORD)");
        var cert = CliOptions.Path("--ssl-cert", null, "server certificate (PEM) for TLS");
        var key = CliOptions.Path("--ssl-key", null, "its private key (PEM)");
        var senders = CliOptions.Int("--max-wal-senders", null, "concurrent replication connections", 1, 1000, 10);
        var timeout = CliOptions.Seconds("--wal-sender-timeout", null, "drop clients silent for this long (0 = never)", 0, 86400, 60);
        var load = CliOptions.Int("--load", null, "puts per second to write while serving (0 = none)", 0, 1_000_000, 0);
        var stats = CliOptions.Seconds("--stats", null, "print walsenders and slots every this many seconds (0 = never)", 0, 86400, 0);
        var generate = CliOptions.Int("--generate-mb", null, "first write about this much WAL as fast as possible (batches of 64 puts), then serve", 0, 1 << 20, 0);
        var standbyNames = new Option<string>("--synchronous-standby-names") { Description = "synchronous_standby_names: standbys (by application_name) whose confirmation commits wait for, such as 'FIRST 1 (a, b)' or 'ANY 2 (*)' (default: none)", DefaultValueFactory = _ => "" };
        var synchronousCommit = new Option<string>("--synchronous-commit") { Description = "synchronous_commit of the store's commits: off, local, remote_write, on, remote_apply (default on)", DefaultValueFactory = _ => "on" };
        var command = new Command("serve", "Run the store with a walsender: pg_receivewal, pg_basebackup and Npgsql can stream and back it up")
        {
            listen, hba, user, passwordFile, cert, key, senders, timeout, load, stats, generate, standbyNames, synchronousCommit,
        };
        command.SetAction(p => CommandBoundary.Run("kv serve", () =>
        {
            var (names, level) = SyncRepSettings(p.GetValue(standbyNames)!, p.GetValue(synchronousCommit)!);
            var options = SenderOptions(p.GetValue(listen)!, p.GetValue(hba), p.GetValue(user)!, p.GetValue(passwordFile), p.GetValue(cert), p.GetValue(key)) with
            {
                MaxWalSenders = p.GetValue(senders),
                WalSenderTimeout = TimeSpan.FromSeconds(p.GetValue(timeout)),
            };
            return KvSession.Run(p.GetValue(dir)!, session => Serve(
                session.Open(create: true, o => o with { SynchronousCommit = level, Instance = o.Instance with { SynchronousStandbyNames = names } }),
                options, level, p.GetValue(load), p.GetValue(stats), p.GetValue(generate)));
        }));
        return command;
    }

    // Checked before the store is opened, so a bad value creates and changes nothing.
    private static (string Names, SynchronousCommitLevel Level) SyncRepSettings(string names, string level)
    {
        if (!SynchronousStandbyNames.TryParse(names, out _, out string? error))
            throw new UsageException($"invalid --synchronous-standby-names: {error}");
        if (!SynchronousCommitLevels.TryParse(level, out var parsed))
            throw new UsageException($"invalid --synchronous-commit \"{level}\": expected one of {SynchronousCommitLevels.AvailableValues}");
        return (names, parsed);
    }

    internal static WalSenderOptions SenderOptions(string listen, string? hbaFile, string user, string? passwordFile, string? cert, string? key)
    {
        int colon = listen.LastIndexOf(':');
        if (colon <= 0 || !IPAddress.TryParse(listen[..colon].Trim('[', ']'), out var address)
            || !int.TryParse(listen[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out int port) || port > 65535)
            throw new UsageException($"invalid --listen \"{listen}\": expected ADDRESS:PORT, such as 127.0.0.1:5432");
        var options = new WalSenderOptions { Listen = new IPEndPoint(address, port) };
        if (hbaFile != null)
        {
            try
            {
                options = options with { Hba = HbaRules.Parse(File.ReadAllText(hbaFile)) };
            }
            catch (FormatException e)
            {
                throw new UsageException($"{hbaFile}: {e.Message}");
            }
        }
        string? password = passwordFile != null ? File.ReadAllText(passwordFile).TrimEnd('\r', '\n') : Environment.GetEnvironmentVariable("PGWAL_REPLICATION_PASSWORD");
        if (password is { Length: > 0 })
            options = options.WithPassword(user, password);
        else if (hbaFile == null)
            throw new UsageException("no replication password: set PGWAL_REPLICATION_PASSWORD or --password-file (or give --hba with a trust rule)");
        else
            options = options with { Users = new Dictionary<string, string> { [user] = ScramVerifier.FromPassword(Guid.NewGuid().ToString()).ToString() } };
        if ((cert == null) != (key == null))
            throw new UsageException("--ssl-cert and --ssl-key go together");
        if (cert != null)
        {
            using var pem = X509Certificate2.CreateFromPemFile(cert, key);
            options = options with { Certificate = X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null) };
        }
        return options;
    }

    private static int Serve(KvStore store, WalSenderOptions options, SynchronousCommitLevel level, int putsPerSecond, double statsSeconds, int generateMb)
    {
        using var signals = new StopSignals();
        var server = store.Instance.StartWalSender(options);
        using var status = new Standby.ServerStatusFile(store, "kv serve");
        Console.WriteLine($"pgwal kv serve: serving \"{store.Instance.Location}\" on {server.EndPoint} (system identifier {store.Instance.ControlFile.SystemIdentifier}); stop with Ctrl-C");
        if (generateMb > 0)
            Generate(store, level, generateMb, signals.Token);
        var nextStats = DateTime.UtcNow + TimeSpan.FromSeconds(statsSeconds);
        // The load: 4 clients sharing the rate, each committing its puts synchronously (as pgbench -c 4 -R).
        var loaders = putsPerSecond == 0 ? [] : Enumerable.Range(0, LoadClients).Select(client => Task.Run(() => Load(store, level, client, putsPerSecond / (double)LoadClients, signals.Token))).ToArray();
        while (!signals.Token.IsCancellationRequested)
        {
            if (statsSeconds > 0 && DateTime.UtcNow >= nextStats)
            {
                PrintStats(store.Instance);
                nextStats = DateTime.UtcNow + TimeSpan.FromSeconds(statsSeconds);
            }
            signals.Token.WaitHandle.WaitOne(statsSeconds > 0 ? TimeSpan.FromSeconds(Math.Min(statsSeconds, 0.2)) : TimeSpan.FromSeconds(1));
        }
        Task.WaitAll(loaders);
        Console.WriteLine($"pgwal kv serve: {signals.Received} received, shutting down");
        return ExitCodes.Success;
    }

    private const int LoadClients = 4;

    private static void Load(KvStore store, SynchronousCommitLevel level, int client, double perSecond, CancellationToken stop)
    {
        var started = System.Diagnostics.Stopwatch.StartNew();
        long written = 0;
        while (!stop.IsCancellationRequested)
        {
            long due = (long)(started.Elapsed.TotalSeconds * perSecond);
            try
            {
                for (; written < due && !stop.IsCancellationRequested; written++)
                    store.Put(System.Text.Encoding.ASCII.GetBytes($"load{client}.{written % 25_000:D5}"), System.Text.Encoding.ASCII.GetBytes($"value {written} at {DateTime.UtcNow:O}"), level, stop);
            }
            catch (SyncRepWaitCanceledException) when (stop.IsCancellationRequested)
            {
                return;   // stopping while the commit waited for standbys: it is durable here
            }
            stop.WaitHandle.WaitOne(2);
        }
    }

    // Batches of 64 puts of 1 kB values (keys cycling through 100,000) until that much WAL is flushed.
    private static void Generate(KvStore store, SynchronousCommitLevel level, int megabytes, CancellationToken stop)
    {
        var wal = store.Instance.Wal;
        Lsn from = wal.FlushedUpTo;
        var value = new byte[1000];
        long n = 0;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (wal.FlushedUpTo - from < (ulong)megabytes << 20 && !stop.IsCancellationRequested)
        {
            var batch = new WriteBatch();
            for (int i = 0; i < 64; i++, n++)
            {
                Random.Shared.NextBytes(value);
                batch.Put(System.Text.Encoding.ASCII.GetBytes($"gen{n % 100_000:D6}"), value);
            }
            try
            {
                store.Write(batch, level, stop);
            }
            catch (SyncRepWaitCanceledException) when (stop.IsCancellationRequested)
            {
                break;
            }
        }
        Console.WriteLine($"pgwal kv serve: generated {(wal.FlushedUpTo - from) / 1048576.0:F1} MB of WAL ({n} puts) in {clock.Elapsed.TotalSeconds:F1} s, flushed up to {wal.FlushedUpTo}");
    }

    private static void PrintStats(WalInstance instance)
    {
        static string Lag(TimeSpan? lag) => lag is { } l ? $"{l.TotalMilliseconds:F1}ms" : "-";
        Console.WriteLine($"-- {DateTime.UtcNow:HH:mm:ss} flushed {instance.Wal.FlushedUpTo}");
        foreach (var s in instance.WalSender!.Snapshot())
            Console.WriteLine($"walsender pid={s.Pid} user={s.User} application_name={s.ApplicationName} client={s.ClientAddress}:{s.ClientPort} state={s.State} sent={s.SentLsn} write={s.WriteLsn} flush={s.FlushLsn} replay={s.ReplayLsn} write_lag={Lag(s.WriteLag)} flush_lag={Lag(s.FlushLag)} replay_lag={Lag(s.ReplayLag)} slot={s.Slot ?? "-"} sync_priority={s.SyncPriority} sync_state={s.SyncState}");
        foreach (var (slot, walStatus, safe) in instance.ReplicationSlotStatus())
            Console.WriteLine($"slot {slot.Name} temporary={slot.Temporary} active={slot.Active} active_pid={(slot.Active ? slot.ActivePid : 0)} restart_lsn={(slot.RestartLsn.IsValid ? slot.RestartLsn : "-")} wal_status={walStatus ?? "-"} safe_wal_size={(safe?.ToString(CultureInfo.InvariantCulture) ?? "-")}");
    }
}
