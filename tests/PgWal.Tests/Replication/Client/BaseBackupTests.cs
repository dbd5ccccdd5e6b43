// BaseBackupTests: `pgwal basebackup` of a real PostgreSQL 15 under pgbench. Plain with -X stream
// and -R: real pg_verifybackup accepts it, and it starts as a PostgreSQL standby that has the
// primary's data and follows it. Tar (-Ft) with -X stream and -R: base.tar (with standby.signal and primary_conninfo), pg_wal.tar (bare segment
// names, full segments) and backup_manifest; extracted, pg_verifybackup accepts it. -X fetch: the
// WAL comes inside the archive, and the label reaches backup_label quoted correctly.
using PgWal.Tests.Infrastructure;

namespace PgWal.Tests.Replication.Client;

public sealed class BaseBackupTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(2);

    [Fact]
    public void Basebackup_PlainStreamWithRecoveryConfig_IsVerified_AndStartsAsAStandby()
    {
        using var dir = new TempDirectory("bbplain");
        using var pg = ClientCluster.Start(dir, "pg");
        ClientCluster.Pgbench(pg, 100, initialise: true);
        string backup = dir.Combine("backup");
        var run = PgTools.Pgwal(["basebackup", "-D", backup, "-X", "stream", "-c", "fast", "-R", "-P", "-v", "--manifest-checksums", "sha256", .. ClientCluster.ConnectionArgs(pg)]);
        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.Contains("created temporary replication slot \"pg_basebackup_", run.Stderr);
        Assert.Contains("tablespace", run.Stderr);   // the -P line
        Assert.True(File.Exists(Path.Combine(backup, "standby.signal")));
        Assert.Contains("primary_conninfo = '", File.ReadAllText(Path.Combine(backup, "postgresql.auto.conf")));
        Assert.Contains("\"Checksum-Algorithm\": \"SHA256\"", File.ReadAllText(Path.Combine(backup, "backup_manifest")));
        Assert.Equal("", pg.Sql("SELECT slot_name FROM pg_replication_slots"));   // the temporary slot is gone

        var verify = PgTools.Run(PgTools.Require("pg_verifybackup"), [backup]);
        Assert.True(verify.ExitCode == 0, verify.Stderr + verify.StdoutText);

        pg.Sql("CREATE TABLE after_backup AS SELECT 42 AS answer");
        Assert.Equal(0, PgTools.Run("chown", ["-R", "postgres", backup]).ExitCode);
        using var standby = ScratchCluster.StartExisting(backup, "");
        standby.WaitFor("SELECT pg_is_in_recovery()", "t", Patience);
        Assert.Equal(pg.Sql("SELECT count(*) FROM pgbench_accounts"), standby.Sql("SELECT count(*) FROM pgbench_accounts"));
        standby.WaitFor("SELECT answer FROM after_backup", "42", Patience);   // it streams from the primary
    }

    [Fact]
    public void Basebackup_TarStream_WritesBaseAndWalArchives_ThatVerifyOnceExtracted()
    {
        using var dir = new TempDirectory("bbtar");
        using var pg = ClientCluster.Start(dir, "pg");
        ClientCluster.Pgbench(pg, 100, initialise: true);
        string backup = dir.Combine("backup");
        var run = PgTools.Pgwal(["basebackup", "-D", backup, "-Ft", "-X", "stream", "-c", "fast", "-R", .. ClientCluster.ConnectionArgs(pg)]);
        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.Equal(["backup_manifest", "base.tar", "pg_wal.tar"], Directory.GetFileSystemEntries(backup).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        long walTar = new FileInfo(Path.Combine(backup, "pg_wal.tar")).Length;
        Assert.Equal(0, (walTar - 1024) % (512 + ClientCluster.SegmentSize));   // whole segments, and the trailer

        string extracted = dir.Combine("extracted");
        Directory.CreateDirectory(extracted);
        Assert.Equal(0, PgTools.Run("tar", ["-xf", Path.Combine(backup, "base.tar"), "-C", extracted]).ExitCode);
        Assert.Equal(0, PgTools.Run("tar", ["-xf", Path.Combine(backup, "pg_wal.tar"), "-C", Path.Combine(extracted, "pg_wal")]).ExitCode);
        File.Copy(Path.Combine(backup, "backup_manifest"), Path.Combine(extracted, "backup_manifest"));
        Assert.True(File.Exists(Path.Combine(extracted, "standby.signal")));   // -R, injected into base.tar
        Assert.Contains("primary_conninfo = '", File.ReadAllText(Path.Combine(extracted, "postgresql.auto.conf")));
        var verify = PgTools.Run(PgTools.Require("pg_verifybackup"), [extracted]);
        Assert.True(verify.ExitCode == 0, verify.Stderr + verify.StdoutText);
    }

    [Fact]
    public void Basebackup_PlainFetch_HasTheWalInsideAndIsVerified()
    {
        using var dir = new TempDirectory("bbfetch");
        using var pg = ClientCluster.Start(dir, "pg");
        pg.Sql("CREATE TABLE t AS SELECT g FROM generate_series(1, 10000) g");
        string backup = dir.Combine("backup");
        var run = PgTools.Pgwal(["basebackup", "-D", backup, "-X", "fetch", "-c", "fast", "-l", "it's mine", .. ClientCluster.ConnectionArgs(pg)]);
        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.Contains("LABEL: it's mine", File.ReadAllText(Path.Combine(backup, "backup_label")));
        Assert.NotEmpty(Directory.GetFiles(Path.Combine(backup, "pg_wal", "archive_status"), "*.done"));
        var verify = PgTools.Run(PgTools.Require("pg_verifybackup"), [backup]);
        Assert.True(verify.ExitCode == 0, verify.Stderr + verify.StdoutText);
    }

    [Fact]
    public void Basebackup_IntoANonEmptyDirectory_IsRefused()
    {
        using var dir = new TempDirectory("bbfull");
        using var pg = ClientCluster.Start(dir, "pg");
        File.WriteAllText(dir.Combine("junk"), "x");
        var run = PgTools.Pgwal(["basebackup", "-D", dir.Path, .. ClientCluster.ConnectionArgs(pg)]);
        Assert.NotEqual(0, run.ExitCode);
        Assert.Contains("exists but is not empty", run.Stderr);
    }
}
