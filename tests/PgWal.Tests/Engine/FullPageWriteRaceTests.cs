// FullPageWriteRaceTests: the redo pointer moving between a record's assembly and its insertion
// (XLogInsertRecord's "RedoRecPtr changed, recompute" retry). Inserters change their own pages
// while another thread begins redo points as fast as it can; afterwards every block reference in
// the WAL must carry an image exactly when the page's LSN (the end of its previous change) was at
// or before the redo point in force where the record starts — the latest redo point at or before
// its start, since a redo point is the insert position taken under all insertion locks.
using PgWal.Format;
using PgWal.Insert;
using PgWal.Read;
using PgWal.Storage;
using PgWal.Tests.Infrastructure;
using PgWal.Write;

namespace PgWal.Tests.Engine;

public sealed class FullPageWriteRaceTests
{
    private const int Inserters = 3;
    private const int ChangesEach = 15_000;
    private const int MinMoves = 200;

    [Fact]
    public void RedoPointMovingDuringInsert_EveryFirstChangeAfterItCarriesAnImage()
    {
        using var dir = new TempDirectory("fpwrace");
        var geometry = new WalGeometry(1 << 20);
        var options = new WalOptions { SegmentSize = geometry.SegmentSize, SystemIdentifier = 43, WalWriterDelay = TimeSpan.FromMilliseconds(10) };
        var changes = new List<(Lsn Start, Lsn PageLsnBefore)>[Inserters];
        var redoPoints = new HashSet<Lsn>();   // the mover's; read after it has ended
        int moves = 0;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        Lsn first, last;
        using (var engine = new WalEngine(new FileSystemWalStorage(dir.Path), options, WalStartPoint.AtSegment(new SegmentNumber(1), geometry)))
        {
            first = engine.InsertedUpTo;
            int running = Inserters;
            var mover = new Thread(() =>
            {
                while (Volatile.Read(ref running) > 0)
                {
                    if (redoPoints.Add(engine.BeginRedoPoint()))   // count moves past new WAL only
                        Interlocked.Increment(ref moves);
                    Thread.SpinWait(Random.Shared.Next(0, 300));
                }
            });
            var threads = Enumerable.Range(0, Inserters).Select(t => new Thread(() =>
            {
                var list = changes[t] = new(ChangesEach);
                var rel = new RelFileLocator(1663, 5, 20000);
                var page = new byte[StandardPage.Size];
                StandardPage.Init(page);
                DataPageHeader.WriteLsn(page, new Lsn(1));
                var builder = new RecordBuilder();
                // At least ChangesEach changes, and on until the redo point has moved MinMoves times
                // (a loaded machine may starve the mover), within a time limit.
                for (int i = 0; i < ChangesEach || (Volatile.Read(ref moves) < MinMoves && clock.Elapsed < TimeSpan.FromSeconds(30)); i++)
                {
                    builder.Begin(200, 0x10).RegisterData([(byte)t]);
                    builder.RegisterBlock(0, rel, ForkNumber.Main, new BlockNumber((uint)t), BlockRegistration.Standard, page);
                    Lsn before = DataPageHeader.ReadLsn(page);
                    Lsn end = engine.Insert(builder, out Lsn start);
                    DataPageHeader.WriteLsn(page, end);              // PageSetLSN, as the page's owner
                    list.Add((start, before));
                }
                Interlocked.Decrement(ref running);
            })).ToList();
            mover.Start();
            threads.ForEach(th => th.Start());
            threads.ForEach(th => th.Join());
            mover.Join();
            engine.Flush();
            last = engine.InsertedUpTo;
        }

        var redo = redoPoints.Order().ToArray();
        var images = new Dictionary<Lsn, bool>();
        using (var reader = new WalReader(new SegmentDirectorySource(dir.Path, geometry.SegmentSize),
                   new WalReaderOptions { SegmentSize = geometry.SegmentSize, StopAt = last }))
        {
            reader.BeginRead(reader.FindNextRecord(first, out _));
            for (var outcome = reader.ReadRecord(); outcome.IsRecord; outcome = reader.ReadRecord())
            {
                if (outcome.Record!.RmgrId == 200)
                    images[outcome.Record.Lsn] = outcome.Record.Block(0).HasImage;
            }
        }

        int withImage = 0;
        var wrong = new List<string>();
        foreach (var (start, before) in changes.SelectMany(l => l))
        {
            int i = Array.BinarySearch(redo, start);
            Lsn inForce = i >= 0 ? redo[i] : ~i > 0 ? redo[~i - 1] : Lsn.Invalid;
            bool expected = before <= inForce;
            Assert.True(images.TryGetValue(start, out bool actual), $"record at {start} not read back");
            if (actual != expected && wrong.Count < 5)
                wrong.Add($"record at {start}: page LSN {before}, redo point in force {inForce}, image {actual}, expected {expected}");
            withImage += actual ? 1 : 0;
        }
        Assert.Empty(wrong);
        int total = changes.Sum(l => l.Count);
        Assert.Equal(total, images.Count);
        Assert.True(redo.Length >= MinMoves, $"only {redo.Length} redo points");
        Assert.True(withImage >= MinMoves / 2 && withImage < total, $"{withImage} images of {total} changes");
    }
}
