// BaseBackupTests: base backups of a running PgWal.Kv store, taken while four clients write. Real
// pg_verifybackup 15 accepts the backup (manifest, checksums, and its WAL walked by pg_waldump) and
// rejects it once a file is changed; the copy opens by replaying its WAL through the end-of-backup
// record and holds every put acknowledged before the backup stopped; without the WAL up to that
// record it refuses to open (pg_control says "in archive recovery", as PostgreSQL's would) and opens
// once the WAL is back; backup_label and the backup history file have PostgreSQL's exact layout;
// WAL pages written during the backup lack XLP_BKP_REMOVABLE.
using System.Collections.Concurrent;
using System.Text;
using PgWal.Backup;
using PgWal.Format;
using PgWal.Kv;
using PgWal.Recovery;
using PgWal.Tests.Infrastructure;

namespace PgWal.Tests.Backup;

public sealed class BaseBackupTests
{
    private const int SegmentSize = 1 << 20;

    private static KvOptions Options => new()
    {
        Init = new WalInitOptions { SegmentSize = SegmentSize },
        Instance = new WalInstanceOptions { SharedBuffers = 256, MaxWalSize = 8 * SegmentSize, MinWalSize = 2 * SegmentSize },
    };

    private static byte[] Key(int i) => Encoding.ASCII.GetBytes($"key{i:D7}");

    private static byte[] Value(int i) => Encoding.ASCII.GetBytes($"value of {i} " + new string('v', i % 200));

    private static ToolResult Verify(string backup) => PgTools.Run(PgTools.Require("pg_verifybackup"), [backup]);

    [Fact]
    public void BackupWhileClientsWrite_IsVerifiedByPgVerifybackup_AndOpensWithEveryPutAcknowledgedBeforeItStopped()
    {
        using var dir = new TempDirectory("bb");
        string data = dir.Combine("data"), backup = dir.Combine("backup");
        var acknowledged = new ConcurrentBag<int>();
        BackupStopResult stop;
        HashSet<int> beforeStop = [];
        string history;
        var progress = new List<BaseBackupProgress>();
        using (var store = KvStore.Open(data, Options))
        {
            for (int i = 0; i < 2000; i++)
                store.Put(Key(i), Value(i));
            using var cancel = new CancellationTokenSource();
            int next = 2000;
            var writers = Enumerable.Range(0, 4).Select(_ => new Thread(() =>
            {
                while (!cancel.IsCancellationRequested)
                {
                    int i = Interlocked.Increment(ref next);
                    store.Put(Key(i), Value(i));
                    acknowledged.Add(i);
                }
            })).ToArray();
            foreach (var w in writers)
                w.Start();
            Thread.Sleep(200);
            // The last report while copying comes before StopBackup: what was acknowledged by then
            // was committed before the end-of-backup record, so the copy must have it.
            stop = store.Instance.BaseBackup(backup, new BaseBackupOptions { Label = "while writing" }, new SyncProgress(progress, p =>
            {
                if (p.Phase == "copying")
                    beforeStop = [.. acknowledged];
            }));
            history = File.ReadAllText(Path.Combine(data, "pg_wal", stop.HistoryFileName));   // (removed at a later checkpoint)
            Thread.Sleep(200);
            cancel.Cancel();
            foreach (var w in writers)
                w.Join();
            Assert.True(acknowledged.Count > beforeStop.Count, "clients kept writing after the backup");
        }
        Assert.True(beforeStop.Count > 0, "clients wrote during the backup");
        Assert.Contains(progress, p => p.Phase == "copying" && p.CurrentFile != null);
        Assert.Equal("done", progress[^1].Phase);

        var verified = Verify(backup);
        Assert.True(verified.ExitCode == 0, verified.Stderr + verified.StdoutText);
        Assert.Contains("backup successfully verified", verified.StdoutText);

        string label = File.ReadAllText(Path.Combine(backup, "backup_label"));
        var parsed = BackupLabel.Parse(label, out string? error);
        Assert.True(parsed != null, error);
        Assert.Matches(@"^START WAL LOCATION: [0-9A-F]+/[0-9A-F]+ \(file [0-9A-F]{24}\)\nCHECKPOINT LOCATION: [0-9A-F]+/[0-9A-F]+\nBACKUP METHOD: streamed\nBACKUP FROM: primary\nSTART TIME: \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\nLABEL: while writing\nSTART TIMELINE: 1\n$", label);
        var historyLines = history.Split('\n');
        Assert.Equal(label.Split('\n')[0], historyLines[0]);
        Assert.Equal($"STOP WAL LOCATION: {stop.StopLsn} (file {stop.LastSegment})", historyLines[1]);
        Assert.Equal(string.Join('\n', label.Split('\n')[1..7]), string.Join('\n', historyLines[2..8]));
        Assert.StartsWith("STOP TIME: ", historyLines[8]);
        Assert.Equal("STOP TIMELINE: 1", historyLines[9]);

        // The copy opens through its end-of-backup record and has everything acknowledged before the stop.
        string copy = dir.Combine("copy");
        PgWal.Cli.Common.DirectoryCopy.Copy(backup, copy, r => r == "postmaster.pid");
        using (var restored = KvStore.Open(copy, Options))
        {
            Assert.True(restored.Instance.Recovery.EndOfWal >= stop.StopLsn);
            for (int i = 0; i < 2000; i++)
                Assert.Equal(Value(i), restored.Get(Key(i)));
            foreach (int i in beforeStop)
                Assert.Equal(Value(i), restored.Get(Key(i)));
        }
        Assert.True(File.Exists(Path.Combine(copy, "backup_label.old")));
        Assert.False(File.Exists(Path.Combine(copy, "backup_label")));

        // A changed file is caught.
        string changed = Directory.GetFiles(Path.Combine(backup, "base"), "*", SearchOption.AllDirectories).First(f => new FileInfo(f).Length >= 8192);
        var bytes = File.ReadAllBytes(changed);
        bytes[100] ^= 0x40;
        File.WriteAllBytes(changed, bytes);
        var rejected = Verify(backup);
        Assert.Equal(1, rejected.ExitCode);
        Assert.Contains("checksum mismatch for file", rejected.Stderr);
    }

