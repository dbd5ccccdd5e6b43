// WorkloadRecords: the individual record shapes the workload generator emits. Each method builds
// one record, inserts it, and counts its shape (the counts are reported by `pgwal generate`).
using PgWal.Format;
using PgWal.Insert;
using PgWal.Write;

namespace PgWal.Workload;

internal sealed class WorkloadRecords
{
    private static readonly RelFileLocator[] s_relations =
    [
        new(1663, 5, 16384), new(1663, 5, 16390), new(1663, 5, 16397), new(1664, 0, 1262), new(1663, 16384, 24576),
    ];

    private readonly WalEngine _writer;
    private readonly WorkloadState _s;
    private readonly Action<InsertResult> _onRecord;
    private readonly RecordBuilder _b = new();
    private readonly byte[][] _pages = new byte[BlockReferenceFormat.MaxBlockId + 1][];
    private readonly byte[] _payload = new byte[1024 * 1024];
    private uint _nextOid = 16384;

    public WorkloadRecords(WalEngine writer, WorkloadState state, Action<InsertResult> onRecord)
    {
        _writer = writer;
        _s = state;
        _onRecord = onRecord;
        for (int i = 0; i < _pages.Length; i++)
            _pages[i] = new byte[WorkloadPages.PageSize];
        state.Rng.NextBytes(_payload);
    }

    private Random Rng => _s.Rng;

    private void Emit(string shape, WalCompression compression = WalCompression.None)
    {
        _writer.Compression = compression;
        var end = _writer.Insert(_b, out var start);
        _s.Count(shape);
        _onRecord(new InsertResult(start, end));
    }

    public void ShutdownCheckpoint() => Checkpoint(shutdown: true);

    private void Checkpoint(bool shutdown)
    {
        var cp = new CheckPoint
        {
            Redo = _writer.NextRecordLsn,
            ThisTimeline = TimelineId.First,
            PrevTimeline = TimelineId.First,
            FullPageWrites = true,
            NextXid = _s.NextXid,
            NextOid = _nextOid,
            NextMulti = 1,
            OldestXid = 3,
            OldestXidDb = 1,
            OldestMulti = 1,
            OldestMultiDb = 1,
            Time = _s.Tick() / 1_000_000 + Diagnostics.PgTimestamp.PostgresEpochUnixSeconds,
            OldestActiveXid = shutdown ? 0 : _s.CurrentXid,
        };
        BuiltinRecords.Checkpoint(_b, cp, shutdown);
        Emit(shutdown ? "xlog:checkpoint-shutdown" : "xlog:checkpoint-online");
    }

    /// <summary>One record of every shape, so every run covers them all.</summary>
    public void ShapeTour()
    {
        AppRecord(blocks: 0, mainData: 0);
        AppRecord(blocks: 0, mainData: 200);
        AppRecord(blocks: 0, mainData: 4000);
        AppRecord(blocks: 1, mainData: 30);
        AppRecord(blocks: 4, mainData: 60, sameRel: true);
        AppRecord(blocks: 33, mainData: 10);
        AppRecord(blocks: 5, mainData: 10, gaps: true, forks: true, willInit: true);
        AppRecord(blocks: 2, mainData: 16, origin: true, topLevelXid: true);
        ImageRecord(WalCompression.None, standard: true);
        ImageRecord(WalCompression.None, standard: false);
        ImageRecord(WalCompression.None, standard: true, fullPage: true);
        ImageRecord(WalCompression.Pglz, standard: true);
        ImageRecord(WalCompression.Pglz, standard: false, sparse: true);
        if (WalWorkloadGenerator.Lz4Available)
        {
            ImageRecord(WalCompression.Lz4, standard: true);
            ImageRecord(WalCompression.Lz4, standard: false, sparse: true);
        }
        if (WalWorkloadGenerator.ZstdAvailable)
        {
            ImageRecord(WalCompression.Zstd, standard: true);
            ImageRecord(WalCompression.Zstd, standard: false, sparse: true);
        }
        ImageRecord(WalCompression.None, standard: true, keepData: true);
        ConsistencyCheckRecord();
        FpiRecord(3);
        Noop(0);
        Noop(64 * 1024);
        Noop(1024 * 1024);
        RestorePoint();
        Commit();
        Abort();
        Checkpoint(shutdown: false);
        NextOid();
        Switch();
    }

