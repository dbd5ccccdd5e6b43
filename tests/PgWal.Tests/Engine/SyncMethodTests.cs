// SyncMethodTests: every sync method — fdatasync, fsync, open_datasync (O_DSYNC), each also with
// O_DIRECT — writes WAL that reads back record for record and that pg_waldump 15 walks, with
// flushes ending mid-page (partial pages rewritten, under O_DIRECT through aligned buffers). The
// segment files the engine holds open carry exactly the open flags the method asks for, as the
// kernel reports them in /proc/self/fdinfo.
using PgWal.Format;
using PgWal.Insert;
using PgWal.Read;
using PgWal.Storage;
using PgWal.Storage.Native;
using PgWal.Tests.Infrastructure;
using PgWal.Write;

namespace PgWal.Tests.Engine;

public sealed class SyncMethodTests
{
    private static readonly WalGeometry Geometry = new(WalGeometry.MinSegmentSize);

    [Theory]
    [InlineData(WalSyncMethod.Fdatasync, false)]
    [InlineData(WalSyncMethod.Fsync, false)]
    [InlineData(WalSyncMethod.OpenDatasync, false)]
    [InlineData(WalSyncMethod.Fdatasync, true)]
    [InlineData(WalSyncMethod.Fsync, true)]
    [InlineData(WalSyncMethod.OpenDatasync, true)]
    public void EverySyncMethod_WritesWalThatReadsBack_AndPgWaldumpWalks(WalSyncMethod method, bool directIo)
    {
        using var dir = new TempDirectory("sync");
        var options = new WalOptions { SegmentSize = Geometry.SegmentSize, SystemIdentifier = 77, SyncMethod = method, DirectIo = directIo };
        var written = new List<(Lsn Start, Lsn End, int Size)>();
        var rng = new Random(3);
        using (var engine = new WalEngine(new FileSystemWalStorage(dir.Path), options, WalStartPoint.AtSegment(new SegmentNumber(1), Geometry)))
        {
            var builder = new RecordBuilder();
            var payload = new byte[4096];
            for (int i = 0; i < 2500; i++)   // about 2.5 segments
            {
                int size = rng.Next(0, 2048);
                Fill(payload.AsSpan(0, size), i);
                Lsn end = engine.Insert(builder.Begin(131, 0x10, (uint)i).RegisterData(payload.AsSpan(0, size)), out Lsn start);
                written.Add((start, end, size));
                if (i % 37 == 0)
                    engine.Flush(end);
            }
            engine.Flush(written[^1].End);

            var flags = OpenSegmentFlags(dir.Path);
            Assert.NotEmpty(flags);
            foreach (var (file, f) in flags)
            {
                Assert.True(method == WalSyncMethod.OpenDatasync == ((f & LibC.O_DSYNC) != 0), $"{file}: flags {Convert.ToString(f, 8)}, O_DSYNC expected {method == WalSyncMethod.OpenDatasync}");
                Assert.True(directIo == ((f & LibC.O_DIRECT) != 0), $"{file}: flags {Convert.ToString(f, 8)}, O_DIRECT expected {directIo}");
            }
        }

        using var reader = new WalReader(new SegmentDirectorySource(dir.Path, Geometry.SegmentSize),
            new WalReaderOptions { SegmentSize = Geometry.SegmentSize, StopAt = written[^1].End });
        reader.BeginRead(written[0].Start);
        var want = new byte[4096];
        for (int i = 0; i < written.Count; i++)
        {
            var outcome = reader.ReadRecord();
            Assert.True(outcome.IsRecord, $"record {i} at {written[i].Start}: {outcome.Error?.Message}");
            Assert.Equal(written[i].Start, outcome.Record!.Lsn);
            Fill(want.AsSpan(0, written[i].Size), i);
            Assert.True(outcome.Record.MainData.SequenceEqual(want.AsSpan(0, written[i].Size)), $"payload of record {i} differs");
        }
        Assert.True(Geometry.SegmentOf(written[^1].End).Value >= 3, "the WAL did not cross two segment boundaries");

        // The segments are named: pg_waldump otherwise takes the segment size from whichever
        // file readdir lists first, and the WAL writer has created the next one, still all zeros.
        string first = SegmentFileName.Format(TimelineId.First, Geometry.SegmentOf(written[0].Start), Geometry);
        string last = SegmentFileName.Format(TimelineId.First, Geometry.SegmentOf(written[^1].End - 1), Geometry);
        var pg = PgTools.Waldump(["-p", dir.Path, first, last, "-s", written[0].Start.ToString(), "-e", written[^1].End.ToString(), "-q"]);
        Assert.True(pg.ExitCode == 0, pg.Stderr);
    }

    private static void Fill(Span<byte> bytes, int seed)
    {
        for (int i = 0; i < bytes.Length; i++)
            bytes[i] = (byte)(seed * 31 + i);
    }

    // The open flags (octal in fdinfo) of every descriptor of this process open on a file in dir.
    private static List<(string File, int Flags)> OpenSegmentFlags(string dir)
    {
        var result = new List<(string, int)>();
        foreach (var fd in Directory.GetFiles("/proc/self/fd"))
        {
            string? target;
            try
            {
                target = new FileInfo(fd).LinkTarget;
            }
            catch (IOException)
            {
                continue;   // closed meanwhile
            }
            if (target is null || Path.GetDirectoryName(target) != dir || !SegmentFileName.IsSegmentFileName(Path.GetFileName(target)))
                continue;
            string? line;
            try
            {
                line = File.ReadLines(Path.Combine("/proc/self/fdinfo", Path.GetFileName(fd))).FirstOrDefault(l => l.StartsWith("flags:", StringComparison.Ordinal));
            }
            catch (IOException)
            {
                continue;
            }
            if (line is not null)
                result.Add((Path.GetFileName(target), Convert.ToInt32(line["flags:".Length..].Trim(), 8)));
        }
        return result;
    }
}
