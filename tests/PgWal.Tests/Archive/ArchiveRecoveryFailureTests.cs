// ArchiveRecoveryFailureTests: archive recovery stops with an error naming the file, LSN or setting,
// and opens nothing, when the target is never reached, a segment in the middle of the archive is
// missing, an archived file has a flipped bit, a history file is garbage, or a setting is bad;
// recovery_target_action shutdown (and pause) stop at the target, leave pg_control "shut down in
// recovery" and stop there again on the next open; restore_command runs as PostgreSQL runs it.
// Also the history file's bytes, against what PostgreSQL 15 wrote in the reference runs.
using System.Text;
using PgWal.Archive;
using PgWal.Format;
using PgWal.Kv;
using PgWal.Recovery;
using PgWal.Tests.Infrastructure;
using PgWal.Timelines;

namespace PgWal.Tests.Archive;

public sealed class ArchiveRecoveryFailureTests
{
    private const int SegmentSize = 1 << 20;
    private static readonly WalGeometry Geometry = new(SegmentSize);

    private static KvOptions Options(WalInstanceOptions instance) => new()
    {
        Init = new WalInitOptions { SegmentSize = SegmentSize },
        Instance = instance with { SharedBuffers = 256 },
    };

    // A store that archived a backup and ~4 segments of later WAL into a repository.
    private static (string Backup, WalRepository Repo, KvCommit Last) Archived(TempDirectory dir)
    {
        var repo = WalRepository.Create(dir.Combine("repo"), ArchiveCodec.Zstd);
        string backup = dir.Combine("backup");
        using var store = KvStore.Open(dir.Combine("primary"), Options(new WalInstanceOptions { ArchiveMode = ArchiveMode.On, ArchiveModule = new RepositoryArchiveModule(repo) }));
        store.Put("a"u8, "before the backup"u8);
        store.Backup(backup);
        for (int i = 0; store.Instance.Wal.InsertedUpTo.Value < 7UL * SegmentSize; i++)
            store.Put(Encoding.UTF8.GetBytes($"key{i % 500}"), new byte[1500]);
        store.CreateRestorePoint("late");
        return (backup, repo, store.LastCommit!);
    }

    private static string Copy(TempDirectory dir, string backup, string name, string? conf = null)
    {
        string target = dir.Combine(name);
        PgWal.Cli.Common.DirectoryCopy.Copy(backup, target);
        File.WriteAllText(Path.Combine(target, "recovery.signal"), "");
        if (conf != null)
            File.WriteAllText(Path.Combine(target, "postgresql.auto.conf"), conf);
        return target;
    }

    private static ArchiveRecoveryOptions From(WalRepository repo, RecoveryTarget? target = null, RecoveryTargetAction action = RecoveryTargetAction.Promote)
        => new() { Restorer = new RepositoryRestorer(repo), Target = target, Action = action };

    private static RecoveryException Refused(string directory, ArchiveRecoveryOptions? recovery)
    {
        var e = Assert.ThrowsAny<RecoveryException>(() => KvStore.Open(directory, Options(new WalInstanceOptions { ArchiveRecovery = recovery })).Dispose());
        Assert.True(File.Exists(Path.Combine(directory, "recovery.signal")), "recovery.signal must stay: nothing was decided");
        return e;
    }

