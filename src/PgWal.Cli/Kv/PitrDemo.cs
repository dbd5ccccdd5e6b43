// PitrDemo: `pgwal demo --pitr` — point-in-time recovery from start to end. A PgWal.Kv store
// archives every completed segment into a repository (in-process); clients load it while a base
// backup is taken; a restore point is made; then an "accident": one batch deletes a client's whole
// key range (and writes go on). The backup is restored to a fresh directory with recovery.signal
// and recovery_target_name in its postgresql.auto.conf, exactly as a PostgreSQL server is
// configured; recovery restores the archived WAL, stops at the restore point, starts timeline 2,
// and the restored store is checked against the acknowledgement log: every put acknowledged
// before the restore point is there, the accident is not.
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using PgWal.Archive;
using PgWal.Kv;
using PgWal.Recovery;

namespace PgWal.Cli.Kv;

internal static class PitrDemo
{
    private const int Clients = 4;

    public static int Run(string root, double seconds, int seed)
    {
        string primary = Path.Combine(root, "primary"), backup = Path.Combine(root, "backup"), restored = Path.Combine(root, "restored");
        var repo = WalRepository.Create(Path.Combine(root, "repo"), PgWal.Format.ArchiveCodec.Zstd);
        var acknowledged = new ConcurrentDictionary<string, string>();
        var archiving = new WalInstanceOptions { ArchiveMode = ArchiveMode.On, ArchiveModule = new RepositoryArchiveModule(repo), MaxWalSize = 64 << 20 };
        var options = new KvOptions { Init = new WalInitOptions { SegmentSize = 1 << 20 }, Instance = archiving };
        Console.WriteLine($"pgwal demo --pitr: a PgWal.Kv store in {primary} archives every WAL segment into the repository {repo.Path} ({repo.Compression})");
        BackupStopResult stop;
        Lsn restorePoint;
        int deleted;
        var clock = Stopwatch.StartNew();
        using (var store = KvStore.Open(primary, options))
        {
            using var cancel = new CancellationTokenSource();
            var clients = Enumerable.Range(0, Clients).Select(c => new Thread(() => Load(store, c, seed, acknowledged, cancel.Token)) { IsBackground = true }).ToArray();
            foreach (var t in clients)
                t.Start();
            Thread.Sleep(TimeSpan.FromSeconds(seconds / 3));
            Console.WriteLine($"  [{clock.Elapsed.TotalSeconds,5:F1} s] {acknowledged.Count:N0} puts acknowledged; base backup to {backup} while the {Clients} clients keep writing");
            var backupClock = Stopwatch.StartNew();
            stop = store.Backup(backup, new PgWal.Backup.BaseBackupOptions { Label = "pgwal demo --pitr" });
            Console.WriteLine($"  [{clock.Elapsed.TotalSeconds,5:F1} s] backup done in {backupClock.Elapsed.TotalSeconds:F2} s, consistent at {stop.StopLsn}; clients write on");
            Thread.Sleep(TimeSpan.FromSeconds(seconds / 3));
            cancel.Cancel();
            foreach (var t in clients)
                t.Join();
            restorePoint = store.CreateRestorePoint("before-accident");
            Console.WriteLine($"  [{clock.Elapsed.TotalSeconds,5:F1} s] {acknowledged.Count:N0} puts acknowledged in all; restore point \"before-accident\" at {restorePoint}");
            var accident = new WriteBatch();
            deleted = 0;
            foreach (var entry in store.Scan(Encoding.UTF8.GetBytes("client1/"), Encoding.UTF8.GetBytes("client1/\xff")))
            {
                accident.Delete(entry.Key);
                if (++deleted == 500)
                    break;
            }
            store.Write(accident);
            for (int i = 0; i < 200; i++)
                store.Put(Encoding.UTF8.GetBytes($"after/{i}"), "written after the accident"u8);
            Console.WriteLine($"  [{clock.Elapsed.TotalSeconds,5:F1} s] ACCIDENT: one batch deleted {deleted} keys of client 1 (commit {store.LastCommit?.Xid}); more writes followed; primary shut down (its last WAL archived)");
        }

        Common.DirectoryCopy.Copy(backup, restored);
        File.WriteAllText(Path.Combine(restored, "recovery.signal"), "");
        string pgwal = Environment.ProcessPath is { } exe && !exe.EndsWith("dotnet", StringComparison.Ordinal) ? exe : $"dotnet {Path.Combine(AppContext.BaseDirectory, "pgwal.dll")}";
        File.WriteAllText(Path.Combine(restored, "postgresql.auto.conf"),
            $"# as for PostgreSQL: restore the archived WAL and stop at the restore point\nrestore_command = '{pgwal} archive get --repo {Path.GetFullPath(repo.Path)} %f %p'\n" +
            "recovery_target_name = 'before-accident'\nrecovery_target_action = 'promote'\n");
        Console.WriteLine($"restore: backup copied to {restored}; recovery.signal and postgresql.auto.conf (restore_command, recovery_target_name = 'before-accident')");
        var recoverClock = Stopwatch.StartNew();
        using var restoredStore = KvStore.Open(restored, new KvOptions { Instance = new WalInstanceOptions() });
        var r = restoredStore.Instance.Recovery;
        Console.WriteLine($"recovery: {r.FilesRestored} WAL file(s) restored from the repository, {r.Records:N0} records replayed in {recoverClock.Elapsed.TotalSeconds:F2} s");
        Console.WriteLine($"          {r.StopMessage}");
        Console.WriteLine($"          new timeline {r.NewTimeline.Value} from {r.EndOfWal} (history file pg_wal/{r.NewTimeline.Value:X8}.history)");
        var contents = restoredStore.Scan().ToDictionary(p => Encoding.UTF8.GetString(p.Key), p => Encoding.UTF8.GetString(p.Value));
        var missing = acknowledged.Where(p => !contents.TryGetValue(p.Key, out var v) || v != p.Value).Select(p => p.Key).ToList();
        var extra = contents.Keys.Where(k => !acknowledged.ContainsKey(k)).ToList();
        if (missing.Count > 0 || extra.Count > 0)
        {
            Common.CommandBoundary.Error("pgwal demo --pitr", $"VERIFICATION FAILED: {missing.Count} acknowledged put(s) missing or different (first: {missing.FirstOrDefault()}), {extra.Count} key(s) that were never acknowledged before the restore point (first: {extra.FirstOrDefault()})");
            return Common.ExitCodes.Runtime;
        }
        Console.WriteLine($"verify:   the restored store holds exactly the {acknowledged.Count:N0} puts acknowledged before the restore point: the {deleted} keys the accident deleted are back, nothing written after it is there");
        Console.WriteLine("pgwal demo --pitr: OK. Look around:");
        Console.WriteLine($"  pgwal archive list --repo {repo.Path}");
        Console.WriteLine($"  pgwal controldata {restored}");
        Console.WriteLine($"  pg_verifybackup {backup}");
        return 0;
    }

    private static void Load(KvStore store, int client, int seed, ConcurrentDictionary<string, string> acknowledged, CancellationToken stop)
    {
        var random = new Random(seed + client);
        for (int i = 0; !stop.IsCancellationRequested; i++)
        {
            string key = $"client{client}/{i:D7}", value = $"value {i} of client {client} " + new string('x', random.Next(200));
            store.Put(Encoding.UTF8.GetBytes(key), Encoding.UTF8.GetBytes(value));
            acknowledged[key] = value;
        }
    }
}