    [Fact]
    public void BackupWithoutTheWalUpToItsEnd_RefusesToOpen_UntilTheWalIsBack()
    {
        using var dir = new TempDirectory("bbend");
        string data = dir.Combine("data"), backup = dir.Combine("backup");
        BackupStopResult stop;
        using (var store = KvStore.Open(data, Options))
        {
            for (int i = 0; i < 500; i++)
                store.Put(Key(i), Value(i));
            var label = store.Instance.StartBackup("manual");
            Assert.Equal(1, store.Instance.Wal.RunningBackups);
            // WAL pages begun while a backup runs are not BKP_REMOVABLE.
            for (int i = 500; i < 3000; i++)
                store.Put(Key(i), Value(i).Concat(new byte[1000]).ToArray());
            PgWal.Cli.Common.DirectoryCopy.Copy(data, backup, r => r == "postmaster.pid" || r.StartsWith("pg_wal/", StringComparison.Ordinal));
            stop = store.Instance.StopBackup(label);
            Assert.Equal(0, store.Instance.Wal.RunningBackups);
            File.WriteAllText(Path.Combine(backup, "backup_label"), label.ToText(store.Instance.Wal.Geometry));
            var geometry = store.Instance.Wal.Geometry;
            for (ulong s = geometry.SegmentOf(label.StartLsn).Value; s <= geometry.SegmentOf(stop.StopLsn - 1).Value; s++)
            {
                string name = SegmentFileName.Format(TimelineId.First, new SegmentNumber(s), geometry);
                File.Copy(Path.Combine(data, "pg_wal", name), Path.Combine(backup, "pg_wal", name));
                var page = File.ReadAllBytes(Path.Combine(backup, "pg_wal", name)).AsSpan(0, 8192);
                if (s > geometry.SegmentOf(label.StartLsn).Value)
                    Assert.Equal(0, BitConverter.ToUInt16(page[2..4]) & 0x4);
            }
        }
        string last = SegmentFileName.Format(TimelineId.First, new WalGeometry(SegmentSize).SegmentOf(stop.StopLsn - 1), new WalGeometry(SegmentSize));
        string aside = dir.Combine(last);
        File.Move(Path.Combine(backup, "pg_wal", last), aside);

        var e = Assert.Throws<RecoveryException>(() => KvStore.Open(backup, Options).Dispose());
        Assert.Contains("WAL ends before end of online backup", e.Message);
        var controldata = PgTools.Run(PgTools.Require("pg_controldata"), ["-D", backup]);
        Assert.Contains("Database cluster state:               in archive recovery", controldata.StdoutText + controldata.Stderr);
        Assert.Contains("End-of-backup record required:        yes", controldata.StdoutText);
        Assert.DoesNotContain("Backup start location:                0/0", controldata.StdoutText);

        File.Move(aside, Path.Combine(backup, "pg_wal", last));
        using var restored = KvStore.Open(backup, Options);
        for (int i = 0; i < 3000; i++)
            Assert.Equal(i < 500 ? Value(i) : Value(i).Concat(new byte[1000]).ToArray(), restored.Get(Key(i)));
        var after = PgTools.Run(PgTools.Require("pg_controldata"), ["-D", backup]).StdoutText;
        Assert.Contains("Backup start location:                0/0", after);
    }

