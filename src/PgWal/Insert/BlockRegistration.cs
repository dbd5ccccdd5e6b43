// BlockRegistration / WalCompression: options of a registered block (xloginsert.h REGBUF_*) and the
// full-page-image compression methods (wal_compression).
namespace PgWal.Insert;

/// <summary>How a block is registered with a record (PostgreSQL's <c>REGBUF_*</c> flags).</summary>
[Flags]
public enum BlockRegistration
{
    /// <summary>Take an image only when full-page writes require it.</summary>
    None = 0,
    /// <summary><c>REGBUF_FORCE_IMAGE</c>: always include a full-page image.</summary>
    ForceImage = 0x01,
    /// <summary><c>REGBUF_NO_IMAGE</c>: never include an image.</summary>
    NoImage = 0x02,
    /// <summary><c>REGBUF_WILL_INIT</c>: redo re-initialises the page (implies <see cref="NoImage"/>).</summary>
    WillInit = 0x04 | NoImage,
    /// <summary><c>REGBUF_STANDARD</c>: a standard page; the hole between pd_lower and pd_upper is left out of images.</summary>
    Standard = 0x08,
    /// <summary><c>REGBUF_KEEP_DATA</c>: keep per-block data even when an image is taken.</summary>
    KeepData = 0x10,
}

/// <summary>Compression of full-page images (PostgreSQL's <c>wal_compression</c>).</summary>
public enum WalCompression
{
    /// <summary>Images are stored uncompressed (hole removed).</summary>
    None = 0,
    /// <summary>PostgreSQL's pglz.</summary>
    Pglz,
    /// <summary>LZ4 block format (system liblz4).</summary>
    Lz4,
    /// <summary>zstd frame (system libzstd).</summary>
    Zstd,
}

/// <summary>Thrown when a record would exceed the WAL record size limits; nothing has been written.</summary>
public sealed class RecordTooLargeException : InvalidOperationException
{
    /// <summary>Creates the exception.</summary>
    public RecordTooLargeException(string message) : base(message)
    {
    }
}
