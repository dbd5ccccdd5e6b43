// BufferManager: a pool of 8 kB page buffers over relation files (bufmgr.c + freelist.c). Lookups
// go through a concurrent mapping table; a miss picks a victim by clock sweep under _replaceLock
// (one replacement at a time; hits never take it). The WAL rule lives in WriteBack: a dirty page is
// written only after the WAL is durable up to its LSN (WalFlush). Pages are verified when read
// (PageIsVerified, with checksums when enabled) and checksummed when written.
using System.Collections.Concurrent;
using PgWal.Format;
using PgWal.Storage;

namespace PgWal.Pages;

/// <summary>The shared buffer pool of a <see cref="WalInstance"/>. Thread-safe.</summary>
public sealed partial class BufferManager : IDisposable
{
    private readonly BufferDescriptor[] _descs;
    // Pinned chunks of ChunkPages pages (an array cannot hold 2 GB, a pool can): buffer i is page
    // i % ChunkPages of chunk i / ChunkPages. Contents are meaningful only once a buffer is loaded.
    private const int ChunkShift = 16, ChunkPages = 1 << ChunkShift;   // 512 MB per chunk
    private readonly byte[][] _chunks;
    private readonly ConcurrentDictionary<BufferTag, BufferDescriptor> _mapping = new();
    private readonly object _replaceLock = new();
    private readonly RelationFileSet _files;
    private int _clockHand;                               // guarded by _replaceLock
    private long _hits, _reads, _writes, _evictionWrites;
    private volatile Exception? _frozen;                  // set by Freeze: no page is written any more

    internal BufferManager(IRelationStorage storage, int buffers, bool dataChecksums)
    {
        if (buffers < 16 || buffers > WalInstanceOptions.MaxSharedBuffers)
            throw new ArgumentOutOfRangeException(nameof(buffers), buffers, $"the buffer pool needs 16 to {WalInstanceOptions.MaxSharedBuffers} buffers");
        _descs = new BufferDescriptor[buffers];
        for (int i = 0; i < buffers; i++)
            _descs[i] = new BufferDescriptor(i);
        _chunks = new byte[(buffers + ChunkPages - 1) >> ChunkShift][];
        for (int c = 0; c < _chunks.Length; c++)
            _chunks[c] = GC.AllocateUninitializedArray<byte>(Math.Min(ChunkPages, buffers - (c << ChunkShift)) * StandardPage.Size, pinned: true);
        _files = new RelationFileSet(storage);
        DataChecksums = dataChecksums;
    }

    /// <summary>A read-only pool (a read-only open): no page may be marked dirty, none is ever written.</summary>
    public bool ReadOnly { get; init; }

    /// <summary>Blocks in a relation fork's file now (pages still dirty in the pool beyond it are not counted).</summary>
    public uint FileBlockCount(RelFileLocator rel, ForkNumber fork) => _files.Get(rel, fork).BlockCount;

    /// <summary>Whether pages carry checksums (fixed at init, recorded in the control file).</summary>
    public bool DataChecksums { get; }

    /// <summary>Buffers in the pool.</summary>
    public int Count => _descs.Length;

    /// <summary>
    /// Makes the WAL durable up to an LSN before a page with that LSN is written (XLogFlush).
    /// During crash recovery the replayed WAL is already durable and this does nothing.
    /// </summary>
    internal Action<Lsn> WalFlush { get; set; } = _ => { };

    /// <summary>
    /// The end of the WAL once recovery is over (null during recovery): a page read with an LSN
    /// beyond it was changed by WAL that no longer exists, and is refused rather than used.
    /// </summary>
    internal Func<Lsn>? EndOfWal { get; set; }

    /// <summary>Counters: pages found in the pool, read from files, written back (all), written by evictions.</summary>
    public (long Hits, long Reads, long Writes, long EvictionWrites) Counters
        => (Interlocked.Read(ref _hits), Interlocked.Read(ref _reads), Interlocked.Read(ref _writes), Interlocked.Read(ref _evictionWrites));

    internal Memory<byte> PageMemory(int index) => _chunks[index >> ChunkShift].AsMemory((index & (ChunkPages - 1)) * StandardPage.Size, StandardPage.Size);

    /// <summary>
    /// ReadBuffer: pins the page, loading it when not in the pool. With <see cref="ReadMode.ZeroAndLock"/>
    /// the page is zeroed and returned locked exclusively.
    /// </summary>
    /// <exception cref="PageCorruptedException">The page read from the file fails verification.</exception>
    public PageBuffer Read(RelFileLocator rel, ForkNumber fork, BlockNumber block, ReadMode mode = ReadMode.Normal)
        => Read(new BufferTag(rel, fork, block), mode);

