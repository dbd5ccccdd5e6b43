// KvTransaction: one atomic change to the tree (a WriteBatch). It runs under the store's write lock,
// so transactions never interleave. Pages it only looks at are pinned; pages it changes are locked
// exclusively and stay locked until the XACT COMMIT record is inserted, then are stamped with the
// commit's end LSN before being released (no-steal): a page holding uncommitted changes can never
// be written back, because the WAL rule would first need the commit to be durable. Redo pairs with
// this (KvResourceManager.RedoAtCommit): replay applies a transaction's records at its commit.
// Each WAL record is built from per-block page operations (PageOps) that are applied to the pages
// here and again, identically, by redo.
using PgWal.Diagnostics;
using PgWal.Format;
using PgWal.Insert;
using PgWal.Pages;

namespace PgWal.Kv.Tree;

internal sealed class KvTransaction : IDisposable
{
    /// <summary>Block ids 0..32; one is kept for the meta page.</summary>
    public const int MaxPagesPerRecord = 31;

    private readonly WalInstance _instance;
    private readonly RelFileLocator _rel;
    private readonly RecordBuilder _builder;
    private readonly Dictionary<uint, PageBuffer> _pinned = [];   // looked at, not locked
    private readonly Dictionary<uint, PageBuffer> _held = [];     // locked exclusively until commit
    private readonly HashSet<uint> _changed = [];                 // held pages some record changed
    private readonly List<(uint Block, PageOpWriter Ops, bool WillInit)> _record = [];
    private readonly Stack<PageOpWriter> _spareWriters = new();
    private readonly byte[] _mainData = new byte[1100];
    private int _mainLength;
    private bool _metaDirty;
    private MetaData _meta;
    private Lsn _seenUpTo;                 // highest page LSN this transaction read (see SeenUpTo)
    // Held from the first record until the commit stamp: a checkpoint's redo point must not fall
    // between them, or a page changed before it would carry an LSN after it and its next change
    // would get no full-page image (see WalInstance.DelayCheckpointStart).
    private CheckpointDelay _delay;

    public KvTransaction(WalInstance instance, RelFileLocator rel, RecordBuilder builder, MetaData meta)
    {
        _instance = instance;
        _rel = rel;
        _builder = builder;
        _meta = meta;
    }

    /// <summary>Starts a new transaction on the tree as <paramref name="meta"/> describes it.</summary>
    public void Begin(MetaData meta)
    {
        Release();
        Dirtied = false;
        _record.Clear();
        _meta = meta;
        _metaDirty = false;
        Xid = 0;
        RecordsLogged = 0;
        _mainLength = 0;
        _seenUpTo = Lsn.Invalid;
    }

    /// <summary>
    /// The highest LSN of any page this transaction read: a transaction that ends up logging
    /// nothing (a delete of an absent key) answered from this state, so it is durable only once the
    /// WAL is flushed this far — another writer's commit it saw may not be yet.
    /// </summary>
    public Lsn SeenUpTo => _seenUpTo;

    /// <summary>True once a page was changed in memory: from then on a failure cannot be undone (PANIC).</summary>
    public bool Dirtied { get; private set; }

    /// <summary>
    /// Unpins the pages the last operation only looked at (its descent); the pages it changed stay
    /// locked until the commit. Keeps a batch's pins to the pages it changes.
    /// </summary>
    public void EndOperation()
    {
        foreach (var buffer in _pinned.Values)
            buffer.Dispose();
        _pinned.Clear();
    }

    private void EnsureRoomForOneMorePage()
    {
        if (PagesHeld >= _instance.Buffers.Count - 4)
            throw new InvalidOperationException($"kv: the transaction holds {PagesHeld} pages, all the buffer pool ({_instance.Buffers.Count} buffers) can spare; split the batch or raise SharedBuffers");
    }

    /// <summary>The transaction id, assigned with the first record (0 until then).</summary>
    public uint Xid { get; private set; }

    /// <summary>The last commit record this transaction object wrote.</summary>
    public KvCommit? LastCommit { get; private set; }

    public int RecordsLogged { get; private set; }

    public int PagesHeld => _held.Count + _pinned.Count;

    /// <summary>Named crash point for tests: called with a record's info right after it is inserted.</summary>
    public Action<byte>? AfterLog { get; set; }

    /// <summary>The meta page's fields as this transaction has changed them.</summary>
    public MetaData Meta
    {
        get => _meta;
        set
        {
            _meta = value;
            _metaDirty = true;
        }
    }

    /// <summary>A page to read (pinned until commit; the store's write lock keeps other writers away).</summary>
    public ReadOnlySpan<byte> Peek(uint block)
    {
        if (_held.TryGetValue(block, out var held))
            return held.Page;
        if (!_pinned.TryGetValue(block, out var pinned))
        {
            EnsureRoomForOneMorePage();
            _pinned[block] = pinned = _instance.Buffers.Read(_rel, ForkNumber.Main, new BlockNumber(block));
            _seenUpTo = Lsn.Max(_seenUpTo, DataPageHeader.ReadLsn(pinned.Page));
        }
        return pinned.Page;
    }

    /// <summary>A page's kind and next link, read without keeping it pinned (for walking long chains).</summary>
    public (PageKind Kind, uint Next) Inspect(uint block)
    {
        if (_held.TryGetValue(block, out var buffer) || _pinned.TryGetValue(block, out buffer))
            return (KvPage.Kind(buffer.Page), KvPage.Next(buffer.Page));
        using var transient = _instance.Buffers.Read(_rel, ForkNumber.Main, new BlockNumber(block));
        return (KvPage.Kind(transient.Page), KvPage.Next(transient.Page));
    }