    public void RandomRecord()
    {
        int roll = Rng.Next(10_000);
        switch (roll)
        {
            case < 4_500:
                AppRecord(blocks: RandomBlockCount(), mainData: RandomSmallSize(), sameRel: Rng.Next(2) == 0,
                    gaps: Rng.Next(10) == 0, forks: Rng.Next(10) == 0, willInit: Rng.Next(20) == 0,
                    origin: Rng.Next(50) == 0, topLevelXid: Rng.Next(50) == 0);
                break;
            case < 6_500:
                Commit();
                break;
            case < 7_000:
                Abort();
                break;
            case < 8_000:
                ImageRecord(RandomCompression(), standard: Rng.Next(4) != 0, sparse: Rng.Next(3) == 0,
                    fullPage: Rng.Next(10) == 0, keepData: Rng.Next(5) == 0);
                break;
            case < 8_300:
                FpiRecord(Rng.Next(1, 4));
                break;
            case < 8_350:
                ConsistencyCheckRecord();
                break;
            case < 9_600:
                Noop(RandomSmallSize());
                break;
            case < 9_602:
                Noop(Rng.Next(64 * 1024, 1024 * 1024 + 1));
                break;
            case < 9_700:
                Noop(Rng.Next(256, 20_000));
                break;
            case < 9_800:
                RestorePoint();
                break;
            case < 9_850:
                Checkpoint(shutdown: false);
                break;
            case < 9_900:
                NextOid();
                break;
            case < 9_901:
                Switch();
                break;
            default:
                AppRecord(blocks: 0, mainData: Rng.Next(0, 3000));
                break;
        }
    }

    private int RandomBlockCount()
    {
        int r = Rng.Next(100);
        return r < 25 ? 0 : r < 85 ? Rng.Next(1, 3) : r < 98 ? Rng.Next(3, 9) : Rng.Next(9, 34);
    }

    private int RandomSmallSize()
    {
        int r = Rng.Next(100);
        return r < 10 ? 0 : r < 80 ? Rng.Next(1, 120) : r < 97 ? Rng.Next(120, 600) : Rng.Next(600, 3000);
    }

    private WalCompression RandomCompression()
    {
        int r = Rng.Next(8);
        return r switch
        {
            < 4 => WalCompression.None,
            < 6 => WalCompression.Pglz,
            6 => WalWorkloadGenerator.Lz4Available ? WalCompression.Lz4 : WalCompression.Pglz,
            _ => WalWorkloadGenerator.ZstdAvailable ? WalCompression.Zstd : WalCompression.Pglz,
        };
    }

    private uint TransactionXid()
    {
        if (_s.CurrentXid == 0)
            _s.CurrentXid = _s.NextXid++;
        return _s.CurrentXid;
    }

    private void AppRecord(int blocks, int mainData, bool sameRel = false, bool gaps = false, bool forks = false,
        bool willInit = false, bool origin = false, bool topLevelXid = false)
    {
        byte rmgr = (byte)(WalWorkloadGenerator.FirstAppRmgr + Rng.Next(3));
        byte info = (byte)(Rng.Next(16) << 4);
        _b.Begin(rmgr, info, Rng.Next(4) == 0 ? 0 : TransactionXid());
        var rel = s_relations[Rng.Next(s_relations.Length)];
        int id = 0;
        for (int i = 0; i < blocks && id <= BlockReferenceFormat.MaxBlockId; i++)
        {
            if (gaps && i > 0 && id < BlockReferenceFormat.MaxBlockId - 1 && Rng.Next(2) == 0)
                id++;
            if (!sameRel || Rng.Next(4) == 0)
                rel = s_relations[Rng.Next(s_relations.Length)];
            var fork = forks ? (ForkNumber)Rng.Next(4) : ForkNumber.Main;
            var flags = willInit && Rng.Next(2) == 0 ? BlockRegistration.WillInit : BlockRegistration.NoImage;
            _b.RegisterBlock(id, rel, fork, new BlockNumber((uint)Rng.Next(0, 100_000)), flags);
            int dataLength = Rng.Next(4) == 0 ? 0 : Rng.Next(1, 160);
            if (dataLength > 0)
                _b.RegisterBlockData(id, Payload(dataLength));
            id++;
        }
        if (mainData > 0)
            _b.RegisterData(Payload(mainData));
        if (origin)
            _b.SetOrigin((ushort)Rng.Next(1, 10));
        if (topLevelXid)
            _b.SetTopLevelXid(TransactionXid());
        Emit(blocks switch { 0 => "app:no-blocks", 33 => "app:33-blocks", _ => "app:blocks" });
        if (origin)
            _s.Count("app:origin");
        if (topLevelXid)
            _s.Count("app:toplevel-xid");
        if (mainData > 255)
            _s.Count("app:long-main-data");
    }

