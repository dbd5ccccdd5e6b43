// PageBuffer: a pinned page in the buffer pool, as a client holds it (bufmgr.h Buffer). The pin
// keeps the page in memory; the content lock (LockShared/LockExclusive) guards its bytes. The
// recipe for a WAL-logged change (docs/INVARIANTS.md): LockExclusive, modify Page, MarkDirty,
// insert the record (registering the page), SetLsn(end of record), Unlock — in that order, so a
// checkpoint either sees the page dirty or the record after its redo point.
using PgWal.Format;
using PgWal.Insert;

namespace PgWal.Pages;

/// <summary>A pinned buffer. Dispose releases the content lock (if this thread holds it) and the pin.</summary>
public readonly struct PageBuffer : IDisposable
{
    private readonly BufferManager? _manager;
    private readonly BufferDescriptor? _desc;

    internal PageBuffer(BufferManager manager, BufferDescriptor desc)
    {
        _manager = manager;
        _desc = desc;
    }

    /// <summary>False for the default (no buffer), as PostgreSQL's InvalidBuffer.</summary>
    public bool IsValid => _desc != null;

    /// <summary>The page this buffer holds.</summary>
    public BufferTag Tag => Desc.Tag;

    /// <summary>The 8 kB page. Read it under a content lock; modify it only under the exclusive lock.</summary>
    public Span<byte> Page => _manager!.PageMemory(Desc.Index).Span;

    /// <summary>The page as memory, for registering it with a record (images are taken from it).</summary>
    public Memory<byte> PageMemory => _manager!.PageMemory(Desc.Index);

    /// <summary>The page LSN (pd_lsn).</summary>
    public Lsn Lsn => DataPageHeader.ReadLsn(Page);

    /// <summary>Takes the content lock in share mode.</summary>
    public void LockShared() => Desc.Content.EnterReadLock();

    /// <summary>Takes the content lock in exclusive mode.</summary>
    public void LockExclusive() => Desc.Content.EnterWriteLock();

    /// <summary>True when this thread holds the content lock exclusively.</summary>
    public bool IsLockedExclusive => Desc.Content.IsWriteLockHeld;

    /// <summary>Releases the content lock this thread holds.</summary>
    public void Unlock()
    {
        if (Desc.Content.IsWriteLockHeld)
            Desc.Content.ExitWriteLock();
        else
            Desc.Content.ExitReadLock();
    }

    /// <summary>MarkBufferDirty: the page changed and must be written back. Requires the exclusive lock.</summary>
    public void MarkDirty()
    {
        if (_manager!.ReadOnly)
            throw new InvalidOperationException($"{Tag}: the data directory is open read-only; no page may change");
        if (!Desc.Content.IsWriteLockHeld)
            throw new InvalidOperationException($"{Tag}: MarkDirty requires the exclusive content lock");
        BufferManager.MarkDirty(Desc);
    }

    /// <summary>PageSetLSN: stamps the end of the record that changed the page. Requires the exclusive lock.</summary>
    public void SetLsn(Lsn lsn)
    {
        if (!Desc.Content.IsWriteLockHeld)
            throw new InvalidOperationException($"{Tag}: SetLsn requires the exclusive content lock");
        DataPageHeader.WriteLsn(Page, lsn);
    }

    /// <summary>XLogRegisterBuffer: registers this page as block <paramref name="blockId"/> of the record.</summary>
    public void RegisterWith(RecordBuilder builder, int blockId, BlockRegistration flags = BlockRegistration.Standard)
    {
        var tag = Tag;
        builder.RegisterBlock(blockId, tag.Rel, tag.Fork, tag.Block, flags, PageMemory);
    }

    /// <summary>Unlocks (when this thread holds the lock) and unpins.</summary>
    public void Dispose()
    {
        if (_desc == null)
            return;
        if (_desc.Content.IsWriteLockHeld)
            _desc.Content.ExitWriteLock();
        else if (_desc.Content.IsReadLockHeld)
            _desc.Content.ExitReadLock();
        _manager!.Unpin(_desc);
    }

    private BufferDescriptor Desc => _desc ?? throw new InvalidOperationException("invalid buffer");
}