    /// <summary>
    /// Allocates a page: the head of the free list, or a new block at the end. The caller must make
    /// it a WILL_INIT block of the next record (its first operation INIT).
    /// </summary>
    public uint Allocate()
    {
        if (_meta.FreeHead != KvPage.NoPage)
        {
            uint block = _meta.FreeHead;
            var page = Peek(block);
            if (KvPage.Kind(page) is not (PageKind.Free or PageKind.Overflow))   // freed chains join the list whole
                throw new InvalidDataException($"kv: free-list page {block} is a {KvPage.Kind(page)} page");
            Meta = _meta with { FreeHead = KvPage.Next(page), FreePages = _meta.FreePages - 1 };
            return block;
        }
        Meta = _meta with { Blocks = _meta.Blocks + 1 };
        return _meta.Blocks - 1;
    }

    /// <summary>The operations for <paramref name="block"/> in the record being built.</summary>
    public PageOpWriter Block(uint block, bool willInit = false)
    {
        foreach (var entry in _record)
        {
            if (entry.Block == block)
                return entry.Ops;
        }
        var ops = _spareWriters.Count > 0 ? _spareWriters.Pop() : new PageOpWriter();
        ops.Reset();
        _record.Add((block, ops, willInit));
        return ops;
    }

    public Span<byte> MainData(int length)
    {
        _mainLength = length;
        return _mainData.AsSpan(0, length);
    }

    /// <summary>
    /// Inserts the record built so far: locks its pages, applies each block's operations, marks
    /// them dirty, inserts (images per full_page_writes), stamps the record's end LSN.
    /// </summary>
    public Lsn Log(byte info)
    {
        if (_metaDirty)
        {
            Block(KvPage.MetaBlock).Meta(_meta);
            _metaDirty = false;
        }
        if (_record.Count > MaxPagesPerRecord + 1)
            throw new InvalidOperationException($"kv: a record may change at most {MaxPagesPerRecord + 1} pages ({_record.Count})");
        if (!_delay.IsHeld)
            _delay = _instance.DelayCheckpointStart();
        if (Xid == 0)
            Xid = _instance.AssignTransactionId();
        _builder.Begin(KvResourceManager.RmgrId, info, Xid);
        for (int id = 0; id < _record.Count; id++)   // lock every page first: running out of buffers changes nothing
            Lock(_record[id].Block, _record[id].WillInit);
        Dirtied = true;
        for (int id = 0; id < _record.Count; id++)
        {
            var (block, ops, willInit) = _record[id];
            var buffer = _held[block];
            PageOps.Apply(buffer.Page, ops.Written);
            buffer.MarkDirty();
            buffer.RegisterWith(_builder, id, willInit ? BlockRegistration.Standard | BlockRegistration.WillInit : BlockRegistration.Standard);
            _builder.RegisterBlockData(id, ops.Written);
            _changed.Add(block);
        }
        if (_mainLength > 0)
            _builder.RegisterData(_mainData.AsSpan(0, _mainLength));
        Lsn end = _instance.Insert(_builder);
        foreach (var (block, ops, _) in _record)
        {
            _held[block].SetLsn(end);
            _spareWriters.Push(ops);
        }
        _record.Clear();
        _mainLength = 0;
        RecordsLogged++;
        AfterLog?.Invoke(info);
        return end;
    }

    private PageBuffer Lock(uint block, bool willInit)
    {
        if (_held.TryGetValue(block, out var held))
            return held;
        PageBuffer buffer;
        if (_pinned.Remove(block, out var pinned))
        {
            buffer = pinned;
            buffer.LockExclusive();
        }
        else if (willInit)
        {
            EnsureRoomForOneMorePage();
            buffer = _instance.Buffers.Read(_rel, ForkNumber.Main, new BlockNumber(block), ReadMode.ZeroAndLock);
        }
        else
        {
            EnsureRoomForOneMorePage();
            buffer = _instance.Buffers.Read(_rel, ForkNumber.Main, new BlockNumber(block));
            buffer.LockExclusive();
        }
        _held[block] = buffer;
        return buffer;
    }

    /// <summary>
    /// Inserts the XACT COMMIT record (with its timestamp), stamps every changed page with its end
    /// and releases the pages. Returns the LSN to flush to, or Invalid when nothing was logged.
    /// </summary>
    public Lsn Commit()
    {
        if (RecordsLogged == 0)
        {
            Release();
            return Lsn.Invalid;
        }
        long time = PgTimestamp.FromDateTimeOffset(DateTimeOffset.UtcNow);
        BuiltinRecords.Commit(_builder, Xid, time);
        Lsn end = _instance.Wal.Insert(_builder, out Lsn start);
        LastCommit = new KvCommit(Xid, time, start, end);
        foreach (uint block in _changed)
            _held[block].SetLsn(end);
        Release();
        return end;
    }

    private void Release()
    {
        _delay.Dispose();
        foreach (var buffer in _held.Values)
            buffer.Dispose();
        foreach (var buffer in _pinned.Values)
            buffer.Dispose();
        _held.Clear();
        _pinned.Clear();
        _changed.Clear();
    }

    /// <summary>Releases pages without committing (only after a failure that faults the store).</summary>
    public void Dispose() => Release();
}