    private void ImageRecord(WalCompression compression, bool standard, bool sparse = false, bool fullPage = false, bool keepData = false)
    {
        byte rmgr = (byte)(WalWorkloadGenerator.FirstAppRmgr + Rng.Next(3));
        _b.Begin(rmgr, (byte)(Rng.Next(16) << 4), TransactionXid());
        int blocks = Rng.Next(1, 3);
        for (int id = 0; id < blocks; id++)
        {
            var page = _pages[id];
            if (!standard)
                WorkloadPages.Random(Rng, page);
            else if (sparse)
                WorkloadPages.Sparse(Rng, page);
            else
                WorkloadPages.Standard(Rng, page, Rng.Next(5, 60), fullPage);
            var flags = BlockRegistration.ForceImage | (standard ? BlockRegistration.Standard : 0) | (keepData ? BlockRegistration.KeepData : 0);
            _b.RegisterBlock(id, s_relations[Rng.Next(s_relations.Length)], ForkNumber.Main, new BlockNumber((uint)Rng.Next(0, 1000)), flags, page);
            _b.RegisterBlockData(id, Payload(Rng.Next(1, 100)));
        }
        _b.RegisterData(Payload(Rng.Next(0, 40)));
        Emit($"fpi:{compression.ToString().ToLowerInvariant()}{(standard && !fullPage ? "+hole" : "")}{(keepData ? "+keep-data" : "")}", compression);
    }

    private void ConsistencyCheckRecord()
    {
        var page = _pages[0];
        WorkloadPages.Standard(Rng, page, Rng.Next(5, 40));
        DataPageHeader.WriteLsn(page, _writer.InsertedUpTo); // newer than any redo point: no real FPW
        _b.Begin((byte)(WalWorkloadGenerator.FirstAppRmgr + 1), (byte)(0x30 | RecordHeader.CheckConsistency), TransactionXid());
        _b.RegisterBlock(0, s_relations[0], ForkNumber.Main, new BlockNumber(7), BlockRegistration.Standard, page);
        _b.RegisterBlockData(0, Payload(40));
        Emit("fpi:for-verification");
    }

    private void FpiRecord(int pages)
    {
        BuiltinRecords.Fpi(_b, Rng.Next(2) == 0 ? 0 : TransactionXid());
        for (int id = 0; id < pages; id++)
        {
            WorkloadPages.Standard(Rng, _pages[id], Rng.Next(3, 50));
            BuiltinRecords.AddFpiPage(_b, id, s_relations[Rng.Next(s_relations.Length)], ForkNumber.Main,
                new BlockNumber((uint)Rng.Next(0, 1000)), _pages[id], standardPage: true);
        }
        Emit("xlog:fpi", RandomCompression());
    }

    private void Noop(int size)
    {
        BuiltinRecords.Noop(_b, Payload(size));
        Emit(size >= 64 * 1024 ? "xlog:noop-large" : "xlog:noop");
    }

    private void RestorePoint()
    {
        BuiltinRecords.RestorePoint(_b, _s.Tick(), $"rp_{_s.Shapes.GetValueOrDefault("xlog:restore-point")}");
        Emit("xlog:restore-point");
    }

    private void NextOid()
    {
        _nextOid += 8192;
        BuiltinRecords.NextOid(_b, _nextOid);
        Emit("xlog:nextoid");
    }

    private void Commit()
    {
        BuiltinRecords.Commit(_b, TransactionXid(), _s.Tick());
        _s.CurrentXid = 0;
        Emit("xact:commit");
    }

    private void Abort()
    {
        BuiltinRecords.Abort(_b, TransactionXid(), _s.Tick());
        _s.CurrentXid = 0;
        Emit("xact:abort");
    }

    private void Switch()
    {
        var r = _writer.SwitchSegment();
        if (r.Start == r.End)
            return; // already at a segment start: nothing inserted
        _s.Count("xlog:switch");
        _onRecord(r);
    }

    private ReadOnlySpan<byte> Payload(int size)
    {
        int start = size >= _payload.Length ? 0 : Rng.Next(0, _payload.Length - size);
        return _payload.AsSpan(start, Math.Min(size, _payload.Length));
    }
}
