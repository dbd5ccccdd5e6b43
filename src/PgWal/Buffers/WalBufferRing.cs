// WalBufferRing: the WAL buffers (XLogCtl->pages and xlblocks). A ring of 8 kB pages in aligned
// native memory (aligned so O_DIRECT can write straight from it); slot i holds the page whose
// LSN ≡ i (mod ring size). PageEnd[i] is the end LSN of the page the slot currently holds, 0 when
// none; an inserter may copy into a slot only when PageEnd equals the end of the page it wants.
// Pages are initialised (zeroed, header written) in LSN order under the mapping lock, never past
// InitializedUpTo + ring size; a slot is reused only after the page it held was written out
// (the evictor guarantees it), so initialising never destroys WAL that is not on disk yet.
using System.Runtime.InteropServices;
using PgWal.Format;
using PgWal.Insert;

namespace PgWal.Buffers;

/// <summary>Writes WAL out of the ring when an inserter needs a slot whose page is not written yet.</summary>
internal interface IWalBufferEvictor
{
    /// <summary>How far WAL has been written out of the ring (exclusive).</summary>
    Lsn WrittenUpTo { get; }

    /// <summary>Waits for insertions below <paramref name="upTo"/> and writes the WAL up to it (no sync).</summary>
    void WriteForEviction(Lsn upTo);
}

internal sealed unsafe class WalBufferRing : IDisposable
{
    private readonly WalGeometry _geometry;
    private readonly TimelineId _timeline;
    private readonly ulong _systemIdentifier;
    private readonly byte* _memory;
    private readonly int _pageMask;
    private readonly ulong[] _pageEnds;
    private readonly object _mappingLock = new();
    private Lsn _initializedUpTo;   // guarded by _mappingLock; pages below it have headers
    private long _buffersFull;

    public WalBufferRing(WalGeometry geometry, TimelineId timeline, ulong systemIdentifier, int bytes)
    {
        _geometry = geometry;
        _timeline = timeline;
        _systemIdentifier = systemIdentifier;
        int pages = 1 << (int)Math.Log2(Math.Max(4, bytes / WalGeometry.PageSize));
        Pages = pages;
        _pageMask = pages - 1;
        _pageEnds = new ulong[pages];
        _memory = (byte*)NativeMemory.AlignedAlloc((nuint)pages * WalGeometry.PageSize, 4096);
    }

    /// <summary>Number of pages in the ring (a power of two).</summary>
    public int Pages { get; }

    public int Bytes => Pages * WalGeometry.PageSize;

    /// <summary>Times an inserter had to write WAL out to free a slot (pg_stat_wal.wal_buffers_full).</summary>
    public long BuffersFull => Volatile.Read(ref _buffersFull);

    public IWalBufferEvictor? Evictor { get; set; }

    public int SlotOf(Lsn pageStart) => (int)((pageStart.Value / WalGeometry.PageSize) & (ulong)_pageMask);

    /// <summary>The bytes of slot <paramref name="slot"/> onwards, <paramref name="pages"/> pages.</summary>
    public Span<byte> Slots(int slot, int pages) => new(_memory + (long)slot * WalGeometry.PageSize, pages * WalGeometry.PageSize);

    /// <summary>
    /// Starts the ring at <paramref name="pageStart"/>; when <paramref name="partialPage"/> is not
    /// empty it is the valid beginning of that page (resuming after existing WAL), the rest zero.
    /// </summary>
    public void Start(Lsn pageStart, ReadOnlySpan<byte> partialPage)
    {
        lock (_mappingLock)
        {
            _initializedUpTo = pageStart;
            if (partialPage.IsEmpty)
                return;
            int slot = SlotOf(pageStart);
            var page = Slots(slot, 1);
            page.Clear();
            partialPage.CopyTo(page);
            Volatile.Write(ref _pageEnds[slot], (pageStart + WalGeometry.PageSize).Value);
            _initializedUpTo = pageStart + WalGeometry.PageSize;
        }
    }

    /// <summary>
    /// GetXLogBuffer: a pointer to <paramref name="ptr"/> inside its page, initialising pages (and
    /// writing old ones out) as needed. Before any waiting the inserter holding
    /// <paramref name="slot"/> publishes its progress, so the writer it may wait for never waits for it.
    /// </summary>
    public byte* Get(Lsn ptr, InsertionLocks locks, int slot)
    {
        Lsn pageStart = WalGeometry.PageStart(ptr);
        int index = SlotOf(pageStart);
        ulong expectedEnd = pageStart.Value + WalGeometry.PageSize;
        if (Volatile.Read(ref _pageEnds[index]) != expectedEnd)
        {
            locks.UpdateInsertingAt(slot, ProgressBefore(ptr));
            Advance(ptr, opportunistic: false);
            if (Volatile.Read(ref _pageEnds[index]) != expectedEnd)
                throw new InvalidOperationException($"WAL buffer for {pageStart} was not initialised (slot holds up to {new Lsn(_pageEnds[index])})");
        }
        return _memory + (long)index * WalGeometry.PageSize + WalGeometry.OffsetInPage(ptr);
    }

    // An inserter asking for the first byte after a page header has copied nothing into that page.
    private Lsn ProgressBefore(Lsn ptr)
    {
        int inPage = WalGeometry.OffsetInPage(ptr);
        return inPage == _geometry.PageHeaderSizeAt(WalGeometry.PageStart(ptr)) ? WalGeometry.PageStart(ptr) : ptr;
    }

