// PointInTimeRecoveryTests: the PITR model test on PgWal.Kv. A store archives into a repository
// (in-process), a base backup is taken, then a workload of puts, deletes and batches runs with an
// acknowledgement log: each commit's xid, time and commit-record LSN, the model after it, and
// restore points. For random targets of every kind, inclusive and exclusive, a copy of the backup
// with recovery.signal recovers from the repository and promotes; the restored store must equal
// the model at that target exactly. Then a second PITR from the same backup, after the first
// one's timeline was archived, follows it (latest) onto a third timeline.
using System.Text;
using PgWal.Archive;
using PgWal.Diagnostics;
using PgWal.Format;
using PgWal.Kv;
using PgWal.Recovery;
using PgWal.Tests.Infrastructure;
using PgWal.Timelines;

namespace PgWal.Tests.Archive;

public sealed class PointInTimeRecoveryTests
{
    private const int SegmentSize = 1 << 20;

    private sealed record Step(KvCommit? Commit, string? RestorePoint, SortedDictionary<string, string> Model);

    private static KvOptions Options(WalInstanceOptions instance) => new()
    {
        Init = new WalInitOptions { SegmentSize = SegmentSize },
        Instance = instance with { SharedBuffers = 256, MaxWalSize = 4 * SegmentSize, MinWalSize = 2 * SegmentSize },
    };

    private static Dictionary<string, string> Contents(KvStore store)
        => store.Scan().ToDictionary(p => Encoding.UTF8.GetString(p.Key), p => Encoding.UTF8.GetString(p.Value));

    // Runs the workload on a fresh store archiving into `repo`; returns the backup directory and the log.
    private static (string Backup, List<Step> Log) Workload(TempDirectory dir, WalRepository repo, int seed, int operations)
    {
        var random = new Random(seed);
        string data = dir.Combine("primary"), backup = dir.Combine("backup");
        var log = new List<Step>();
        var model = new SortedDictionary<string, string>(StringComparer.Ordinal);
        var archiving = new WalInstanceOptions { ArchiveMode = ArchiveMode.On, ArchiveModule = new RepositoryArchiveModule(repo) };
        using (var store = KvStore.Open(data, Options(archiving)))
        {
            for (int i = 0; i < 200; i++)
            {
                string k = $"k{i:D4}", v = $"initial {i}";
                store.Put(Encoding.UTF8.GetBytes(k), Encoding.UTF8.GetBytes(v));
                model[k] = v;
            }
            store.Backup(backup);
            log.Add(new Step(null, null, new(model, StringComparer.Ordinal)));
            for (int op = 0; op < operations; op++)
            {
                int kind = random.Next(10);
                if (kind == 0)
                {
                    string name = $"rp-{op}";
                    store.CreateRestorePoint(name);
                    log.Add(new Step(null, name, new(model, StringComparer.Ordinal)));
                    continue;
                }
                if (kind <= 2)
                {
                    // A batch: several puts and a delete, one commit.
                    var batch = new WriteBatch();
                    for (int j = 0; j < 4; j++)
                    {
                        string k = $"k{random.Next(400):D4}", v = $"batch {op}.{j} " + new string('b', random.Next(300));
                        batch.Put(Encoding.UTF8.GetBytes(k), Encoding.UTF8.GetBytes(v));
                        model[k] = v;
                    }
                    string gone = $"k{random.Next(400):D4}";
                    batch.Delete(Encoding.UTF8.GetBytes(gone));
                    model.Remove(gone);
                    store.Write(batch);
                }
                else if (kind <= 4)
                {
                    string k = $"k{random.Next(400):D4}";
                    if (!store.Delete(Encoding.UTF8.GetBytes(k)))
                        continue;    // nothing committed
                    model.Remove(k);
                }
                else
                {
                    string k = $"k{random.Next(400):D4}", v = $"put {op} " + new string('p', random.Next(2000));
                    store.Put(Encoding.UTF8.GetBytes(k), Encoding.UTF8.GetBytes(v));
                    model[k] = v;
                }
                log.Add(new Step(store.LastCommit, null, new(model, StringComparer.Ordinal)));
            }
        }
        return (backup, log);
    }

    private static string Restore(TempDirectory dir, string backup, string name)
    {
        string target = dir.Combine(name);
        PgWal.Cli.Common.DirectoryCopy.Copy(backup, target);
        File.WriteAllText(Path.Combine(target, "recovery.signal"), "");
        return target;
    }

