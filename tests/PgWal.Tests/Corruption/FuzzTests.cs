using System.Buffers.Binary;
using System.Diagnostics;
using PgWal.Diagnostics.Dump;
using PgWal.Diagnostics.Text;
using PgWal.Format;
using PgWal.Read;
using PgWal.Rmgr;
using PgWal.Tests.Infrastructure;

namespace PgWal.Tests.Corruption;

// Fuzzed pages: each iteration damages one page of a valid WAL (bit flips, garbage, torn tails,
// extreme header values, foreign pages, forged bodies with recomputed CRCs) and reads through it,
// formatting every record returned with its version's describers. Nothing may throw, hang, or
// allocate more than what valid records need. 100,000 pages of the generated WAL, and 50,000 of
// each real fixture of PostgreSQL 15, 16, 17 and 18 (every resource manager of that version, and
// pglz/lz4/zstd images).
public class FuzzTests
{
    private const long MaxAllocationPerIteration = 2 * 1024 * 1024;

    public static TheoryData<string> Corpora() => [.. GeneratedCorpus.AllNames];

    [Theory]
    [MemberData(nameof(Corpora))]
    public void FuzzedPages_NeverThrowHangOrOverAllocate(string corpusName)
    {
        var corpus = GeneratedCorpus.Named(corpusName);
        int iterations = corpusName == "generated" ? 100_000 : 50_000;
        var source = corpus.CopyToMemory();
        var g = corpus.Geometry;
        var reader = new WalReader(source, new WalReaderOptions { SegmentSize = GeneratedCorpus.SegmentSize, ReadAheadBytes = 64 * 1024 });
        var formatter = new RecordLineFormatter(new RecordDescribers());
        var text = new TextBuffer(1 << 20);
        // The generated corpus (first of AllNames) keeps its seed of 2024; each fixture gets its own.
        var rng = new Random(2024 + GeneratedCorpus.AllNames.ToList().IndexOf(corpusName));
        var restore = new byte[8192];
        var firstPage = g.SegmentStart(corpus.Geometry.SegmentOf(corpus.Starts[0]));
        int totalPages = (int)((corpus.End - firstPage) / 8192) + 1;
        var kinds = new Dictionary<CorruptionKind, int>();
        long records = 0;
        var worst = TimeSpan.Zero;

        // Warm up: grow the reader's buffers on valid data first.
        reader.BeginRead(corpus.Starts[0]);
        while (reader.ReadRecord().IsRecord)
        {
        }

        for (int iteration = 0; iteration < iterations; iteration++)
        {
            Lsn page = firstPage + (ulong)rng.Next(totalPages) * 8192;
            var bytes = source.At(g, page, 8192);
            bytes.CopyTo(restore);
            Mutate(rng, bytes, corpus, page);

            long before = GC.GetAllocatedBytesForCurrentThread();
            var sw = Stopwatch.StartNew();
            if (rng.Next(8) == 0)
            {
                reader.FindNextRecord(page + (ulong)rng.Next(8192), out _);
            }
            else
            {
                reader.BeginRead(corpus.Starts[corpus.RecordBefore(page)]);
            }
            for (int n = 0; n < 200; n++)
            {
                var o = reader.ReadRecord();
                if (!o.IsRecord)
                {
                    kinds[o.Error!.Kind] = kinds.GetValueOrDefault(o.Error.Kind) + 1;
                    break;
                }
                records++;
                text.Clear();
                formatter.Append(o.Record!, text, detailedBlocks: (n & 1) == 0);
                if (reader.EndRecPtr > page + 3 * 8192)
                    break;
            }
            sw.Stop();
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.True(allocated < MaxAllocationPerIteration, $"iteration {iteration}: allocated {allocated} bytes");
            Assert.True(sw.Elapsed < TimeSpan.FromSeconds(5), $"iteration {iteration}: took {sw.Elapsed}");
            if (sw.Elapsed > worst)
                worst = sw.Elapsed;
            restore.CopyTo(bytes);
        }
        Assert.True(records > iterations, $"only {records} records read");
        Assert.True(kinds.Count >= 10, "too few distinct failure kinds: " + string.Join(", ", kinds.Keys));
    }

