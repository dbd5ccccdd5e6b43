// BufferTag / ReadMode: which page a buffer holds (buf_internals.h BufferTag) and how ReadBuffer
// obtains its content (bufmgr.h ReadBufferMode).
namespace PgWal.Pages;

/// <summary>Identifies one page: relation, fork and block.</summary>
public readonly record struct BufferTag(RelFileLocator Rel, ForkNumber Fork, BlockNumber Block)
{
    /// <inheritdoc/>
    public override string ToString() => $"block {Block.Value} of relation {Storage.RelationPath.Of(Rel, Fork)}";
}

/// <summary>How <see cref="BufferManager.Read(BufferTag, ReadMode)"/> gets a page's content.</summary>
public enum ReadMode
{
    /// <summary>Read from the file; a block beyond the end of the file is an error.</summary>
    Normal,
    /// <summary>
    /// RBM_ZERO_AND_LOCK: do not read; hand out an all-zero page locked exclusively (a new page, or
    /// one redo will overwrite entirely). Extends the file when written back.
    /// </summary>
    ZeroAndLock,
    /// <summary>Read from the file; a block beyond the end reads as a zero page (recovery's XLogReadBufferExtended).</summary>
    ZeroBeyondEnd,
}

/// <summary>A page failed verification when read (torn write, corruption, wrong checksum).</summary>
public sealed class PageCorruptedException : IOException
{
    /// <summary>Creates the exception.</summary>
    public PageCorruptedException(BufferTag tag, string reason)
        : base($"invalid page in {tag}: {reason}")
    {
        Tag = tag;
    }

    /// <summary>The page.</summary>
    public BufferTag Tag { get; }
}
