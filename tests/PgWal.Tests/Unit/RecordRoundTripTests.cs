using PgWal.Format;
using PgWal.Insert;
using PgWal.Read;
using PgWal.Storage;
using PgWal.Tests.Infrastructure;

namespace PgWal.Tests.Unit;

// Thousands of random records written with WalEngine and read back with WalReader: every field,
// block, data byte and restored page image must come back, across page and segment boundaries.
public class RecordRoundTripTests
{
    private sealed record ExpectedBlock(int Id, RelFileLocator Rel, ForkNumber Fork, uint Block, byte[] Data, byte[]? Page,
        bool Standard, bool KeepData, bool WillInit);

    private sealed record ExpectedRecord(byte Rmgr, byte Info, uint Xid, byte[] MainData, List<ExpectedBlock> Blocks,
        ushort Origin, uint TopXid, WalCompression Compression);

    [Theory]
    [InlineData(WalGeometry.MinSegmentSize, 4000, 1)]
    [InlineData(WalGeometry.DefaultSegmentSize, 3000, 2)]
    public void RandomRecords_ReadBackEqual(int segmentSize, int count, int seed)
    {
        var rng = new Random(seed);
        using var wal = new TestWal(segmentSize);
        var expected = new List<ExpectedRecord>();
        var builder = new RecordBuilder();
        for (int i = 0; i < count; i++)
        {
            var e = RandomRecord(rng, i);
            expected.Add(e);
            wal.Writer.Compression = e.Compression;
            Build(builder, e);
            wal.Insert(builder);
            if (rng.Next(400) == 0)
            {
                var sw = wal.Writer.SwitchSegment();
                if (sw.Start != sw.End)
                {
                    expected.Add(new ExpectedRecord(RmgrIds.Xlog, XlogInfo.Switch, 0, [], [], 0, 0, WalCompression.None));
                    wal.Records.Add(sw);
                }
            }
        }
        wal.Flush();

        using var reader = TestWal.Reader(new SegmentDirectorySource(wal.WalDirectory, segmentSize), segmentSize, wal.Writer.InsertedUpTo);
        reader.BeginRead(wal.Records[0].Start);
        var page = new byte[8192];
        int crossings = 0, segmentCrossings = 0;
        for (int i = 0; i < expected.Count; i++)
        {
            var outcome = reader.ReadRecord();
            Assert.True(outcome.IsRecord, $"record {i}: {outcome.Error}");
            var r = outcome.Record!;
            var e = expected[i];
            Assert.Equal(wal.Records[i].Start, r.Lsn);
            if (e.Rmgr != RmgrIds.Xlog || e.Info != XlogInfo.Switch)
                Assert.Equal(wal.Records[i].End, r.NextLsn);
            if (r.Lsn.Value / 8192 != (r.Lsn.Value + r.TotalLength - 1) / 8192)
                crossings++;
            if (wal.Geometry.SegmentOf(r.Lsn) != wal.Geometry.SegmentOf(r.Lsn + r.TotalLength))
                segmentCrossings++;
            Assert.Equal(e.Rmgr, r.RmgrId);
            Assert.Equal(e.Info, r.Info);
            Assert.Equal(e.Xid, r.Xid);
            Assert.Equal(e.Origin, r.Origin);
            Assert.Equal(e.TopXid, r.TopLevelXid);
            Assert.True(e.MainData.AsSpan().SequenceEqual(r.MainData), $"record {i}: main data differs");
            int maxId = e.Blocks.Count == 0 ? -1 : e.Blocks[^1].Id;
            Assert.Equal(maxId, r.MaxBlockId);
            foreach (var b in e.Blocks)
            {
                Assert.True(r.HasBlock(b.Id));
                ref readonly var d = ref r.Block(b.Id);
                Assert.Equal(b.Rel, d.Rel);
                Assert.Equal(b.Fork, d.Fork);
                Assert.Equal(b.Block, d.Block.Value);
                Assert.Equal(b.WillInit, d.WillInit);
                Assert.Equal(b.Page != null, d.HasImage);
                bool dataKept = b.Page == null || b.KeepData;
                Assert.True((dataKept ? b.Data : []).AsSpan().SequenceEqual(r.BlockData(b.Id)), $"record {i} block {b.Id}: data differs");
                if (b.Page != null)
                {
                    Assert.True(d.ApplyImage);
                    Assert.Null(r.TryRestoreImage(b.Id, page));
                    var want = (byte[])b.Page.Clone();
                    if (b.Standard)
                    {
                        var (holeOffset, holeLength) = DataPageHeader.Hole(want);
                        want.AsSpan(holeOffset, holeLength).Clear();
                        Assert.Equal(holeOffset, d.HoleOffset);
                        Assert.Equal(holeLength, d.HoleLength);
                    }
                    Assert.True(want.AsSpan().SequenceEqual(page), $"record {i} block {b.Id}: restored page differs");
                }
            }
        }
        var end = reader.ReadRecord();
        Assert.Equal(CorruptionKind.StopPointReached, end.Error!.Kind);
        Assert.True(crossings > count / 20, $"only {crossings} page-crossing records");
        if (segmentSize == WalGeometry.MinSegmentSize)
            Assert.True(segmentCrossings > 3, $"only {segmentCrossings} segment-crossing records");
    }