    /// <inheritdoc cref="Read(RelFileLocator, ForkNumber, BlockNumber, ReadMode)"/>
    public PageBuffer Read(BufferTag tag, ReadMode mode = ReadMode.Normal)
    {
        while (true)
        {
            if (_mapping.TryGetValue(tag, out var desc) && TryPinMapped(desc, tag))
            {
                Interlocked.Increment(ref _hits);
                var buffer = new PageBuffer(this, desc);
                if (mode == ReadMode.ZeroAndLock)
                {
                    buffer.LockExclusive();
                    buffer.Page.Clear();
                }
                return buffer;
            }
            var loaded = Load(tag, mode);
            if (loaded.IsValid)
                return loaded;
        }
    }

    // Pins a buffer found in the mapping if it still holds the tag, waiting out a load in progress.
    private static bool TryPinMapped(BufferDescriptor desc, BufferTag tag)
    {
        lock (desc)
        {
            if (!desc.Mapped || desc.Tag != tag)
                return false;
            while (desc.Loading)
                Monitor.Wait(desc);
            if (!desc.Mapped || desc.Tag != tag || !desc.Valid)
                return false;   // the load failed; try again (and fail the same way, reporting it)
            desc.Pins++;
            if (desc.UsageCount < BufferDescriptor.MaxUsageCount)
                desc.UsageCount++;
            return true;
        }
    }

    // A miss: claim a victim, map it to the tag, then read outside every lock but the buffer's.
    private PageBuffer Load(BufferTag tag, ReadMode mode)
    {
        BufferDescriptor victim;
        lock (_replaceLock)
        {
            if (_mapping.ContainsKey(tag))
                return default;     // loaded meanwhile: the caller retries as a hit
            victim = ClaimVictimLocked(tag);
        }
        var buffer = new PageBuffer(this, victim);
        var page = buffer.Page;
        try
        {
            if (mode == ReadMode.ZeroAndLock)
            {
                page.Clear();
            }
            else
            {
                var file = _files.Get(tag.Rel, tag.Fork);
                Interlocked.Increment(ref _reads);
                if (!file.Read(tag.Block, page))
                {
                    if (mode != ReadMode.ZeroBeyondEnd)
                        throw new IOException($"could not read block {tag.Block.Value} in file \"{file.Path}\": read only 0 of {StandardPage.Size} bytes");
                    page.Clear();
                }
                else if (StandardPage.Verify(page, tag.Block, DataChecksums) is { } reason)
                {
                    throw new PageCorruptedException(tag, reason);
                }
                else if (EndOfWal is { } endOfWal && DataPageHeader.ReadLsn(page) is var lsn && lsn > endOfWal())
                {
                    throw new PageCorruptedException(tag, $"page LSN {lsn} is beyond the end of WAL {endOfWal()}: the page holds changes from WAL that no longer exists (lost or set aside after damage); it cannot be changed safely");
                }
            }
        }
        catch
        {
            lock (victim)
            {
                _mapping.TryRemove(new KeyValuePair<BufferTag, BufferDescriptor>(tag, victim));
                victim.Mapped = false;
                victim.Loading = false;
                victim.Pins--;
                Monitor.PulseAll(victim);
            }
            throw;
        }
        if (mode == ReadMode.ZeroAndLock)
            buffer.LockExclusive();     // before anyone else can see the zeroed page
        lock (victim)
        {
            victim.Valid = true;
            victim.Loading = false;
            Monitor.PulseAll(victim);
        }
        return buffer;
    }

