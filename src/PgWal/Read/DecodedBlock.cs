// DecodedBlock: one block reference of a decoded record (xlogreader.h DecodedBkpBlock).
// Offsets point into the owning DecodedRecord's bytes; they are valid until the next read.
using PgWal.Format;

namespace PgWal.Read;

/// <summary>A block reference of a decoded WAL record: which page, and what the record carries for it.</summary>
public readonly struct DecodedBlock
{
    internal DecodedBlock(RelFileLocator rel, ForkNumber fork, BlockNumber block, BlockFlags flags,
        ushort dataLength, int dataOffset, ushort imageLength, ushort holeOffset, ushort holeLength,
        ImageFlags imageFlags, int imageOffset)
    {
        Rel = rel;
        Fork = fork;
        Block = block;
        Flags = flags;
        DataLength = dataLength;
        DataOffset = dataOffset;
        ImageLength = imageLength;
        HoleOffset = holeOffset;
        HoleLength = holeLength;
        ImageFlags = imageFlags;
        ImageOffset = imageOffset;
        InUse = true;
    }

    /// <summary>False for a block id the record does not use (ids may have gaps).</summary>
    public bool InUse { get; }

    /// <summary>The relation.</summary>
    public RelFileLocator Rel { get; }

    /// <summary>The fork.</summary>
    public ForkNumber Fork { get; }

    /// <summary>The block number within the fork.</summary>
    public BlockNumber Block { get; }

    /// <summary>The raw <c>fork_flags</c> high bits.</summary>
    public BlockFlags Flags { get; }

    /// <summary>True when the record carries an image of the page.</summary>
    public bool HasImage => (Flags & BlockFlags.HasImage) != 0;

    /// <summary>True when the record carries per-block data.</summary>
    public bool HasData => (Flags & BlockFlags.HasData) != 0;

    /// <summary>True when redo re-initialises the page (<c>BKPBLOCK_WILL_INIT</c>).</summary>
    public bool WillInit => (Flags & BlockFlags.WillInit) != 0;

    /// <summary>Per-block data length.</summary>
    public ushort DataLength { get; }

    internal int DataOffset { get; }

    /// <summary>Stored image length (<c>bimg_len</c>): after hole removal and compression.</summary>
    public ushort ImageLength { get; }

    /// <summary>Where the removed hole starts in the 8 kB page (0 without a hole).</summary>
    public ushort HoleOffset { get; }

    /// <summary>Length of the removed hole (0 without a hole).</summary>
    public ushort HoleLength { get; }

    /// <summary>The image's <c>bimg_info</c>.</summary>
    public ImageFlags ImageFlags { get; }

    internal int ImageOffset { get; }

    /// <summary>True when redo must restore the image (<c>BKPIMAGE_APPLY</c>).</summary>
    public bool ApplyImage => HasImage && (ImageFlags & ImageFlags.Apply) != 0;

    /// <summary>True when the image is compressed (pglz, lz4 or zstd).</summary>
    public bool IsImageCompressed => HasImage && (ImageFlags & ImageFlags.CompressedMask) != 0;
}