    [Fact]
    public void TargetNeverReached_MissingMiddleSegment_BitFlip_AndGarbageHistory_EachStopWithAPreciseError()
    {
        using var dir = new TempDirectory("arfail");
        var (backup, repo, last) = Archived(dir);

        var e1 = Refused(Copy(dir, backup, "unreached"), From(repo, new RecoveryTarget(RecoveryTargetKind.Name, Name: "no such point")));
        Assert.Contains("recovery ended before configured recovery target was reached", e1.Message);
        Assert.Contains("restore point \"no such point\"", e1.Message);

        // A segment missing in the middle: replay ends there, before the target, and says which file.
        string middle = SegmentFileName.Format(TimelineId.First, new SegmentNumber(5), Geometry);
        string aside = dir.Combine("aside");
        File.Move(repo.PathOf(ArchiveNames.Of(middle)), aside);
        var e2 = Refused(Copy(dir, backup, "hole"), From(repo, new RecoveryTarget(RecoveryTargetKind.Xid, Xid: last.Xid)));
        Assert.Contains("recovery ended before configured recovery target was reached", e2.Message);
        Assert.Contains(middle, e2.Message);
        File.Move(aside, repo.PathOf(ArchiveNames.Of(middle)));

        // A bit flipped in an archived segment: an error naming it, not an early end of WAL.
        string path = repo.PathOf(ArchiveNames.Of(middle));
        var bytes = File.ReadAllBytes(path);
        bytes[bytes.Length / 2] ^= 0x10;
        File.WriteAllBytes(path, bytes);
        var e3 = Refused(Copy(dir, backup, "flip"), From(repo, new RecoveryTarget(RecoveryTargetKind.Xid, Xid: last.Xid)));
        Assert.DoesNotContain("recovery ended before", e3.Message);
        Assert.Contains(middle, e3.Message);
        bytes[bytes.Length / 2] ^= 0x10;
        File.WriteAllBytes(path, bytes);

        // A garbage history file for the timeline asked for.
        string garbage = dir.Combine("00000002.history");
        File.WriteAllText(garbage, "this is not\ta history file\n");
        repo.Push(garbage, ArchiveNames.Of("00000002.history"));
        var e4 = Refused(Copy(dir, backup, "history"), From(repo, new RecoveryTarget(RecoveryTargetKind.Xid, Xid: last.Xid)) with { TargetTimeline = RecoveryTimeline.Of(2) });
        Assert.Contains("syntax error in history file \"00000002.history\"", e4.Message);
        var e5 = Refused(Copy(dir, backup, "notl"), From(repo) with { TargetTimeline = RecoveryTimeline.Of(9) });
        Assert.Contains("recovery target timeline 9 does not exist", e5.Message);

        // With the archive whole again and timeline 1 pinned, the same target is reached.
        using var store = KvStore.Open(Copy(dir, backup, "ok"), Options(new WalInstanceOptions
        {
            ArchiveRecovery = From(repo, new RecoveryTarget(RecoveryTargetKind.Xid, Xid: last.Xid)) with { TargetTimeline = RecoveryTimeline.Current },
        }));
        Assert.Equal("before the backup", Encoding.UTF8.GetString(store.Get("a"u8)!));
        Assert.Contains($"after commit of transaction {last.Xid}", store.Instance.Recovery.StopMessage);
    }