    [Fact]
    public void RandomTargetsOfEveryKind_RestoreExactlyTheModelAtTheTarget_ThenASecondPitrFollowsTheFirstOntoATimelineThree()
    {
        using var dir = new TempDirectory("pitr");
        var repo = WalRepository.Create(dir.Combine("repo"), ArchiveCodec.Lz4);
        var (backup, log) = Workload(dir, repo, seed: 7, operations: 260);
        var commits = Enumerable.Range(0, log.Count).Where(i => log[i].Commit != null).ToList();
        var points = Enumerable.Range(0, log.Count).Where(i => log[i].RestorePoint != null).ToList();
        Assert.True(commits.Count > 150 && points.Count > 5, $"{commits.Count} commits, {points.Count} restore points");
        var random = new Random(11);
        int run = 0;
        foreach (var kind in new[] { RecoveryTargetKind.Xid, RecoveryTargetKind.Time, RecoveryTargetKind.Lsn, RecoveryTargetKind.Name })
        {
            foreach (bool inclusive in new[] { true, false })
            {
                for (int n = 0; n < 2; n++)
                {
                    int at = kind == RecoveryTargetKind.Name ? points[random.Next(points.Count)] : commits[random.Next(commits.Count)];
                    var step = log[at];
                    var target = kind switch
                    {
                        RecoveryTargetKind.Xid => new RecoveryTarget(kind, Xid: step.Commit!.Xid, Inclusive: inclusive),
                        RecoveryTargetKind.Time => new RecoveryTarget(kind, Time: step.Commit!.Time, Inclusive: inclusive),
                        RecoveryTargetKind.Lsn => new RecoveryTarget(kind, Lsn: step.Commit!.Start, Inclusive: inclusive),
                        _ => new RecoveryTarget(kind, Name: step.RestorePoint!, Inclusive: inclusive),
                    };
                    // Inclusive (and name) targets keep the step's commit; exclusive ones stop just before it.
                    var expected = inclusive || kind == RecoveryTargetKind.Name ? step.Model : log[at - 1].Model;
                    string restored = Restore(dir, backup, $"r{run++}");
                    var recovery = new ArchiveRecoveryOptions { Restorer = new RepositoryRestorer(repo), Target = target, Action = RecoveryTargetAction.Promote };
                    using var store = KvStore.Open(restored, Options(new WalInstanceOptions { ArchiveRecovery = recovery }));
                    var result = store.Instance.Recovery;
                    Assert.True(result.ArchiveRecovery);
                    Assert.NotNull(result.StopMessage);
                    Assert.Equal(new TimelineId(2), result.NewTimeline);
                    Assert.Equal(expected, Contents(store));
                    Assert.False(File.Exists(Path.Combine(restored, "recovery.signal")));
                    if (kind == RecoveryTargetKind.Xid)
                        Assert.Contains($"recovery stopping {(inclusive ? "after" : "before")} commit of transaction {step.Commit!.Xid}, time {PgTimestamp.Format(step.Commit.Time)}", result.StopMessage);
                }
            }
        }

        // A second PITR from the same backup after the first one's timeline is archived: latest
        // follows timeline 2 and the new timeline is 3.
        int first = commits[commits.Count / 2];
        string tl2 = Restore(dir, backup, "tl2");
        var toFirst = new ArchiveRecoveryOptions { Restorer = new RepositoryRestorer(repo), Target = new RecoveryTarget(RecoveryTargetKind.Xid, Xid: log[first].Commit!.Xid), Action = RecoveryTargetAction.Promote };
        var model2 = new SortedDictionary<string, string>(log[first].Model, StringComparer.Ordinal);
        KvCommit lastOnTl2;
        using (var store = KvStore.Open(tl2, Options(new WalInstanceOptions { ArchiveRecovery = toFirst, ArchiveMode = ArchiveMode.On, ArchiveModule = new RepositoryArchiveModule(repo) })))
        {
            Assert.Equal(new TimelineId(2), store.Instance.Recovery.NewTimeline);
            for (int i = 0; i < 50; i++)
            {
                store.Put(Encoding.UTF8.GetBytes($"tl2-{i}"), Encoding.UTF8.GetBytes($"on timeline 2: {i}"));
                model2[$"tl2-{i}"] = $"on timeline 2: {i}";
            }
            lastOnTl2 = store.LastCommit!;
        }
        Assert.Equal(File.ReadAllBytes(Path.Combine(tl2, "pg_wal", "00000002.history")), repo.TryRead(new ArchivedFileName("00000002.history", ArchivedFileKind.History)));

        // Real pg_waldump walks the archived WAL: the first timeline-2 segment from the copied
        // timeline-1 records through the switch (the end-of-recovery checkpoint) to the writes on
        // timeline 2, and timeline 1 from the backup's start up to the switch point.
        var geometry = new WalGeometry(SegmentSize);
        string walCopy = dir.Combine("archived-wal");
        Directory.CreateDirectory(walCopy);
        foreach (var timeline in repo.List())
        {
            foreach (var file in timeline.Files.Where(f => f.Name.IsWal))
                Assert.True(repo.TryRestore(file.Name, Path.Combine(walCopy, file.Name.Name)));
        }
        Lsn switchPoint = Lsn.Invalid;
        foreach (var line in File.ReadAllLines(Path.Combine(tl2, "pg_wal", "00000002.history")))
            switchPoint = Lsn.TryParse(line.Split('\t')[1], out var l) ? l : switchPoint;
        // (The start file is named: without it pg_waldump sizes segments from whichever file readdir
        // returns first, which may be a zero-filled preallocated one, as in PostgreSQL's own pg_wal.)
        var dump = PgTools.Waldump(["-p", walCopy, "-s", geometry.SegmentStart(geometry.SegmentOf(switchPoint)).ToString(), "-e", lastOnTl2.End.ToString(),
            SegmentFileName.Format(new TimelineId(2), geometry.SegmentOf(switchPoint), geometry)]);
        Assert.True(dump.ExitCode == 0, dump.Stderr);
        var lines = dump.StdoutText.Split('\n');
        Assert.Contains(lines, l => l.Contains("CHECKPOINT_SHUTDOWN") && l.Contains("tli 2; prev tli 1;"));
        Assert.Contains(lines, l => l.Contains($"lsn: {lastOnTl2.Start.Value >> 32:X}/{(uint)lastOnTl2.Start.Value:X8},") && l.Contains("COMMIT"));
        var tl1Dump = PgTools.Waldump(["-p", walCopy, "-s", BackupStart(tl2).ToString(), "-e", switchPoint.ToString(),
            SegmentFileName.Format(TimelineId.First, geometry.SegmentOf(BackupStart(tl2)), geometry), SegmentFileName.Format(TimelineId.First, geometry.SegmentOf(switchPoint), geometry)]);
        Assert.True(tl1Dump.ExitCode == 0, tl1Dump.Stderr);
        // show-target reads timeline 2 along its history: timeline 1's WAL up to the switch, then 2's.
        var onTl2 = RecoveryTargetSearch.Find(repo, new TimelineId(2), new RecoveryTarget(RecoveryTargetKind.Xid, Xid: lastOnTl2.Xid));
        Assert.True(onTl2.Reached, onTl2.Message);
        Assert.Equal(new TimelineId(2), onTl2.Timeline);
        Assert.Equal(lastOnTl2.End, onTl2.ReplayedUpTo);
        var beforeSwitch = RecoveryTargetSearch.Find(repo, new TimelineId(2), new RecoveryTarget(RecoveryTargetKind.Xid, Xid: log[first].Commit!.Xid));
        Assert.True(beforeSwitch.Reached, beforeSwitch.Message);
        Assert.Equal(TimelineId.First, beforeSwitch.Timeline);
        // A commit timeline 1 made after the switch point is not on timeline 2's history.
        var abandoned = RecoveryTargetSearch.Find(repo, new TimelineId(2), new RecoveryTarget(RecoveryTargetKind.Xid, Xid: log[commits[^1]].Commit!.Xid));
        Assert.False(abandoned.Reached);

        string tl3 = Restore(dir, backup, "tl3");
        var toLatest = new ArchiveRecoveryOptions { Restorer = new RepositoryRestorer(repo), Target = new RecoveryTarget(RecoveryTargetKind.Xid, Xid: lastOnTl2.Xid), Action = RecoveryTargetAction.Promote };
        using (var store = KvStore.Open(tl3, Options(new WalInstanceOptions { ArchiveRecovery = toLatest })))
        {
            Assert.Equal(new TimelineId(3), store.Instance.Recovery.NewTimeline);
            Assert.Equal(model2, new SortedDictionary<string, string>(Contents(store), StringComparer.Ordinal));
        }
        string history3 = File.ReadAllText(Path.Combine(tl3, "pg_wal", "00000003.history"));
        string history2 = File.ReadAllText(Path.Combine(tl2, "pg_wal", "00000002.history"));
        Assert.Matches($"^1\t[0-9A-F]+/[0-9A-F]+\tafter transaction {log[first].Commit!.Xid}\n$", history2);
        Assert.Equal(history2 + "\n" + $"2\t", history3[..(history2.Length + 3)]);
        Assert.EndsWith($"\tafter transaction {lastOnTl2.Xid}\n", history3);
        var parsed = TimelineHistory.Parse(history3, new TimelineId(3), "00000003.history");
        Assert.Equal([3u, 2u, 1u], parsed.Entries.Select(e => e.Timeline.Value));
    }

    // The backup's start, from the backup_label the restore renamed.
    private static Lsn BackupStart(string data)
    {
        string first = File.ReadAllLines(Path.Combine(data, "backup_label.old"))[0];
        int from = "START WAL LOCATION: ".Length;
        Lsn.TryParse(first.AsSpan(from, first.IndexOf(' ', from) - from), out var lsn);
        return lsn;
    }
}
