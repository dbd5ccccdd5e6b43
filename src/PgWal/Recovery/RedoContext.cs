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
            return RedoAction.Restored;
        }
        if (block.WillInit)
        {
            buffer = _buffers.Read(tag, ReadMode.ZeroAndLock);
            return RedoAction.NeedsRedo;
        }
        buffer = _buffers.Read(tag, ReadMode.ZeroBeyondEnd);
        buffer.LockExclusive();
        if (StandardPage.IsNew(buffer.Page))
        {
            buffer.Dispose();
            buffer = default;
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