    [Fact]
    public void BackupInterruptedMidCopy_LeavesACopyThatIsRefused_AndTheInstanceLosesNothing()
    {
        using var dir = new TempDirectory("bbkill");
        string data = dir.Combine("data"), backup = dir.Combine("backup");
        var store = KvStore.Open(data, Options);
        for (int i = 0; i < 3000; i++)
            store.Put(Key(i), Value(i));
        // The copy dies in the middle (as if the process were killed: nothing after this point runs).
        var e = Assert.Throws<IOException>(() => store.Instance.BaseBackup(backup, null, new SyncProgress([], p =>
        {
            if (p.Phase == "copying" && p.FilesDone >= 2)
                throw new IOException("simulated crash in the middle of the copy");
        })));
        Assert.Contains("simulated crash", e.Message);
        Assert.Equal(0, store.Instance.Wal.RunningBackups);
        Assert.True(File.Exists(Path.Combine(backup, BackupLabel.FileName)));   // written first ...
        Assert.True(File.Exists(Path.Combine(backup, BackupLabel.IncompleteMarker)));   // ... under the mark
        Assert.False(File.Exists(Path.Combine(backup, "backup_manifest")));
        store.Put(Key(3000), Value(3000));
        store.Instance.Abandon();   // and the instance crashes too

        var refused = Assert.Throws<RecoveryException>(() => KvStore.Open(backup, Options).Dispose());
        Assert.Contains("base backup whose copying did not complete", refused.Message);
        using var reopened = KvStore.Open(data, Options);
        for (int i = 0; i <= 3000; i++)
            Assert.Equal(Value(i), reopened.Get(Key(i)));
    }

