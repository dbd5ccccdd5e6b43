// ArchiverTests: the archiver inside a WalInstance (PostgreSQL's pgarch). Every completed segment
// gets a .ready, is archived byte for byte (in-process through the repository, or by an
// archive_command run as PostgreSQL runs it), becomes .done and only then may be removed; a
// failing or killed command keeps every segment in pg_wal, is counted and named, and archiving
// resumes in order once the command works, also after a restart; shutdown archives everything up
// to the last data; archive_timeout switches only when WAL was written.
using PgWal.Archive;
using PgWal.Format;
using PgWal.Insert;
using PgWal.Tests.Infrastructure;

namespace PgWal.Tests.Archive;

public sealed class ArchiverTests
{
    private const int SegmentSize = 1 << 20;
    private static readonly WalGeometry Geometry = new(SegmentSize);

    private static WalInstanceOptions Options(IArchiveModule? module = null, string? command = null) => new()
    {
        ArchiveMode = ArchiveMode.On,
        ArchiveModule = module,
        ArchiveCommand = command,
        ArchiveRetryDelay = TimeSpan.FromMilliseconds(20),
        BackgroundCheckpointer = false,
        MaxWalSize = 4 * SegmentSize,
        MinWalSize = 2 * SegmentSize,
        SharedBuffers = 64,
    };

    private static string NewDataDirectory(TempDirectory dir)
    {
        string data = dir.Combine("data");
        WalInstance.Initialize(data, new WalInitOptions { SegmentSize = SegmentSize });
        return data;
    }

    // Inserts about `bytes` of NOOP records and flushes them.
    internal static void Write(WalInstance instance, long bytes)
    {
        var builder = new RecordBuilder();
        var payload = new byte[4000];
        Lsn from = instance.Wal.InsertedUpTo;
        while (instance.Wal.InsertedUpTo - from < (ulong)bytes)
        {
            Random.Shared.NextBytes(payload);
            instance.Insert(BuiltinRecords.Noop(builder, payload));
        }
        instance.Wal.Flush(instance.Wal.InsertedUpTo);
    }

