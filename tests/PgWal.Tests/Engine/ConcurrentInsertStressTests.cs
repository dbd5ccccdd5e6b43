using System.Diagnostics;
using PgWal.Diagnostics;
using PgWal.Format;
using PgWal.Insert;
using PgWal.Read;
using PgWal.Storage;
using PgWal.Tests.Infrastructure;
using PgWal.Write;

namespace PgWal.Tests.Engine;

// 16 threads insert records of random size (0 B–64 kB, many crossing pages and 1 MB segments) for
// ≥ 10 s, some flushing, one switching segments. Then the reader must see every record exactly once,
// in LSN order (each thread's records in its own order), with valid CRCs and prev-links and the right
// payload, and PostgreSQL 15's pg_waldump must validate the whole WAL.
// PGWAL_STRESS_SECONDS overrides the duration (longer local runs).
public class ConcurrentInsertStressTests
{
    private const int Threads = 16;
    private const byte Rmgr = 130;
    private const int SegmentSize = WalGeometry.MinSegmentSize;
    private const long BytesPerSecond = 24L * 1024 * 1024;   // bounds the WAL volume a run leaves on disk

    private readonly record struct Inserted(Lsn Start, Lsn End, uint Xid, int Size);

    [Theory]
    [InlineData(1, 16 * 1024 * 1024)]
    [InlineData(2, 16 * 1024 * 1024)]
    [InlineData(8, 16 * 1024 * 1024)]
    [InlineData(8, 32 * 1024)]          // 4 pages: inserters evict pages constantly
    public void SixteenThreads_EveryRecordExactlyOnce(int insertionLocks, int walBuffers)
    {
        double seconds = double.TryParse(Environment.GetEnvironmentVariable("PGWAL_STRESS_SECONDS"), out var s) ? s : 10;
        using var dir = new TempDirectory("stress");
        var geometry = new WalGeometry(SegmentSize);
        var options = new WalOptions
        {
            SegmentSize = SegmentSize, SystemIdentifier = 77, InsertionLocks = insertionLocks, WalBuffers = walBuffers,
            WalWriterDelay = TimeSpan.FromMilliseconds(20),
        };
        var perThread = new List<Inserted>[Threads];
        var switches = new List<Inserted>();
        long totalBytes = 0;
        Lsn end;
        WalStats stats;
        using (var engine = new WalEngine(new FileSystemWalStorage(dir.Path), options, WalStartPoint.AtSegment(new SegmentNumber(1), geometry)))
        {
            var clock = Stopwatch.StartNew();
            var failures = new System.Collections.Concurrent.ConcurrentQueue<Exception>();
            var threads = Enumerable.Range(0, Threads).Select(t => new Thread(() =>
            {
              try
              {
                var list = perThread[t] = [];
                var rng = new Random(1000 + t);
                var builder = new RecordBuilder();
                var payload = new byte[64 * 1024];
                for (uint seq = 0; clock.Elapsed.TotalSeconds < seconds; seq++)
                {
                    int size = RandomSize(rng);
                    uint xid = ((uint)t << 24) | seq;
                    Fill(payload.AsSpan(0, size), xid);
                    builder.Begin(Rmgr, 0x10, xid).RegisterData(payload.AsSpan(0, size));
                    Lsn e = engine.Insert(builder, out var start);
                    list.Add(new Inserted(start, e, xid, size));
                    if (rng.Next(64) == 0)
                        engine.Flush(e);
                    if (t == 0 && rng.Next(2000) == 0)
                    {
                        var sw = engine.SwitchSegment();
                        if (sw.Start != sw.End)
                            list.Add(new Inserted(sw.Start, sw.End, 0, -1));
                    }
                    // Throttle the volume (not the concurrency): pause when ahead of the byte budget.
                    while (Interlocked.Add(ref totalBytes, 0) > BytesPerSecond * clock.Elapsed.TotalSeconds)
                        Thread.Sleep(1);
                    Interlocked.Add(ref totalBytes, size + 30);
                }
              }
              catch (Exception e)
              {
                  failures.Enqueue(e);
              }
            })).ToList();
            threads.ForEach(th => th.Start());
            threads.ForEach(th => th.Join());
            Assert.Empty(failures);
            engine.Flush();
            end = engine.InsertedUpTo;
            stats = engine.Stats;
            Assert.Equal(end, engine.FlushedUpTo);
        }

        var all = perThread.SelectMany(l => l).OrderBy(r => r.Start).ToList();
        Assert.Equal(all.Count, all.Select(r => r.Start).Distinct().Count()); // no two inserts got the same space
        Assert.Equal(all.Count, stats.Records);
        int crossing = all.Count(r => r.Size >= 0 && geometry.SegmentOf(r.Start) != geometry.SegmentOf(r.End - 1));
        Assert.True(crossing >= 10, $"only {crossing} records cross a segment boundary");
        if (walBuffers <= 64 * 1024)
            Assert.True(stats.BuffersFull > 1000, $"only {stats.BuffersFull} evictions with a {walBuffers}-byte ring");

        // Read everything back: positions, order, payloads; the reader checks CRCs and xl_prev.
        using var reader = new WalReader(new SegmentDirectorySource(dir.Path, SegmentSize),
            new WalReaderOptions { SegmentSize = SegmentSize, StopAt = end });
        reader.BeginRead(all[0].Start);
        var lastSeq = new Dictionary<uint, uint>();
        foreach (var expected in all)
        {
            var outcome = reader.ReadRecord();
            Assert.True(outcome.IsRecord, $"at {expected.Start}: {outcome.Error?.Message}");
            var r = outcome.Record!;
            Assert.Equal(expected.Start, r.Lsn);
            if (expected.Size < 0)
            {
                Assert.Equal(RmgrIds.Xlog, r.RmgrId);
                continue;
            }
            Assert.Equal(Rmgr, r.RmgrId);
            Assert.Equal(expected.End, reader.EndRecPtr);
            Assert.Equal(expected.Xid, r.Xid);
            Assert.Equal(expected.Size, r.MainData.Length);
            var want = new byte[expected.Size];
            Fill(want, expected.Xid);
            Assert.True(r.MainData.SequenceEqual(want), $"payload of {r.Lsn} differs");
            uint thread = r.Xid >> 24, seq = r.Xid & 0xFFFFFF;
            Assert.True(!lastSeq.TryGetValue(thread, out var prev) || seq > prev, $"thread {thread}'s records out of order at {r.Lsn}");
            lastSeq[thread] = seq;
        }
        Assert.Equal(CorruptionKind.StopPointReached, reader.ReadRecord().Error!.Kind);

        var pg = PgTools.Waldump(["-p", dir.Path, "-s", all[0].Start.ToString(), "-e", end.ToString(), "-q"]);
        Assert.True(pg.ExitCode == 0, pg.Stderr);
    }

    // Mostly small records, a long tail to 64 kB (log-uniform), some empty.
    private static int RandomSize(Random rng) => rng.Next(20) == 0 ? 0 : (int)Math.Min(64 * 1024, Math.Exp(rng.NextDouble() * Math.Log(64 * 1024)));

    private static void Fill(Span<byte> span, uint xid)
    {
        for (int i = 0; i < span.Length; i++)
            span[i] = (byte)(xid * 31 + (uint)i * 7 + (uint)(i >> 8));
    }
}
