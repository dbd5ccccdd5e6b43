// ReceiveWalTests: `pgwal receivewal` against a real PostgreSQL 15 running pgbench. Its completed
// segments are byte-identical to the server's pg_wal and pg_waldump 15 walks them; with --repo the
// archive repository holds the same bytes; with a slot, kill -9 and a restart lose nothing (the
// segments form an unbroken run); -E stops by itself with exit 0; -Z gzip writes .gz files that
// decompress to the server's segments and resume from a .gz.partial; a server restart is a
// disconnect that is retried, with no gap.
using PgWal.Archive;
using PgWal.Format;
using PgWal.Tests.Infrastructure;

namespace PgWal.Tests.Replication.Client;

public sealed class ReceiveWalTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    [Fact]
    public void ReceiveWal_FromPgbench_SegmentsEqualTheServersAndTheRepositorys_AndWaldumpWalksThem()
    {
        using var dir = new TempDirectory("rcvwal");
        using var pg = ClientCluster.Start(dir, "pg");
        string output = dir.Combine("out");
        Directory.CreateDirectory(output);
        var repo = WalRepository.Create(dir.Combine("repo"), ArchiveCodec.None);
        using var receiver = new BackgroundPgwal(["receivewal", "-D", output, "-v", "--repo", repo.Path, .. ClientCluster.ConnectionArgs(pg)]);
        WaitForStreaming(output, receiver);

        ClientCluster.Pgbench(pg, 300, initialise: true);
        string last = pg.Sql("SELECT pg_walfile_name(pg_switch_wal())");
        ClientCluster.WaitForFile(Path.Combine(output, last), receiver, Patience);
        Assert.Equal(0, receiver.Interrupt(Patience));

        var received = SegmentFiles.In(output);
        Assert.True(received.Length >= 3, $"only {received.Length} segments:\n{receiver.Stderr}");
        foreach (var file in received)
        {
            string name = Path.GetFileName(file);
            byte[] ours = File.ReadAllBytes(file);
            Assert.Equal(File.ReadAllBytes(Path.Combine(pg.DataDirectory, "pg_wal", name)), ours);
            Assert.True(ArchivedFileName.TryParse(name, out var archived) is null);
            Assert.Equal(ours, repo.TryRead(archived));
        }
        Assert.Contains($"finished segment at", receiver.Stderr);

        var dump = PgTools.Waldump(["-p", output, Path.GetFileName(received[0]), last]);
        Assert.True(dump.ExitCode == 0, dump.Stderr);
        Assert.Contains("SWITCH", dump.StdoutText);
        Assert.Contains("rmgr: Heap", dump.StdoutText);
    }

    [Fact]
    public void ReceiveWal_WithSlot_KilledHardAndRestarted_LosesNothing()
    {
        using var dir = new TempDirectory("rcvslot");
        using var pg = ClientCluster.Start(dir, "pg");
        string output = dir.Combine("out");
        Directory.CreateDirectory(output);
        var create = PgTools.Pgwal(["receivewal", "--create-slot", "-S", "keeper", .. ClientCluster.ConnectionArgs(pg)]);
        Assert.True(create.ExitCode == 0, create.Stderr);
        Assert.Equal("keeper|physical", pg.Sql("SELECT slot_name, slot_type FROM pg_replication_slots"));
        string[] args = ["receivewal", "-D", output, "-S", "keeper", "-v", "-s", "1", .. ClientCluster.ConnectionArgs(pg)];

        using (var first = new BackgroundPgwal(args))
        {
            WaitForStreaming(output, first);
            ClientCluster.Pgbench(pg, 200, initialise: true);
            string switched = pg.Sql("SELECT pg_walfile_name(pg_switch_wal())");
            ClientCluster.WaitForFile(Path.Combine(output, switched), first, Patience);
            ClientCluster.Pgbench(pg, 100, initialise: false);   // some of this is in a .partial when the receiver dies
            Thread.Sleep(300);
            first.KillHard();
        }
        // While nobody streams: more WAL, and a checkpoint that would remove what the slot protects.
        ClientCluster.Pgbench(pg, 200, initialise: false);
        pg.Sql("CHECKPOINT");
        string last = pg.Sql("SELECT pg_walfile_name(pg_switch_wal())");

        using (var second = new BackgroundPgwal(args))
        {
            ClientCluster.WaitForFile(Path.Combine(output, last), second, Patience);
            Assert.Equal(0, second.Interrupt(Patience));
        }
        var geometry = new WalGeometry(ClientCluster.SegmentSize);
        var segments = SegmentFiles.In(output).Select(f =>
        {
            Assert.True(SegmentFileName.TryParse(Path.GetFileName(f), geometry, out _, out var segment));
            return segment.Value;
        }).ToArray();
        for (int i = 1; i < segments.Length; i++)
            Assert.Equal(segments[i - 1] + 1, segments[i]);   // no gap
        Assert.Equal(Path.GetFileName(SegmentFiles.In(output)[^1]), last);
        foreach (var file in SegmentFiles.In(output))
        {
            string theirs = Path.Combine(pg.DataDirectory, "pg_wal", Path.GetFileName(file));
            if (File.Exists(theirs))
                Assert.Equal(File.ReadAllBytes(theirs), File.ReadAllBytes(file));
        }
        Assert.NotEqual("", pg.Sql("SELECT restart_lsn FROM pg_replication_slots WHERE slot_name = 'keeper'"));
        var drop = PgTools.Pgwal(["receivewal", "--drop-slot", "-S", "keeper", .. ClientCluster.ConnectionArgs(pg)]);
        Assert.True(drop.ExitCode == 0, drop.Stderr);
        Assert.Equal("", pg.Sql("SELECT slot_name FROM pg_replication_slots"));
    }

    [Fact]
    public void ReceiveWal_WithEndPosition_StopsByItself()
    {
        using var dir = new TempDirectory("rcvend");
        using var pg = ClientCluster.Start(dir, "pg");
        string output = dir.Combine("out");
        Directory.CreateDirectory(output);
        string end = pg.Sql("SELECT pg_current_wal_flush_lsn()");
        using var receiver = new BackgroundPgwal(["receivewal", "-D", output, "-E", end, "-n", .. ClientCluster.ConnectionArgs(pg)]);
        WaitForStreaming(output, receiver);
        pg.Sql("CREATE TABLE t AS SELECT g FROM generate_series(1, 20000) g");   // WAL past the end position
        Assert.Equal(0, receiver.WaitForExit(Patience));
        Assert.Single(Directory.GetFiles(output, "*.partial"));
    }

    [Fact]
    public void ReceiveWal_FromAStandbyThatIsPromoted_FollowsTheNewTimeline()
    {
        using var dir = new TempDirectory("rcvtli");
        using var primary = ClientCluster.Start(dir, "primary");
        primary.Sql("CREATE TABLE t AS SELECT g FROM generate_series(1, 1000) g");
        string standbyData = dir.Combine("standby");
        var backup = PgTools.Pgwal(["basebackup", "-D", standbyData, "-X", "stream", "-c", "fast", "-R", .. ClientCluster.ConnectionArgs(primary)]);
        Assert.True(backup.ExitCode == 0, backup.Stderr);
        Assert.Equal(0, PgTools.Run("chown", ["-R", "postgres", standbyData]).ExitCode);
        using var standby = ScratchCluster.StartExisting(standbyData, "");
        standby.WaitFor("SELECT pg_is_in_recovery()", "t", Patience);

        string output = dir.Combine("out");
        Directory.CreateDirectory(output);
        using var receiver = new BackgroundPgwal(["receivewal", "-D", output, "-v", .. ClientCluster.ConnectionArgs(standby)]);
        WaitForStreaming(output, receiver);
        primary.Sql("INSERT INTO t SELECT g FROM generate_series(1, 5000) g");
        string lsn = primary.Sql("SELECT pg_current_wal_flush_lsn()");
        standby.WaitFor($"SELECT pg_last_wal_replay_lsn() >= '{lsn}'", "t", Patience);

        standby.Sql("SELECT pg_promote()");
        standby.WaitFor("SELECT pg_is_in_recovery()", "f", Patience);
        standby.Sql("INSERT INTO t SELECT g FROM generate_series(1, 5000) g");
        string last = standby.Sql("SELECT pg_walfile_name(pg_switch_wal())");
        Assert.StartsWith("00000002", last);
        ClientCluster.WaitForFile(Path.Combine(output, last), receiver, Patience);
        Assert.Equal(0, receiver.Interrupt(Patience));

        Assert.Contains("switched to timeline 2 at", receiver.Stderr);
        Assert.DoesNotContain("disconnected", receiver.Stderr);   // the end of timeline 1 is an end of stream, not a failure
        Assert.Equal(File.ReadAllBytes(Path.Combine(standbyData, "pg_wal", "00000002.history")), File.ReadAllBytes(Path.Combine(output, "00000002.history")));
        Assert.Contains(Directory.GetFiles(output), f => Path.GetFileName(f).StartsWith("00000001", StringComparison.Ordinal) && f.EndsWith(".partial", StringComparison.Ordinal));
        Assert.Equal(File.ReadAllBytes(Path.Combine(standbyData, "pg_wal", last)), File.ReadAllBytes(Path.Combine(output, last)));
    }

    [Fact]
    public void ReceiveWal_ReportsFlushOnlyWhenSynchronous()
    {
        using var dir = new TempDirectory("rcvflush");
        using var pg = ClientCluster.Start(dir, "pg");
        string plainOut = dir.Combine("plain"), syncOut = dir.Combine("sync");
        Directory.CreateDirectory(plainOut);
        Directory.CreateDirectory(syncOut);
        using var plain = new BackgroundPgwal(["receivewal", "-D", plainOut, "-s", "1", "-d", "application_name=plainrcv", .. ClientCluster.ConnectionArgs(pg)]);
        using var synchronous = new BackgroundPgwal(["receivewal", "-D", syncOut, "--synchronous", "-d", "application_name=syncrcv", .. ClientCluster.ConnectionArgs(pg)]);
        WaitForStreaming(plainOut, plain);
        WaitForStreaming(syncOut, synchronous);
        pg.Sql("CREATE TABLE t AS SELECT g FROM generate_series(1, 1000) g");
        string lsn = pg.Sql("SELECT pg_current_wal_flush_lsn()");
        // --synchronous: flush = write, reported at once, past the new WAL.
        pg.WaitFor($"SELECT flush_lsn >= '{lsn}' AND flush_lsn = write_lsn FROM pg_stat_replication WHERE application_name = 'syncrcv'", "t", Patience);
        // Without a slot or --synchronous: write is reported, flush never (it must not count as durable).
        pg.WaitFor($"SELECT write_lsn >= '{lsn}', flush_lsn IS NULL FROM pg_stat_replication WHERE application_name = 'plainrcv'", "t|t", Patience);
        Assert.Equal(0, plain.Interrupt(Patience));
        Assert.Equal(0, synchronous.Interrupt(Patience));
    }

    [Fact]
    public void ReceiveWal_Gzip_WritesGzFilesThatDecompressToTheServersSegments_AndResumes()
    {
        using var dir = new TempDirectory("rcvgz");
        using var pg = ClientCluster.Start(dir, "pg");
        string output = dir.Combine("out");
        Directory.CreateDirectory(output);
        string[] args = ["receivewal", "-D", output, "-Z", "gzip:3", "-v", .. ClientCluster.ConnectionArgs(pg)];
        string last;
        using (var receiver = new BackgroundPgwal(args))
        {
            var deadline = DateTime.UtcNow + Patience;
            while (Directory.GetFiles(output, "*.gz.partial").Length == 0)
            {
                Assert.True(!receiver.HasExited && DateTime.UtcNow < deadline, receiver.Stderr);
                Thread.Sleep(100);
            }
            ClientCluster.Pgbench(pg, 100, initialise: true);
            last = pg.Sql("SELECT pg_walfile_name(pg_switch_wal())");
            ClientCluster.WaitForFile(Path.Combine(output, last + ".gz"), receiver, Patience);
            pg.Sql("CREATE TABLE t AS SELECT g FROM generate_series(1, 1000) g");   // a .gz.partial in progress
            Thread.Sleep(500);
            Assert.Equal(0, receiver.Interrupt(Patience));
        }
        // A restart resumes at the start of the partial segment and completes it.
        string next = pg.Sql("SELECT pg_walfile_name(pg_switch_wal())");
        using (var again = new BackgroundPgwal(args))
        {
            ClientCluster.WaitForFile(Path.Combine(output, next + ".gz"), again, Patience);
            Assert.Equal(0, again.Interrupt(Patience));
        }
        var completed = Directory.GetFiles(output, "*.gz").Order(StringComparer.Ordinal).ToArray();
        Assert.True(completed.Length >= 3, string.Join(", ", completed));
        foreach (var file in completed)
        {
            using var gzip = new System.IO.Compression.GZipStream(File.OpenRead(file), System.IO.Compression.CompressionMode.Decompress);
            var bytes = new MemoryStream();
            gzip.CopyTo(bytes);
            string name = Path.GetFileName(file)[..24];
            Assert.Equal(File.ReadAllBytes(Path.Combine(pg.DataDirectory, "pg_wal", name)), bytes.ToArray());
        }
    }

    [Fact]
    public void ReceiveWal_WhenTheServerRestarts_ReconnectsAndContinuesWithoutAGap()
    {
        using var dir = new TempDirectory("rcvrestart");
        using var pg = ClientCluster.Start(dir, "pg");
        string output = dir.Combine("out");
        Directory.CreateDirectory(output);
        using var receiver = new BackgroundPgwal(["receivewal", "-D", output, "-v", .. ClientCluster.ConnectionArgs(pg)]);
        WaitForStreaming(output, receiver);
        pg.Sql("CREATE TABLE t AS SELECT g FROM generate_series(1, 20000) g");
        // A fast shutdown ends streaming with CommandComplete "COPY 0" (§3.4): a disconnect, then retries.
        var restart = ScratchCluster.AsPostgres(PgTools.Require("pg_ctl"), ["-D", pg.DataDirectory, "-m", "fast", "-w", "-l", pg.LogFile, "restart"]);
        Assert.True(restart.ExitCode == 0, restart.Stderr);
        pg.Sql("INSERT INTO t SELECT g FROM generate_series(1, 20000) g");
        string last = pg.Sql("SELECT pg_walfile_name(pg_switch_wal())");
        ClientCluster.WaitForFile(Path.Combine(output, last), receiver, Patience);
        Assert.Equal(0, receiver.Interrupt(Patience));
        Assert.Contains("disconnected; waiting 5 seconds to try again", receiver.Stderr);
        var files = SegmentFiles.In(output);
        var geometry = new WalGeometry(ClientCluster.SegmentSize);
        var numbers = files.Select(f => SegmentFileName.TryParse(Path.GetFileName(f), geometry, out _, out var n) ? n.Value : 0).ToArray();
        for (int i = 1; i < numbers.Length; i++)
            Assert.Equal(numbers[i - 1] + 1, numbers[i]);
        int compared = 0;
        foreach (var file in files)
        {
            // The shutdown checkpoint removed or recycled the older segments; the rest must be equal.
            string theirs = Path.Combine(pg.DataDirectory, "pg_wal", Path.GetFileName(file));
            if (string.CompareOrdinal(Path.GetFileName(file), last) > 0 || !File.Exists(theirs))
                continue;
            Assert.Equal(File.ReadAllBytes(theirs), File.ReadAllBytes(file));
            compared++;
        }
        Assert.True(compared >= 1);
        Assert.Equal(last, Path.GetFileName(files[^1]));
    }

    private static void WaitForStreaming(string output, BackgroundPgwal receiver)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (Directory.GetFiles(output, "*.partial").Length == 0)
        {
            if (receiver.HasExited || DateTime.UtcNow > deadline)
                Assert.Fail($"pgwal receivewal did not start streaming:\n{receiver.Stderr}");
            Thread.Sleep(100);
        }
    }
}
