using PgWal.Format;
using PgWal.Read;
using PgWal.Tests.Infrastructure;

namespace PgWal.Tests.Corruption;

// A single flipped bit anywhere in a record's bytes (its header, sub-headers, images, data) must
// stop the reader at that record: CRC-32C detects every single-bit error, the prev-link and length
// checks catch the rest. Page headers inside the record are covered by the matrix tests. On the
// generated WAL and on every version's real fixtures.
public class BitFlipTests
{
    public static TheoryData<string> Corpora() => [.. GeneratedCorpus.AllNames];

    [Theory]
    [MemberData(nameof(Corpora))]
    public void SingleBitFlip_AnywhereInARecord_IsCaught(string corpusName)
    {
        var corpus = GeneratedCorpus.Named(corpusName);
        var source = corpus.CopyToMemory();
        var g = corpus.Geometry;
        var reader = new WalReader(source, new WalReaderOptions { SegmentSize = GeneratedCorpus.SegmentSize, ReadAheadBytes = 64 * 1024 });
        var rng = new Random(7);

        // Records of every kind, with all page-crossing and split-header ones among them.
        // Every 50th record of the larger corpora; the compression fixtures hold a few hundred
        // records (mostly images), so as many victims are drawn from them by a smaller step.
        var victims = new List<int>();
        int step = Math.Clamp(corpus.Starts.Count / 60, 1, 50);
        int crossings = 0;
        for (int i = 1; i < corpus.Starts.Count - 1; i++)
        {
            ulong length = corpus.Starts[i + 1] - corpus.Starts[i];
            bool crossing = corpus.Starts[i].Value / 8192 != (corpus.Starts[i + 1].Value - 1) / 8192;
            if (length >= 20_000)
                continue;
            if (i % step == 0 || (crossing && crossings++ % 8 == 0))
                victims.Add(i);
        }
        Assert.True(victims.Count >= 40, $"only {victims.Count} victims");

        long flips = 0;
        foreach (int i in victims)
        {
            reader.BeginRead(corpus.Starts[i - 1]);
            Assert.True(reader.ReadRecord().IsRecord);
            var r = reader.ReadRecord();
            Assert.True(r.IsRecord);
            uint total = r.Record!.TotalLength;
            Lsn start = corpus.Starts[i];
            foreach (Lsn at in RecordBytePositions(g, start, total))
            {
                var b = source.At(g, at, 1);
                byte mask = (byte)(1 << rng.Next(8));
                b[0] ^= mask;
                reader.BeginRead(corpus.Starts[i - 1]);
                Assert.True(reader.ReadRecord().IsRecord);
                var outcome = reader.ReadRecord();
                Assert.False(outcome.IsRecord, $"flip of bit {mask:X2} at {at} in record {start} went unnoticed");
                Assert.Equal(start, outcome.Error!.RecordLsn);
                b[0] ^= mask;
                flips++;
            }
        }
        Assert.True(flips > 10_000, $"only {flips} flips");
    }

    // The physical positions of a record's bytes, skipping the page headers it spans.
    private static IEnumerable<Lsn> RecordBytePositions(WalGeometry g, Lsn start, uint total)
    {
        Lsn p = start;
        for (uint n = 0; n < total; n++)
        {
            if (WalGeometry.OffsetInPage(p) == 0)
                p += (ulong)g.PageHeaderSizeAt(p);
            yield return p;
            p += 1;
        }
    }
}
