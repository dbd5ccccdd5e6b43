// RealPostgresArchiveTests: a real PostgreSQL 15 server archives into a PgWal repository
// (archive_command = 'pgwal archive push --repo R %p') and restores from it (restore_command =
// 'pgwal archive get --repo R %f %p'). A pg_basebackup taken without WAL (-X none, so every WAL
// byte the restores need comes out of the repository) is restored to a restore point made before
// an "accident" and promoted to timeline 2, which archives its history file and its own WAL into
// the same repository; a second restore of the same backup with recovery_target_timeline = 'latest'
// follows timeline 2 to its end. Every archived segment restores byte-identical to the server's.
// The primary archives with `push --async` (files pushed ahead, offers answered from markers).
using PgWal.Tests.Infrastructure;

namespace PgWal.Tests.Archive;

public sealed class RealPostgresArchiveTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(2);

    [Fact]
    public void RealPostgres_ArchivesIntoTheRepository_RestoresToARestorePoint_AndALaterRestoreFollowsTheNewTimeline()
    {
        using var dir = new TempDirectory("pgarchive");
        ScratchCluster.MakeShared(dir.Path);
        string repo = dir.Combine("repo");
        string dll = ScratchCluster.PgwalForOthers.Value;
        var init = ScratchCluster.AsPostgres(ScratchCluster.DotnetHost, [dll, "archive", "init", "--repo", repo]);
        Assert.True(init.ExitCode == 0, init.Stderr);
        string pgwal = ScratchCluster.PgwalCommand;
        string archiving = $"wal_level = replica\narchive_mode = on\narchive_command = '{pgwal} archive push --repo {repo} %p'\n";
        // The primary archives asynchronously (push --async): its later segments are pushed ahead
        // while PostgreSQL waits for one, and its own offers of them succeed from the markers.
        Directory.CreateDirectory(dir.Combine("pushspool"));
        ScratchCluster.MakeShared(dir.Combine("pushspool"));
        string archivingAsync = $"wal_level = replica\narchive_mode = on\narchive_command = '{pgwal} archive push --repo {repo} --async --spool {dir.Combine("pushspool")} %p'\n";
        string restoring = $"restore_command = '{pgwal} archive get --repo {repo} %f %p'\n";

        using (var primary = ScratchCluster.Init(dir.Combine("primary"), archivingAsync))
        {
            primary.Sql("CREATE TABLE t(id int PRIMARY KEY, v text)");
            primary.Sql("INSERT INTO t SELECT g, 'before the backup' FROM generate_series(1, 1000) g");
            var backup = ScratchCluster.AsPostgres(PgTools.Require("pg_basebackup"),
                ["-D", dir.Combine("backup"), "-h", "127.0.0.1", "-p", primary.Port.ToString(), "-U", "postgres", "-X", "none", "-c", "fast"], Patience);
            Assert.True(backup.ExitCode == 0, backup.Stderr);
            primary.Sql("INSERT INTO t SELECT g, 'after the backup' FROM generate_series(1001, 2000) g");
            // Real traffic across several segments: pgbench's tables and transactions.
            var env = new[] { "-h", "127.0.0.1", "-p", primary.Port.ToString(), "-U", "postgres" };
            var pgbenchInit = ScratchCluster.AsPostgres(PgTools.Require("pgbench"), [.. env, "-i", "-s", "2", "-q", "postgres"], Patience);
            Assert.True(pgbenchInit.ExitCode == 0, pgbenchInit.Stderr);
            var pgbench = ScratchCluster.AsPostgres(PgTools.Require("pgbench"), [.. env, "-c", "2", "-t", "300", "postgres"], Patience);
            Assert.True(pgbench.ExitCode == 0, pgbench.Stderr);
            primary.Sql("SELECT pg_create_restore_point('before_accident')");
            primary.Sql("DELETE FROM t WHERE id % 2 = 0");   // the accident
            string last = primary.Sql("SELECT pg_walfile_name(pg_switch_wal())");
            primary.WaitFor($"SELECT last_archived_wal >= '{last}' FROM pg_stat_archiver", "t", Patience);
            Assert.Equal("0", primary.Sql("SELECT failed_count FROM pg_stat_archiver"));

            // Every segment the server still has and the repository holds comes back byte for byte.
            int compared = 0;
            foreach (string segment in SegmentFiles.In(Path.Combine(primary.DataDirectory, "pg_wal")))
            {
                string name = Path.GetFileName(segment);
                if (string.CompareOrdinal(name, last) > 0)
                    continue;   // not complete yet
                string restored = dir.Combine("restored-" + name);
                var get = PgTools.Pgwal(["archive", "get", "--repo", repo, name, restored]);
                Assert.True(get.ExitCode == 0, $"{name}: exit {get.ExitCode} {get.Stderr}");
                Assert.True(File.ReadAllBytes(segment).AsSpan().SequenceEqual(File.ReadAllBytes(restored)), $"{name} restored differently");
                compared++;
            }
            Assert.True(compared >= 2, $"only {compared} segments compared");
        }

        // Restore 1: to the restore point, then promote (timeline 2), archiving into the same repository.
        string first = Restore(dir, "restore1");
        using (var r1 = ScratchCluster.StartExisting(first, archiving + restoring + "recovery_target_name = 'before_accident'\nrecovery_target_action = 'promote'\n"))
        {
            r1.WaitFor("SELECT pg_is_in_recovery()", "f", Patience);
            Assert.Contains("recovery stopping at restore point \"before_accident\"", r1.Log());
            Assert.Contains("restored log file", r1.Log());
            Assert.Equal("2000", r1.Sql("SELECT count(*) FROM t"));
            Assert.Equal("00000002", r1.Sql("SELECT substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8)"));

            // pgwal archive show-target, reading only the repository, predicted that stop exactly.
            var show = PgTools.Pgwal(["archive", "show-target", "--repo", repo, "--timeline", "1", "--name", "before_accident", "--json"]);
            Assert.True(show.ExitCode == 0, show.Stderr);
            var json = System.Text.Json.JsonDocument.Parse(show.StdoutText).RootElement;
            Assert.True(json.GetProperty("reached").GetBoolean());
            Assert.Equal(r1.Sql("SELECT pg_last_wal_replay_lsn()"), json.GetProperty("replayed_up_to").GetString());
            Assert.StartsWith("recovery stopping at restore point \"before_accident\", time ", json.GetProperty("message").GetString());
            // Timeline 2 starts where replay ended: PgWal's history file for that switch has PostgreSQL's bytes.
            var switchPoint = json.GetProperty("replayed_up_to").GetString()!;
            Assert.True(Lsn.TryParse(switchPoint, out var sp));
            string expectedHistory = PgWal.Timelines.TimelineHistory.NewFileText(null, TimelineId.First, sp, "at restore point \"before_accident\"");
            Assert.Equal(expectedHistory, File.ReadAllText(Path.Combine(first, "pg_wal", "00000002.history")));
            Assert.Contains($"redo done at {json.GetProperty("stop_record_lsn").GetString()} ", r1.Log());
            // The same stop as an LSN target (inclusive: after the record starting there), and a name never made.
            var byLsn = PgTools.Pgwal(["archive", "show-target", "--repo", repo, "--timeline", "1", "--lsn", json.GetProperty("stop_record_lsn").GetString()!, "--json"]);
            Assert.True(byLsn.ExitCode == 0, byLsn.Stderr);
            Assert.Equal(json.GetProperty("replayed_up_to").GetString(), System.Text.Json.JsonDocument.Parse(byLsn.StdoutText).RootElement.GetProperty("replayed_up_to").GetString());
            var never = PgTools.Pgwal(["archive", "show-target", "--repo", repo, "--timeline", "1", "--name", "no_such_point"]);
            Assert.Equal(3, never.ExitCode);
            Assert.Contains("recovery ended before configured recovery target was reached", never.Stderr);
            r1.Sql("INSERT INTO t VALUES (99999, 'on timeline 2')");
            string last2 = r1.Sql("SELECT pg_walfile_name(pg_switch_wal())");
            r1.WaitFor($"SELECT last_archived_wal >= '{last2}' FROM pg_stat_archiver", "t", Patience);
        }
        var history = PgTools.Pgwal(["archive", "get", "--repo", repo, "00000002.history", dir.Combine("00000002.history")]);
        Assert.True(history.ExitCode == 0, history.Stderr);
        Assert.StartsWith("1\t", File.ReadAllText(dir.Combine("00000002.history")));

        // Restore to an LSN on timeline 1 (inclusive): PostgreSQL stops after the record starting at
        // or after it, as show-target predicts, and pg_last_wal_replay_lsn() is that record's end.
        var lsnTarget = PgTools.Pgwal(["archive", "show-target", "--repo", repo, "--timeline", "1", "--name", "before_accident", "--json"]);
        string beforeAccident = System.Text.Json.JsonDocument.Parse(lsnTarget.StdoutText).RootElement.GetProperty("stop_record_lsn").GetString()!;
        Assert.True(Lsn.TryParse(beforeAccident, out var rp));
        string target = (rp - 0x100).ToString();   // a little before the restore point: inside the WAL of the inserts
        var predicted = System.Text.Json.JsonDocument.Parse(PgTools.Pgwal(["archive", "show-target", "--repo", repo, "--timeline", "1", "--lsn", target, "--json"]).StdoutText).RootElement;
        string lsnRestore = Restore(dir, "restore-lsn");
        using (var r = ScratchCluster.StartExisting(lsnRestore, restoring + $"recovery_target_lsn = '{target}'\nrecovery_target_timeline = 'current'\nrecovery_target_action = 'pause'\n"))
        {
            r.WaitFor("SELECT pg_get_wal_replay_pause_state()", "paused", Patience);
            Assert.Equal(predicted.GetProperty("replayed_up_to").GetString(), r.Sql("SELECT pg_last_wal_replay_lsn()"));
            Assert.Contains(predicted.GetProperty("message").GetString()!, r.Log());
        }

        // Restore 2: the same backup, recovery_target_timeline = 'latest' (and get prefetching ahead): it must follow timeline 2.
        string second = Restore(dir, "restore2");
        Directory.CreateDirectory(dir.Combine("spool"));
        ScratchCluster.MakeShared(dir.Combine("spool"));
        string prefetching = $"restore_command = '{pgwal} archive get --repo {repo} --prefetch 4 --spool {dir.Combine("spool")} %f %p'\n";
        using var r2 = ScratchCluster.StartExisting(second, prefetching + "recovery_target_timeline = 'latest'\nrecovery_target_action = 'promote'\n");
        r2.WaitFor("SELECT pg_is_in_recovery()", "f", Patience);
        Assert.Equal("on timeline 2", r2.Sql("SELECT v FROM t WHERE id = 99999"));
        Assert.Equal("2001", r2.Sql("SELECT count(*) FROM t"));
        Assert.Equal("00000003", r2.Sql("SELECT substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8)"));
    }

    // A copy of the base backup, owned by the postgres user, set up for archive recovery.
    private static string Restore(TempDirectory dir, string name)
    {
        string target = dir.Combine(name);
        Assert.Equal(0, PgTools.Run("cp", ["-a", dir.Combine("backup"), target]).ExitCode);
        File.WriteAllText(Path.Combine(target, "recovery.signal"), "");
        return target;
    }
}