    private static void Mutate(Random rng, Span<byte> page, GeneratedCorpus corpus, Lsn pageLsn)
    {
        switch (rng.Next(9))
        {
            case 0: // a few bit flips
                for (int k = rng.Next(1, 9); k > 0; k--)
                    page[rng.Next(8192)] ^= (byte)(1 << rng.Next(8));
                break;
            case 1: // a run of garbage
            {
                int at = rng.Next(8192), len = Math.Min(rng.Next(1, 65), 8192 - at);
                rng.NextBytes(page.Slice(at, len));
                break;
            }
            case 2: // torn: everything from a sector boundary on is lost
                page[(rng.Next(16) * 512)..].Clear();
                break;
            case 3: // an extreme value in a random aligned field
                BinaryPrimitives.WriteUInt32LittleEndian(page[(rng.Next(2048) * 4)..], Extreme(rng));
                break;
            case 4: // total garbage
                rng.NextBytes(page);
                break;
            case 5: // a page from elsewhere (wrong address, foreign continuation)
            {
                var segs = corpus.Segments.Values.ToArray();
                var other = segs[rng.Next(segs.Length)];
                other.AsSpan(rng.Next(other.Length / 8192) * 8192, 8192).CopyTo(page);
                break;
            }
            case 6: // page header fields
            {
                int[] offsets = [0, 2, 4, 8, 12, 16];
                int off = offsets[rng.Next(offsets.Length)];
                BinaryPrimitives.WriteUInt32LittleEndian(page[off..], (uint)(Extreme(rng) & (off == 0 || off == 2 ? 0xFFFF : 0xFFFFFFFF))
                    | (off == 0 ? BinaryPrimitives.ReadUInt32LittleEndian(page) & 0xFFFF0000 : 0));
                break;
            }
            case 7: // the first record header on the page
            {
                int hdr = (PageHeader.ReadInfo(page) & PageInfo.LongHeader) != 0 ? 40 : 24;
                if ((PageHeader.ReadInfo(page) & PageInfo.FirstIsContRecord) == 0)
                    BinaryPrimitives.WriteUInt32LittleEndian(page[(hdr + rng.Next(5) * 4)..], Extreme(rng));
                break;
            }
            default: // forge a record body (and rmgr) on this page, then fix its CRC so decoding is reached
                ForgeRecordWithValidCrc(rng, page, corpus, pageLsn);
                break;
        }
    }

    private static void ForgeRecordWithValidCrc(Random rng, Span<byte> page, GeneratedCorpus corpus, Lsn pageLsn)
    {
        int index = corpus.RecordBefore(pageLsn + 8192);
        Lsn rec = corpus.Starts[index];
        if (WalGeometry.PageStart(rec) != pageLsn)
            return;
        int off = WalGeometry.OffsetInPage(rec);
        uint total = BinaryPrimitives.ReadUInt32LittleEndian(page[off..]);
        if (total < 24 || off + total > 8192)
            return;
        var body = page.Slice(off, (int)total);
        for (int k = total > 24 ? rng.Next(1, 6) : 0; k > 0; k--)
            body[24 + rng.Next((int)total - 24)] = (byte)rng.Next(256);
        if (rng.Next(2) == 0)
            body[17] = (byte)rng.Next(22); // a builtin rmgr: its describer sees garbage
        RecordHeader.StoreCrc(body);
    }

    private static uint Extreme(Random rng) => rng.Next(8) switch
    {
        0 => 0,
        1 => uint.MaxValue,
        2 => int.MaxValue,
        3 => 24,
        4 => 8192,
        5 => 0x4000_0000,
        6 => (uint)rng.Next(0, 64),
        _ => (uint)rng.Next(),
    };
}
