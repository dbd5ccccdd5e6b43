// RedoContext: what a resource manager's Redo gets to touch pages (xlogutils.c
// XLogReadBufferForRedo / XLogInitBufferForRedo). Full-page images are restored here, generically;
// a page is handed out for redo only when its LSN is older than the record's end, which makes
// replaying a record twice harmless. One context per recovery; used by the startup thread only.
using PgWal.Format;
using PgWal.Pages;
using PgWal.Read;

namespace PgWal.Recovery;

/// <summary>Page access for redo routines.</summary>
public sealed class RedoContext
{
    private readonly BufferManager _buffers;
    private ulong _restored;     // bit per block id whose image was applied for the current record
    // xlogutils.c's invalid-page table: blocks a record needed that were missing or all zeros, with
    // the first such record. A later image or init of the block makes the skipped change moot;
    // whatever remains when replay ends means a damaged data file (PostgreSQL PANICs: "WAL
    // contains references to invalid pages").
    private readonly Dictionary<BufferTag, Lsn> _invalidPages = [];

    internal RedoContext(BufferManager buffers) => _buffers = buffers;

    /// <summary>Full-page images restored so far.</summary>
    internal long ImagesRestored { get; private set; }

    /// <summary>Start of the record being replayed.</summary>
    public Lsn RecordStart { get; private set; }

    /// <summary>End of the record being replayed: the LSN to stamp on pages it changes.</summary>
    public Lsn RecordEnd { get; private set; }

    internal void Begin(DecodedRecord record)
    {
        RecordStart = record.Lsn;
        RecordEnd = record.NextLsn;
        _restored = 0;
    }

    /// <summary>
    /// XLogReadBufferForRedo: the page of block <paramref name="blockId"/>, locked exclusively, with
    /// what to do about it. On <see cref="RedoAction.NotFound"/> the buffer is invalid.
    /// </summary>
    /// <exception cref="InvalidOperationException">The record has no such block, or its image cannot be restored.</exception>
    public RedoAction ReadBufferForRedo(DecodedRecord record, int blockId, out PageBuffer buffer)
    {
        if (!record.HasBlock(blockId))
            throw new InvalidOperationException($"failed to locate backup block with ID {blockId} in WAL record at {record.Lsn}");
        ref readonly var block = ref record.Block(blockId);
        var tag = new BufferTag(block.Rel, block.Fork, block.Block);
        if (block.ApplyImage)
        {
            buffer = _buffers.Read(tag, ReadMode.ZeroAndLock);
            if (record.TryRestoreImage(blockId, buffer.Page) is { } error)
            {
                buffer.Dispose();
                throw new InvalidOperationException($"failed to restore block image of {tag} from WAL record at {record.Lsn}: {error}");
            }
            // An image of a new (all-zero) page keeps LSN 0, as PostgreSQL leaves it.
            if (!StandardPage.IsNew(buffer.Page))
                buffer.SetLsn(RecordEnd);
            buffer.MarkDirty();
            _restored |= 1UL << blockId;
            ImagesRestored++;
            _invalidPages.Remove(tag);
            return RedoAction.Restored;
        }
        if (block.WillInit)
        {
            buffer = _buffers.Read(tag, ReadMode.ZeroAndLock);
            _invalidPages.Remove(tag);
            return RedoAction.NeedsRedo;
        }
        buffer = _buffers.Read(tag, ReadMode.ZeroBeyondEnd);
        buffer.LockExclusive();
        if (StandardPage.IsNew(buffer.Page))
        {
            buffer.Dispose();
            buffer = default;
            _invalidPages.TryAdd(tag, record.Lsn);
            return RedoAction.NotFound;
        }
        return RecordEnd <= buffer.Lsn ? RedoAction.Done : RedoAction.NeedsRedo;
    }

    /// <summary>XLogInitBufferForRedo: a zeroed page for a block registered WILL_INIT, locked exclusively.</summary>
    public PageBuffer InitBufferForRedo(DecodedRecord record, int blockId)
    {
        var action = ReadBufferForRedo(record, blockId, out var buffer);
        if (action == RedoAction.Done || action == RedoAction.NotFound)
            throw new InvalidOperationException($"block {blockId} of WAL record at {record.Lsn} is not registered WILL_INIT");
        return buffer;
    }

    /// <summary>
    /// XLogCheckInvalidPages, at the end of replay: throws when records changed blocks that were
    /// missing or all zeros and no later image or init recreated them.
    /// </summary>
    internal void CheckInvalidPages()
    {
        if (_invalidPages.Count == 0)
            return;
        var (tag, lsn) = _invalidPages.MinBy(p => p.Value.Value);
        throw new RecoveryException($"WAL contains references to invalid pages: {_invalidPages.Count} block(s) changed by replayed records were missing or all zeros in their data files, first {tag} (needed by the WAL record at {lsn}); a data file was truncated, removed or zeroed — restore it from a backup");
    }

    // After the resource manager: apply any image it did not ask for (XLOG FPI records, or a
    // manager that skips a block), so images are always restored.
    internal void RestoreRemainingImages(DecodedRecord record)
    {
        for (int id = 0; id <= record.MaxBlockId; id++)
        {
            if (!record.HasBlock(id) || !record.Block(id).ApplyImage || (_restored & (1UL << id)) != 0)
                continue;
            ReadBufferForRedo(record, id, out var buffer);
            buffer.Dispose();
        }
    }
}
