// RetentionTests: `pgwal archive cleanup --keep-backups N` keeps exactly the WAL the newest N base
// backups need (their backup history files, archived by the instance at StopBackup): the kept
// backups still recover from the repository to the end of the archived WAL; the oldest one, whose
// WAL was removed, is refused with an error naming the missing checkpoint, never opened half.
// (It also caught a late segment preallocation re-creating an archived, removed segment as zeros,
// which archiving then offered and failed on forever.)
using System.Text;
using PgWal.Archive;
using PgWal.Format;
using PgWal.Kv;
using PgWal.Recovery;
using PgWal.Tests.Infrastructure;

namespace PgWal.Tests.Archive;

public sealed class RetentionTests
{
    private const int SegmentSize = 1 << 20;

    [Fact]
    public void KeepBackups_RemovesOnlyWalNoKeptBackupNeeds()
    {
        using var dir = new TempDirectory("retain");
        var repo = WalRepository.Create(dir.Combine("repo"), ArchiveCodec.Lz4);
        var options = new KvOptions
        {
            Init = new WalInitOptions { SegmentSize = SegmentSize },
            Instance = new WalInstanceOptions { ArchiveMode = ArchiveMode.On, ArchiveModule = new RepositoryArchiveModule(repo), SharedBuffers = 256 },
        };
        var backups = new List<string>();
        using (var store = KvStore.Open(dir.Combine("primary"), options))
        {
            for (int b = 0; b < 3; b++)
            {
                for (int i = 0; i < 1500; i++)
                    store.Put(Encoding.UTF8.GetBytes($"b{b}-{i}"), new byte[1000]);
                string target = dir.Combine($"backup{b}");
                store.Backup(target);
                backups.Add(target);
            }
            for (int i = 0; i < 1500; i++)
                store.Put(Encoding.UTF8.GetBytes($"after-{i}"), new byte[1000]);
            Assert.True(store.Instance.Archiving!.FailedCount == 0, store.Instance.Archiving.ToString());
        }
        Assert.True(3 == repo.List()[0].Files.Count(f => f.Name.Kind == ArchivedFileKind.BackupHistory),
            string.Join(", ", repo.List()[0].Files.Select(f => f.Name.Name)) + " | pg_wal: " + string.Join(", ", Directory.GetFiles(dir.Combine("primary", "pg_wal"), "*", SearchOption.AllDirectories).Select(Path.GetFileName)));
        string? cutoff = repo.OldestKeptBackup(2);
        Assert.NotNull(cutoff);
        Assert.Null(repo.OldestKeptBackup(4));

        var dry = PgTools.Pgwal(["archive", "cleanup", "--repo", repo.Path, "--keep-backups", "2", "--dry-run"]);
        Assert.True(dry.ExitCode == 0, dry.Stderr);
        var wouldGo = dry.StdoutText.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(Path.GetFileName).ToList();
        Assert.NotEmpty(wouldGo);
        Assert.All(wouldGo, f => Assert.True(string.CompareOrdinal(f![8..24], cutoff![8..24]) < 0, $"{f} is needed by a kept backup"));
        var real = PgTools.Pgwal(["archive", "cleanup", "--repo", repo.Path, "--keep-backups", "2"]);
        Assert.True(real.ExitCode == 0, real.Stderr);
        Assert.Contains("keeping the WAL of the newest 2 base backup(s)", real.Stderr);

        // The two kept backups recover from the repository to its end; the dropped one is refused.
        foreach (var (backup, ok) in new[] { (backups[1], true), (backups[2], true), (backups[0], false) })
        {
            string copy = dir.Combine(Path.GetFileName(backup) + "-restored");
            PgWal.Cli.Common.DirectoryCopy.Copy(backup, copy);
            // Only the archive counts: the backup's own WAL copy is left out.
            foreach (var f in Directory.GetFiles(Path.Combine(copy, "pg_wal")))
                File.Delete(f);
            File.WriteAllText(Path.Combine(copy, "recovery.signal"), "");
            var recovery = new KvOptions { Instance = new WalInstanceOptions { ArchiveRecovery = new ArchiveRecoveryOptions { Restorer = new RepositoryRestorer(repo) } } };
            if (ok)
            {
                using var store = KvStore.Open(copy, recovery);
                Assert.Equal(new byte[1000], store.Get("after-1499"u8));
            }
            else
            {
                var e = Assert.ThrowsAny<RecoveryException>(() => KvStore.Open(copy, recovery).Dispose());
                Assert.Contains("could not locate required checkpoint record", e.Message);
            }
        }
    }
}