    /// <summary>
    /// AdvanceXLInsertBuffer: initialises pages up to and including the one holding
    /// <paramref name="upTo"/>. Opportunistic (background) calls initialise only slots that are
    /// already written and stop at <paramref name="upTo"/> without waiting; they also stop, between
    /// pages, as soon as <paramref name="stop"/> says so (a shutdown does not wait for the walwriter
    /// to touch the whole ring: 16 MB of fresh memory took 30 ms, most of a one-shot `kv put`).
    /// </summary>
    public void Advance(Lsn upTo, bool opportunistic, Func<bool>? stop = null)
    {
        bool locked = false;
        try
        {
            Monitor.Enter(_mappingLock, ref locked);
            while (upTo >= _initializedUpTo)
            {
                if (stop != null && stop())
                    return;
                Lsn next = _initializedUpTo;
                int slot = SlotOf(next);
                ulong oldEnd = Volatile.Read(ref _pageEnds[slot]);
                var evictor = Evictor;
                if (evictor != null && oldEnd > evictor.WrittenUpTo.Value)
                {
                    if (opportunistic)
                        return;
                    // Release the mapping lock while waiting, so inserters below the old page can finish.
                    Monitor.Exit(_mappingLock);
                    locked = false;
                    evictor.WriteForEviction(new Lsn(oldEnd));
                    Interlocked.Increment(ref _buffersFull);
                    Monitor.Enter(_mappingLock, ref locked);
                    continue;
                }
                // Unmapped first (a full fence), so a reader copying the old page out (TryRead) sees
                // the change when it checks again after its copy.
                Interlocked.Exchange(ref _pageEnds[slot], 0);
                InitPage(slot, next);
                Volatile.Write(ref _pageEnds[slot], (next + WalGeometry.PageSize).Value);
                _initializedUpTo = next + WalGeometry.PageSize;
            }
        }
        finally
        {
            if (locked)
                Monitor.Exit(_mappingLock);
        }
    }

    /// <summary>
    /// XLogReadFromBuffers: copies the WAL at <paramref name="from"/> into <paramref name="destination"/>
    /// when every page of it is still in the ring; false (destination undefined) when a page has been
    /// replaced, before or during the copy. Only for WAL that is completely inserted (below the flush
    /// position): those bytes no longer change while their page stays mapped.
    /// </summary>
    public bool TryRead(Lsn from, Span<byte> destination)
    {
        int done = 0;
        while (done < destination.Length)
        {
            Lsn at = from + (ulong)done;
            Lsn pageStart = WalGeometry.PageStart(at);
            ulong wantEnd = (pageStart + WalGeometry.PageSize).Value;
            int slot = SlotOf(pageStart);
            int offset = (int)(at - pageStart);
            int n = Math.Min(destination.Length - done, WalGeometry.PageSize - offset);
            if (Volatile.Read(ref _pageEnds[slot]) != wantEnd)
                return false;
            new ReadOnlySpan<byte>(_memory + (long)slot * WalGeometry.PageSize + offset, n).CopyTo(destination.Slice(done, n));
            Interlocked.MemoryBarrier();
            if (Volatile.Read(ref _pageEnds[slot]) != wantEnd)
                return false;
            done += n;
        }
        return true;
    }

    /// <summary>A base backup is running: new pages do not get XLP_BKP_REMOVABLE (forcePageWrites).</summary>
    public bool BackupRunning => _backupRunning;
    private volatile bool _backupRunning;

    /// <summary>
    /// Starts or ends "a backup is running" for pages begun after <paramref name="insertPosition"/>:
    /// pages initialised ahead of it already (nothing is in them yet) get their flag changed too,
    /// so every page begun while the backup runs lacks XLP_BKP_REMOVABLE, as in PostgreSQL, where
    /// pages are initialised just in time. Called under all insertion locks.
    /// </summary>
    public void SetBackupRunning(bool running, Lsn insertPosition)
    {
        lock (_mappingLock)
        {
            _backupRunning = running;
            for (Lsn page = WalGeometry.PageCeiling(insertPosition); page < _initializedUpTo; page += WalGeometry.PageSize)
            {
                int slot = SlotOf(page);
                if (Volatile.Read(ref _pageEnds[slot]) != (page + WalGeometry.PageSize).Value)
                    continue;
                if (running)
                    PageHeader.RemoveInfoFlag(Slots(slot, 1), PageInfo.BackupRemovable);
                else
                    PageHeader.AddInfoFlag(Slots(slot, 1), PageInfo.BackupRemovable);
            }
        }
    }

    private void InitPage(int slot, Lsn pageStart)
    {
        var page = Slots(slot, 1);
        page.Clear();
        bool isLong = _geometry.OffsetInSegment(pageStart) == 0;
        var info = (_backupRunning ? PageInfo.None : PageInfo.BackupRemovable) | (isLong ? PageInfo.LongHeader : PageInfo.None);
        new PageHeader(PageHeader.MagicPg15, info, _timeline, pageStart, 0,
            _systemIdentifier, (uint)_geometry.SegmentSize, WalGeometry.PageSize).Write(page);
    }

    public void Dispose() => NativeMemory.AlignedFree(_memory);
}