    [Theory]
    [InlineData("recovery_target_lsn = 'zzz'\n", "invalid value for parameter \"recovery_target_lsn\": \"zzz\"")]
    [InlineData("recovery_target_time = 'now'\n", "invalid value for parameter \"recovery_target_time\": \"now\"")]
    [InlineData("recovery_target = 'soon'\n", "invalid value for parameter \"recovery_target\"")]
    [InlineData("recovery_target_timeline = 'newest'\n", "invalid value for parameter \"recovery_target_timeline\"")]
    [InlineData("recovery_target_xid = '5'\nrecovery_target_name = 'x'\n", "multiple recovery targets specified")]
    [InlineData("recovery_target_name = 'x'\n", "must specify restore_command")]
    public void BadSettings_InTheConfigurationFile_AreNamed(string conf, string expected)
    {
        using var dir = new TempDirectory("arconf");
        string data = dir.Combine("d");
        using (KvStore.Open(data, Options(new WalInstanceOptions())))
        {
        }
        File.WriteAllText(Path.Combine(data, "recovery.signal"), "");
        File.WriteAllText(Path.Combine(data, "postgresql.conf"), (conf.Contains("restore_command") || expected.Contains("restore_command") ? "" : "restore_command = 'false'\n") + conf);
        var e = Refused(data, null);
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void ActionShutdown_StopsAtTheTargetAgainAndAgain_AndRestoreCommandFromPostgresqlConf_Works()
    {
        using var dir = new TempDirectory("arshut");
        var (backup, repo, last) = Archived(dir);
        string pgwal = $"{ScratchCluster.DotnetHost} {Path.Combine(AppContext.BaseDirectory, "pgwal.dll")}";
        string conf = $"restore_command = '{pgwal} archive get --repo {repo.Path} %f %p'\nrecovery_target_name = 'late'\nrecovery_target_action = 'shutdown'\n";
        string data = Copy(dir, backup, "shut", conf);
        for (int i = 0; i < 2; i++)
        {
            var e = Assert.Throws<RecoveryTargetReachedException>(() => KvStore.Open(data, Options(new WalInstanceOptions())).Dispose());
            Assert.Contains("shutdown at recovery target: recovery stopping at restore point \"late\"", e.Message);
            Assert.True(e.Result.FilesRestored > 3);
            var controldata = PgTools.Run(PgTools.Require("pg_controldata"), ["-D", data]).StdoutText;
            Assert.Contains("Database cluster state:               shut down in recovery", controldata);
            Assert.True(File.Exists(Path.Combine(data, "recovery.signal")));
        }
        File.AppendAllText(Path.Combine(data, "postgresql.auto.conf"), "recovery_target_action = 'promote'\n");
        var recover = PgTools.Pgwal(["recover", "-D", data, "--json", "-q"]);
        Assert.True(recover.ExitCode == 0, recover.Stderr);
        var json = System.Text.Json.JsonDocument.Parse(recover.StdoutText.Trim().Split('\n')[^1]).RootElement;
        Assert.True(json.GetProperty("archive_recovery").GetBoolean());
        Assert.Equal(2, json.GetProperty("new_timeline").GetInt32());
        Assert.StartsWith("recovery stopping at restore point \"late\"", json.GetProperty("stop").GetString());
        using var store = KvStore.Open(data, Options(new WalInstanceOptions()));
        Assert.Equal(new TimelineId(2), store.Instance.ControlFile.CheckPointCopy.ThisTimeline);
        Assert.Equal("before the backup", Encoding.UTF8.GetString(store.Get("a"u8)!));
        _ = last;
    }

    [Fact]
    public void ArchiveRecoveryToTheEndOfPgWal_WithArchivingOn_EndsTheOldTimelineAsPartial_AndArchivesItWithTheHistoryFile()
    {
        using var dir = new TempDirectory("arpartial");
        string data = dir.Combine("data");
        var store = KvStore.Open(data, Options(new WalInstanceOptions()));
        for (int i = 0; store.Instance.Wal.InsertedUpTo.Value < 3UL * SegmentSize + 5000; i++)
            store.Put(Encoding.UTF8.GetBytes($"key{i}"), new byte[700]);
        store.Put("last"u8, "acknowledged"u8);
        Lsn end = store.Instance.Wal.InsertedUpTo;
        store.Instance.Abandon();   // a crash; its WAL never archived (archiving was off)

        // Archive recovery with an archive that has nothing (restore_command 'false'): the WAL in
        // pg_wal is replayed to its end, then timeline 2 begins, and with archiving now on the old
        // timeline's last segment, which nobody archived, becomes .partial and is archived.
        var repo = WalRepository.Create(dir.Combine("repo"), ArchiveCodec.Lz4);
        File.WriteAllText(Path.Combine(data, "recovery.signal"), "");
        var options = new WalInstanceOptions
        {
            ArchiveRecovery = new ArchiveRecoveryOptions { RestoreCommand = "false" },
            ArchiveMode = ArchiveMode.On, ArchiveModule = new RepositoryArchiveModule(repo),
        };
        string last = SegmentFileName.Format(TimelineId.First, Geometry.SegmentOf(end), Geometry);
        // A target inside the WAL the crashed directory already had is refused: its pages may hold
        // changes from after it (PostgreSQL: "requested recovery stop point is before consistent
        // recovery point"); so is 'immediate', which would stop at once.
        foreach (var early in new[] { new RecoveryTarget(RecoveryTargetKind.Lsn, Lsn: end - 100000), new RecoveryTarget(RecoveryTargetKind.Immediate) })
        {
            var tooEarly = options with { ArchiveRecovery = options.ArchiveRecovery! with { Target = early, Action = RecoveryTargetAction.Promote } };
            var e = Assert.ThrowsAny<RecoveryException>(() => KvStore.Open(data, Options(tooEarly)).Dispose());
            Assert.Contains(early.Kind == RecoveryTargetKind.Immediate ? "recovery ended before configured recovery target was reached" : "before consistent recovery point", e.Message);
        }
        using (var recovered = KvStore.Open(data, Options(options)))
        {
            Assert.Equal(new TimelineId(2), recovered.Instance.Recovery.NewTimeline);
            Assert.Null(recovered.Instance.Recovery.StopMessage);
            Assert.Equal("acknowledged", Encoding.UTF8.GetString(recovered.Get("last"u8)!));
            // (checked while open: once archived, a later checkpoint may remove them)
            Assert.True(File.Exists(Path.Combine(data, "pg_wal", SegmentFileName.Format(new TimelineId(2), Geometry.SegmentOf(end), Geometry))));
            Assert.True(File.Exists(Path.Combine(data, "pg_wal", last + ".partial")));
            Assert.False(File.Exists(Path.Combine(data, "pg_wal", last)));
            Assert.False(File.Exists(Path.Combine(data, "recovery.signal")));
        }
        Assert.Matches("^1\t[0-9A-F]+/[0-9A-F]+\tno recovery target specified\n$", File.ReadAllText(Path.Combine(data, "pg_wal", "00000002.history")));
        var archived = repo.List().SelectMany(t => t.Files).Select(f => f.Name.Name).ToList();
        Assert.Contains("00000002.history", archived);
        Assert.Contains(last + ".partial", archived);
    }

    [Fact]
    public void HistoryFiles_HavePostgreSqlsBytes_ForTheReferenceRuns()
    {
        // s1: xid 730 on timeline 1, 34 bytes.
        string s1 = TimelineHistory.NewFileText(null, TimelineId.First, new Lsn(0x8008B20), "after transaction 730");
        Assert.Equal("1\t0/8008B20\tafter transaction 730\n", s1);
        Assert.Equal(34, s1.Length);
        // s2: a restore point on timeline 2 that lies before timeline 2's fork: written anyway.
        string s2 = TimelineHistory.NewFileText(s1, new TimelineId(2), new Lsn(0x8008AB8), "at restore point \"rp1\"");
        Assert.Equal("1\t0/8008B20\tafter transaction 730\n\n2\t0/8008AB8\tat restore point \"rp1\"\n", s2);
        // s4: an LSN reason carries its own newline in 15.
        Assert.Equal("1\t0/8008BC8\tafter LSN 0/8008B88\n\n", TimelineHistory.NewFileText(null, TimelineId.First, new Lsn(0x8008BC8), "after LSN 0/8008B88\n"));
        var parsed = TimelineHistory.Parse(s2, new TimelineId(3), "00000003.history");
        Assert.Equal(new TimelineId(1), parsed.TimelineOf(new Lsn(0x3000000)));
        Assert.Equal(new TimelineId(3), parsed.TimelineOf(new Lsn(0x9000000)));
        Assert.Throws<InvalidDataException>(() => TimelineHistory.Parse("2\t0/1\tx\n1\t0/2\ty\n", new TimelineId(3), "h"));
        Assert.Throws<InvalidDataException>(() => TimelineHistory.Parse("1\t0/1\tx\n", TimelineId.First, "h"));
        Assert.Equal(2, TimelineHistory.Parse("# comment\n\n  1\t0/1\tx\n", new TimelineId(2), "h").Entries.Count);
    }
}