    // Clock sweep (StrategyGetBuffer). Called under _replaceLock; returns the victim pinned, mapped
    // to tag and marked Loading. A dirty victim is written back first (WAL rule applies).
    private BufferDescriptor ClaimVictimLocked(BufferTag tag)
    {
        int tries = 0;
        while (true)
        {
            var desc = _descs[_clockHand];
            _clockHand = (_clockHand + 1) % _descs.Length;
            bool dirty;
            lock (desc)
            {
                if (desc.Pins > 0 || desc.Loading)
                {
                    if (++tries > _descs.Length * (BufferDescriptor.MaxUsageCount + 2))
                        throw new InvalidOperationException($"no unpinned buffers available ({_descs.Length} buffers, all pinned)");
                    continue;
                }
                if (desc.UsageCount > 0)
                {
                    desc.UsageCount--;
                    continue;
                }
                desc.Pins = 1;
                dirty = desc.Dirty;
            }
            if (dirty)
            {
                // Conditional, like BufferAlloc's LWLockConditionalAcquire: we hold _replaceLock, so
                // waiting for a content lock another pinner holds could deadlock with that pinner's
                // next miss. A busy victim is skipped.
                bool written;
                try
                {
                    written = WriteBack(desc, conditional: true);
                }
                catch
                {
                    Unpin(desc);
                    throw;
                }
                if (written)
                    Interlocked.Increment(ref _evictionWrites);
            }
            lock (desc)
            {
                if (desc.Pins != 1 || desc.Dirty)
                {
                    desc.Pins--;    // someone found it through the mapping meanwhile; sweep on
                    continue;
                }
                if (desc.Mapped)
                    _mapping.TryRemove(new KeyValuePair<BufferTag, BufferDescriptor>(desc.Tag, desc));
                desc.Tag = tag;
                desc.Mapped = true;
                desc.Valid = false;
                desc.Loading = true;
                desc.CheckpointNeeded = false;
                desc.UsageCount = 1;
                _mapping[tag] = desc;
                return desc;
            }
        }
    }

    internal void Unpin(BufferDescriptor desc)
    {
        lock (desc)
        {
            if (desc.Pins <= 0)
                throw new InvalidOperationException($"{desc.Tag}: buffer released more often than pinned");
            desc.Pins--;
        }
    }

    internal static void MarkDirty(BufferDescriptor desc)
    {
        lock (desc)
            desc.Dirty = true;
    }

    // FlushBuffer: under the buffer's IO lock and a share content lock, writes the page if dirty —
    // after the WAL is flushed up to the page's LSN — and registers the file for the next fsync.
    // Dirty stays set until the write has completed and the file is registered (BM_DIRTY is cleared
    // only at the end of the I/O in PostgreSQL too), so a checkpoint starting meanwhile marks the
    // buffer and then waits on IoLock for this write. No MarkDirty can interleave: it needs the
    // exclusive lock. Conditional: give up (false) instead of waiting for either lock.
    // Returns whether it wrote. The caller holds a pin.
    internal bool WriteBack(BufferDescriptor desc, bool conditional = false)
    {
        if (_frozen is { } reason)
            throw new InvalidOperationException($"the buffer pool is frozen after a failure; no page is written: {reason.Message}", reason);
        if (conditional)
        {
            if (!Monitor.TryEnter(desc.IoLock))
                return false;
        }
        else
        {
            Monitor.Enter(desc.IoLock);
        }
        try
        {
            if (!conditional)
                desc.Content.EnterReadLock();
            else if (!desc.Content.TryEnterReadLock(0))
                return false;
            try
            {
                BufferTag tag;
                lock (desc)
                {
                    if (!desc.Dirty || !desc.Valid)
                        return false;
                    tag = desc.Tag;
                }
                var page = PageMemory(desc.Index).Span;
                WalFlush(DataPageHeader.ReadLsn(page));
                // Again under the content lock: a writer that PANICked releases its pages only after
                // freezing, and a write-back that waited for one of them must not write it now.
                if (_frozen is { } panic)
                    throw new InvalidOperationException($"the buffer pool is frozen after a failure; no page is written: {panic.Message}", panic);
                Span<byte> copy = stackalloc byte[StandardPage.Size];
                page.CopyTo(copy);
                if (DataChecksums)
                    StandardPage.SetChecksum(copy, tag.Block);
                _files.Get(tag.Rel, tag.Fork).Write(tag.Block, copy);
                _files.RegisterWrite(tag.Rel, tag.Fork);
                Interlocked.Increment(ref _writes);
                lock (desc)
                {
                    desc.Dirty = false;
                    desc.CheckpointNeeded = false;
                }
                return true;
            }
            finally
            {
                desc.Content.ExitReadLock();
            }
        }
        finally
        {
            Monitor.Exit(desc.IoLock);
        }
    }

    /// <summary>
    /// Stops every page write from now on (a PANIC): pages in memory may hold changes the WAL does
    /// not vouch for, so the files must stay as they are until recovery.
    /// </summary>
    internal void Freeze(Exception reason) => _frozen ??= reason;

    /// <summary>Closes the relation files. Dirty pages are not written (the instance's shutdown checkpoint does that).</summary>
    public void Dispose() => _files.Dispose();
}