    private static void WaitFor(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"timed out waiting for {what}");
            Thread.Sleep(20);
        }
    }

    private static string Name(ulong segment) => SegmentFileName.Format(TimelineId.First, new SegmentNumber(segment), Geometry);

    private static string[] Status(string data, string suffix)
        => Directory.GetFiles(Path.Combine(data, "pg_wal", "archive_status"), "*" + suffix).Select(p => Path.GetFileName(p)[..^suffix.Length]).Order(StringComparer.Ordinal).ToArray();

    [Fact]
    public void EveryCompletedSegment_IsArchivedByteForByte_ThenDone_ThenRemoved_AndShutdownArchivesTheLastData()
    {
        using var dir = new TempDirectory("arch");
        string data = NewDataDirectory(dir);
        var repo = WalRepository.Create(dir.Combine("repo"), ArchiveCodec.Zstd);
        var instance = WalInstance.Open(data, Options(new RepositoryArchiveModule(repo)));
        Write(instance, 3L * SegmentSize + 1000);
        ulong current = Geometry.SegmentOf(instance.Wal.InsertedUpTo).Value;
        WaitFor(() => instance.Archiving!.ArchivedCount >= (long)current - 1, "the completed segments to be archived");
        for (ulong s = 1; s < current; s++)
        {
            Assert.Equal(File.ReadAllBytes(Path.Combine(data, "pg_wal", Name(s))), repo.TryRead(ArchiveNames.Of(Name(s))));
            Assert.Contains(Name(s), Status(data, ".done"));
        }
        Assert.Empty(Status(data, ".ready"));
        Assert.DoesNotContain(Name(current), Status(data, ".done"));   // still being written: not archived
        var stats = instance.Archiving!;
        Assert.Equal(0, stats.FailedCount);
        Assert.Equal(Name(current - 1), stats.LastArchivedWal);

        // Checkpoints remove (or recycle) the archived segments, and their status files with them.
        instance.Checkpoint();
        Write(instance, SegmentSize);
        instance.Checkpoint();
        Assert.False(File.Exists(Path.Combine(data, "pg_wal", Name(1))));
        Assert.DoesNotContain(Name(1), Status(data, ".done"));

        // Shutdown switches, checkpoints and archives everything up to the last data.
        Lsn lastData = instance.Wal.InsertedUpTo;
        instance.Dispose();
        var timeline = Assert.Single(repo.List());
        Assert.Empty(timeline.Missing);
        Assert.Equal(Name(1), timeline.Ranges[0].First);
        Assert.Equal(Name(Geometry.SegmentOf(lastData).Value), timeline.Ranges[^1].Last);
    }

    [Fact]
    public void FailingCommand_KeepsEverySegment_NamesTheFailure_AndOnceItWorks_ArchivesInOrder_AcrossARestart()
    {
        using var dir = new TempDirectory("archfail");
        string data = NewDataDirectory(dir);
        string target = dir.Combine("archive");
        Directory.CreateDirectory(target);
        string ok = dir.Combine("ok");
        // %p is relative to the data directory, where the command runs; %f is the bare name.
        string command = $"test -f {ok} || {{ echo 'archive volume offline' >&2; exit 1; }}; test ! -f {target}/%f && cp %p {target}/%f";
        var instance = WalInstance.Open(data, Options(command: command));
        Write(instance, 4L * SegmentSize);
        WaitFor(() => instance.Archiving!.FailedCount >= 3, "three failed attempts");
        for (int i = 0; i < 3; i++)
        {
            instance.Checkpoint();
            Write(instance, SegmentSize / 2);
        }
        var stats = instance.Archiving!;
        Assert.Equal(0, stats.ArchivedCount);
        Assert.Equal(Name(1), stats.LastFailedWal);     // the oldest blocks the rest: strictly in order
        Assert.Contains("exit code 1", stats.LastFailure);
        Assert.Contains("archive volume offline", stats.LastFailure);
        Assert.Contains($"cp pg_wal/{Name(1)} {target}/{Name(1)}", stats.LastFailure);
        Assert.Equal(Name(1), stats.OldestPending);
        Assert.True(stats.Pending >= 4, $"{stats.Pending} pending");
        ulong last = Geometry.SegmentOf(instance.Wal.InsertedUpTo).Value;
        for (ulong s = 1; s < last; s++)
            Assert.True(File.Exists(Path.Combine(data, "pg_wal", Name(s))), $"{Name(s)} was removed before it was archived");
        Assert.Empty(Directory.GetFiles(target));
        instance.Dispose();   // the final pass fails too: nothing is lost, the .ready files stay

        File.WriteAllText(ok, "");
        using (var reopened = WalInstance.Open(data, Options(command: command)))
        {
            WaitFor(() => reopened.Archiving!.Pending == 0 && reopened.Archiving.ArchivedCount > 0, "archiving to resume");
            var archived = Directory.GetFiles(target).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray();
            Assert.Equal(Enumerable.Range(1, archived.Length).Select(s => Name((ulong)s)), archived);
            foreach (var name in archived)
                Assert.Equal(File.ReadAllBytes(Path.Combine(data, "pg_wal", name!)), File.ReadAllBytes(Path.Combine(target, name!)));
            reopened.Checkpoint();
            Assert.False(File.Exists(Path.Combine(data, "pg_wal", Name(1))));
        }
    }

    [Fact]
    public void CommandKilledBySignal_IsReportedAsSuch_AndTheSegmentIsKept()
    {
        using var dir = new TempDirectory("archkill");
        string data = NewDataDirectory(dir);
        using var instance = WalInstance.Open(data, Options(command: "kill -KILL $$"));
        Write(instance, SegmentSize + 100);
        WaitFor(() => instance.Archiving!.FailedCount >= 1, "a failed attempt");
        Assert.Contains("signal 9", instance.Archiving!.LastFailure);
        instance.Checkpoint();
        Assert.True(File.Exists(Path.Combine(data, "pg_wal", Name(1))));
        Assert.Contains(Name(1), Status(data, ".ready"));
    }

    [Fact]
    public void ModeOnWithoutACommand_AccumulatesWal_InsteadOfDroppingIt()
    {
        using var dir = new TempDirectory("archnone");
        string data = NewDataDirectory(dir);
        using var instance = WalInstance.Open(data, Options());
        Write(instance, 3L * SegmentSize);
        instance.Checkpoint();
        Write(instance, SegmentSize);
        instance.Checkpoint();
        Assert.True(File.Exists(Path.Combine(data, "pg_wal", Name(1))));
        Assert.Contains(Name(1), Status(data, ".ready"));
        Assert.Equal(0, instance.Archiving!.ArchivedCount);
    }

    [Fact]
    public void ArchiveTimeout_SwitchesOnceAfterWrites_AndNotWhenIdle()
    {
        using var dir = new TempDirectory("archtimeout");
        string data = NewDataDirectory(dir);
        var repo = WalRepository.Create(dir.Combine("repo"), ArchiveCodec.Lz4);
        using var instance = WalInstance.Open(data, Options(new RepositoryArchiveModule(repo)) with { ArchiveTimeout = TimeSpan.FromMilliseconds(300) });
        Thread.Sleep(800);
        Assert.Equal(0, instance.Archiving!.ArchivedCount);    // nothing written: no switch
        Lsn record = instance.Insert(BuiltinRecords.Noop(new RecordBuilder(), [1, 2, 3]));
        instance.Wal.Flush(record);
        WaitFor(() => instance.Archiving!.ArchivedCount == 1, "the timeout's switch to be archived");
        Assert.Equal(Name(Geometry.SegmentOf(record).Value), instance.Archiving!.LastArchivedWal);
        Lsn afterSwitch = instance.Wal.InsertedUpTo;
        Assert.Equal(0ul, afterSwitch.Value % SegmentSize);
        Thread.Sleep(1000);
        Assert.Equal(1, instance.Archiving!.ArchivedCount);   // idle since: no further switches
        Assert.Equal(afterSwitch, instance.Wal.InsertedUpTo);
    }

    [Fact]
    public void ModeOff_WritesNoStatusFiles()
    {
        using var dir = new TempDirectory("archoff");
        string data = NewDataDirectory(dir);
        using var instance = WalInstance.Open(data, Options() with { ArchiveMode = ArchiveMode.Off });
        Write(instance, 2L * SegmentSize);
        instance.Checkpoint();
        Assert.Null(instance.Archiving);
        Assert.Empty(Directory.GetFiles(Path.Combine(data, "pg_wal", "archive_status")));
    }

    [Fact]
    public void ArchiveCommand_Expansion_FollowsPostgreSql()
    {
        var module = new ShellArchiveModule("cp %p /a/%f %% %r %x 100%", "/data");
        Assert.Equal("cp pg_wal/000000010000000000000001 /a/000000010000000000000001 % %r %x 100%", module.Expand("000000010000000000000001"));
        Assert.False(new ShellArchiveModule("", "/data").IsConfigured);
        Assert.Equal(1023, System.Text.Encoding.UTF8.GetByteCount(new ShellArchiveModule(new string('x', 2000), "/d").Expand("f")));
    }
}
