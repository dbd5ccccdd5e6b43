// BlockReferenceFormat: the sub-headers between XLogRecord and the payload (xlogrecord.h):
// XLogRecordBlockHeader (4 B: id, fork_flags, u16 data_length), XLogRecordBlockImageHeader
// (5 B: u16 length, u16 hole_offset, u8 bimg_info), XLogRecordBlockCompressHeader (2 B: u16
// hole_length), RelFileLocator (12 B), BlockNumber (4 B); and the special ids 252..255.
// None of these are aligned; everything is little-endian.
namespace PgWal.Format;

/// <summary>Constants of the block-reference and data sub-headers of a WAL record.</summary>
public static class BlockReferenceFormat
{
    /// <summary>Highest block id (<c>XLR_MAX_BLOCK_ID</c>): ids 0..32, 33 blocks.</summary>
    public const int MaxBlockId = 32;

    /// <summary><c>XLR_BLOCK_ID_DATA_SHORT</c>: main data with a 1-byte length.</summary>
    public const byte DataShortId = 255;

    /// <summary><c>XLR_BLOCK_ID_DATA_LONG</c>: main data with a 4-byte length.</summary>
    public const byte DataLongId = 254;

    /// <summary><c>XLR_BLOCK_ID_ORIGIN</c>: a 2-byte replication origin follows.</summary>
    public const byte OriginId = 253;

    /// <summary><c>XLR_BLOCK_ID_TOPLEVEL_XID</c>: a 4-byte top-level transaction id follows.</summary>
    public const byte TopLevelXidId = 252;

    /// <summary>Size of <c>XLogRecordBlockHeader</c>.</summary>
    public const int BlockHeaderSize = 4;

    /// <summary>Size of <c>XLogRecordBlockImageHeader</c>.</summary>
    public const int ImageHeaderSize = 5;

    /// <summary>Size of <c>XLogRecordBlockCompressHeader</c>.</summary>
    public const int CompressHeaderSize = 2;

    /// <summary>Size of a <c>RelFileLocator</c>.</summary>
    public const int RelFileLocatorSize = 12;

    /// <summary>Size of a <c>BlockNumber</c>.</summary>
    public const int BlockNumberSize = 4;

    /// <summary>Largest block reference header: 4 + 5 + 2 + 12 + 4.</summary>
    public const int MaxBlockHeaderSize = BlockHeaderSize + ImageHeaderSize + CompressHeaderSize + RelFileLocatorSize + BlockNumberSize;

    /// <summary>Largest per-block data (the length is a uint16).</summary>
    public const int MaxBlockDataLength = ushort.MaxValue;

    /// <summary>Data page size (<c>BLCKSZ</c>), the size of a full-page image before hole removal.</summary>
    public const int DataPageSize = 8192;

    /// <summary><c>InvalidRepOriginId</c>.</summary>
    public const ushort InvalidOrigin = 0;
}

/// <summary>High-nibble flags of a block header's <c>fork_flags</c> byte.</summary>
[Flags]
public enum BlockFlags : byte
{
    /// <summary>No flags.</summary>
    None = 0,
    /// <summary><c>BKPBLOCK_FORK_MASK</c>: the low nibble holds the fork number.</summary>
    ForkMask = 0x0F,
    /// <summary><c>BKPBLOCK_HAS_IMAGE</c>: an image header follows and an image is in the payload.</summary>
    HasImage = 0x10,
    /// <summary><c>BKPBLOCK_HAS_DATA</c>: per-block data is in the payload.</summary>
    HasData = 0x20,
    /// <summary><c>BKPBLOCK_WILL_INIT</c>: redo re-initialises the page.</summary>
    WillInit = 0x40,
    /// <summary><c>BKPBLOCK_SAME_REL</c>: the relation is omitted and equals the previous block's.</summary>
    SameRel = 0x80,
}

/// <summary><c>bimg_info</c> bits as laid out in PostgreSQL 15 and later.</summary>
[Flags]
public enum ImageFlags : byte
{
    /// <summary>No flags: uncompressed 8192-byte image.</summary>
    None = 0,
    /// <summary><c>BKPIMAGE_HAS_HOLE</c>: the page's hole was removed.</summary>
    HasHole = 0x01,
    /// <summary><c>BKPIMAGE_APPLY</c>: redo restores the image (a real full-page write).</summary>
    Apply = 0x02,
    /// <summary><c>BKPIMAGE_COMPRESS_PGLZ</c>.</summary>
    CompressPglz = 0x04,
    /// <summary><c>BKPIMAGE_COMPRESS_LZ4</c>.</summary>
    CompressLz4 = 0x08,
    /// <summary><c>BKPIMAGE_COMPRESS_ZSTD</c>.</summary>
    CompressZstd = 0x10,
    /// <summary>Any compression bit (<c>BKPIMAGE_COMPRESSED</c>).</summary>
    CompressedMask = CompressPglz | CompressLz4 | CompressZstd,
}