    private static ExpectedRecord RandomRecord(Random rng, int i)
    {
        byte rmgr = (byte)(128 + rng.Next(128));
        byte info = (byte)(rng.Next(16) << 4);
        int mainLength = rng.Next(100) switch
        {
            < 20 => 0,
            < 85 => rng.Next(1, 256),
            < 99 => rng.Next(256, 9000),
            _ => rng.Next(9000, 1024 * 1024 + 1),
        };
        var main = new byte[mainLength];
        rng.NextBytes(main);
        var blocks = new List<ExpectedBlock>();
        int blockCount = rng.Next(10) == 0 ? rng.Next(5, 34) : rng.Next(0, 4);
        int id = 0;
        var rel = new RelFileLocator((uint)rng.Next(1, 3000), (uint)rng.Next(0, 3), (uint)rng.Next(1, 90000));
        for (int k = 0; k < blockCount && id <= 32; k++, id++)
        {
            if (rng.Next(3) == 0)
                rel = new RelFileLocator((uint)rng.Next(1, 3000), (uint)rng.Next(0, 3), (uint)rng.Next(1, 90000));
            var data = new byte[rng.Next(4) == 0 ? 0 : rng.Next(1, rng.Next(20) == 0 ? 65536 : 300)];
            rng.NextBytes(data);
            byte[]? page = null;
            bool standard = false, keep = false, willInit = false;
            if (rng.Next(5) == 0)
            {
                page = new byte[8192];
                standard = rng.Next(3) != 0;
                rng.NextBytes(page);
                if (standard)
                {
                    ushort lower = (ushort)rng.Next(24, 4000), upper = (ushort)rng.Next(lower, 8193);
                    if (rng.Next(4) == 0)
                        page.AsSpan(100, 7000).Fill((byte)rng.Next(3)); // compressible
                    DataPageHeader.WriteLowerUpper(page, lower, upper);
                }
                keep = rng.Next(4) == 0;
            }
            else
            {
                willInit = rng.Next(10) == 0;
            }
            blocks.Add(new ExpectedBlock(id, rel, (ForkNumber)rng.Next(4), (uint)rng.Next(), data, page, standard, keep, willInit));
            if (rng.Next(6) == 0)
                id += rng.Next(1, 3);
        }
        var compression = (WalCompression)rng.Next(4);
        return new ExpectedRecord(rmgr, info, (uint)rng.Next(0, 5) == 0 ? 0 : (uint)(1000 + i), main, blocks,
            rng.Next(30) == 0 ? (ushort)rng.Next(1, 65535) : (ushort)0, rng.Next(30) == 0 ? (uint)rng.Next(1, int.MaxValue) : 0, compression);
    }

    private static void Build(RecordBuilder b, ExpectedRecord e)
    {
        b.Begin(e.Rmgr, e.Info, e.Xid);
        foreach (var blk in e.Blocks)
        {
            var flags = blk.Page != null
                ? BlockRegistration.ForceImage | (blk.Standard ? BlockRegistration.Standard : 0) | (blk.KeepData ? BlockRegistration.KeepData : 0)
                : (blk.WillInit ? BlockRegistration.WillInit : BlockRegistration.NoImage);
            b.RegisterBlock(blk.Id, blk.Rel, blk.Fork, new BlockNumber(blk.Block), flags, blk.Page);
            if (blk.Data.Length > 0)
                b.RegisterBlockData(blk.Id, blk.Data);
        }
        b.RegisterData(e.MainData);
        if (e.Origin != 0)
            b.SetOrigin(e.Origin);
        if (e.TopXid != 0)
            b.SetTopLevelXid(e.TopXid);
    }
}