    [Fact]
    public void KvBackupProcess_Sigkilled_MidCopy_LeavesARefusedCopy_AndTheStoreLosesNothing()
    {
        using var dir = new TempDirectory("bbsigkill");
        string data = dir.Combine("data");
        string dll = Path.Combine(AppContext.BaseDirectory, "pgwal.dll");
        var load = PgTools.Run("dotnet", [dll, "kv", "-D", data, "bench", "-w", "load", "-k", "60000", "--value-size", "1500", "-c", "4"], timeout: TimeSpan.FromMinutes(3));
        Assert.True(load.ExitCode == 0, load.Stderr);
        bool caught = false;
        for (int attempt = 0; attempt < 5 && !caught; attempt++)
        {
            string target = dir.Combine($"backup{attempt}");
            var psi = new System.Diagnostics.ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var a in new[] { dll, "kv", "-D", data, "backup", target })
                psi.ArgumentList.Add(a);
            using var child = System.Diagnostics.Process.Start(psi)!;
            _ = child.StandardOutput.ReadToEndAsync();
            _ = child.StandardError.ReadToEndAsync();
            string marker = Path.Combine(target, BackupLabel.IncompleteMarker);
            string label = Path.Combine(target, BackupLabel.FileName);
            while (!child.HasExited && !(File.Exists(marker) && File.Exists(label)))
                Thread.Sleep(1);
            if (!child.HasExited)
            {
                child.Kill();   // SIGKILL while the files are being copied
                child.WaitForExit();
                caught = !File.Exists(Path.Combine(target, "backup_manifest"));
            }
            else
            {
                child.WaitForExit();
            }
            if (caught)
            {
                var refused = Assert.Throws<RecoveryException>(() => KvStore.Open(target, new KvOptions()).Dispose());
                Assert.Contains("base backup whose copying did not complete", refused.Message);
            }
        }
        Assert.True(caught, "no attempt was killed in the middle of the copy");
        // The store itself recovers with everything, and a new backup of it is whole.
        using (var store = KvStore.Open(data, new KvOptions()))
            Assert.Equal(60000, store.CheckTree().Keys);
        var again = PgTools.Run("dotnet", [dll, "kv", "-D", data, "backup", dir.Combine("whole")]);
        Assert.True(again.ExitCode == 0, again.Stderr);
        var verified = Verify(dir.Combine("whole"));
        Assert.True(verified.ExitCode == 0, verified.Stderr);
    }

    [Fact]
    public void LabelParsing_RefusesWhatPostgreSqlRefuses()
    {
        var geometry = new WalGeometry(SegmentSize);
        var label = new BackupLabel(new Lsn(0x3000028), new Lsn(0x3000060), TimelineId.First, new DateTimeOffset(2026, 12, 2, 0, 47, 29, TimeSpan.Zero), "bb1 label");
        string text = label.ToText(new WalGeometry(16 << 20));
        Assert.Equal("START WAL LOCATION: 0/3000028 (file 000000010000000000000003)\nCHECKPOINT LOCATION: 0/3000060\nBACKUP METHOD: streamed\nBACKUP FROM: primary\nSTART TIME: 2026-12-02 00:47:29 UTC\nLABEL: bb1 label\nSTART TIMELINE: 1\n", text);
        Assert.Equal(209, Encoding.UTF8.GetByteCount(text));   // the size of the file PostgreSQL wrote
        Assert.Equal(label, BackupLabel.Parse(text, out _));
        Assert.Null(BackupLabel.Parse("CHECKPOINT LOCATION: 0/3000060\n", out string? e1));
        Assert.Contains("invalid data in file \"backup_label\"", e1);
        Assert.Null(BackupLabel.Parse(text.Replace("START TIMELINE: 1", "START TIMELINE: 2"), out string? e2));
        Assert.Contains("Timeline ID parsed is 2, but expected 1.", e2);
        var (name, history) = label.HistoryFile(new WalGeometry(16 << 20), new Lsn(0x3000100), TimelineId.First, new DateTimeOffset(2026, 12, 2, 0, 47, 29, TimeSpan.Zero));
        Assert.Equal("000000010000000000000003.00000028.backup", name);
        Assert.Equal(322, Encoding.UTF8.GetByteCount(history));
        Assert.StartsWith("START WAL LOCATION: 0/3000028 (file 000000010000000000000003)\nSTOP WAL LOCATION: 0/3000100 (file 000000010000000000000003)\nCHECKPOINT LOCATION: 0/3000060\n", history);
        _ = geometry;
    }


    private sealed class SyncProgress(List<BaseBackupProgress> list, Action<BaseBackupProgress>? also = null) : IProgress<BaseBackupProgress>
    {
        public void Report(BaseBackupProgress value)
        {
            lock (list)
                list.Add(value);
            also?.Invoke(value);
        }
    }
}
