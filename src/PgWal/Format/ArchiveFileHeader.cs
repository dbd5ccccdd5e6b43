// ArchiveFileHeader: the 48-byte header of every file in a PgWal archive repository, in front of the
// (possibly compressed) content of one WAL segment, .partial, history or backup history file.
//   0 u8[8] magic "PGWALARC" | 8 u16 version (1) | 10 u8 codec | 11 u8 pad (0) | 12 u32 reserved (0)
//  16 u64 original length | 24 u64 stored length | 32 u32 CRC-32C of the original bytes
//  36 u32 CRC-32C of the stored bytes | 40 u32 reserved (0) | 44 u32 CRC-32C of bytes 0..43
// Little-endian. The stored bytes follow at 48 and run to the end of the file: for codec none the
// original bytes; for lz4 and zstd one chunk per ChunkSize bytes of original (the last may be
// shorter), each a u32 length and that many bytes of one LZ4 block / one zstd frame. Chunks keep
// every reader and writer to two small buffers, whatever the size of the segment.
using System.Buffers.Binary;

namespace PgWal.Format;

/// <summary>How an archived file's content is stored.</summary>
public enum ArchiveCodec : byte
{
    /// <summary>As is.</summary>
    None = 0,
    /// <summary>One LZ4 block (the system's liblz4).</summary>
    Lz4 = 1,
    /// <summary>One zstd frame (the system's libzstd).</summary>
    Zstd = 2,
}

/// <summary>The header of an archived file.</summary>
public readonly record struct ArchiveFileHeader(ArchiveCodec Codec, ulong OriginalLength, ulong StoredLength, uint OriginalCrc, uint StoredCrc)
{
    /// <summary>Bytes before the stored content.</summary>
    public const int Size = 48;

    /// <summary>Original bytes per compressed chunk.</summary>
    public const int ChunkSize = 1024 * 1024;

    /// <summary>Bytes in front of each compressed chunk (its stored length).</summary>
    public const int ChunkHeaderSize = 4;

    /// <summary>The only version written and read.</summary>
    public const ushort CurrentVersion = 1;

    private static ReadOnlySpan<byte> Magic => "PGWALARC"u8;
    private const int VersionOffset = 8;
    private const int CodecOffset = 10;
    private const int OriginalLengthOffset = 16;
    private const int StoredLengthOffset = 24;
    private const int OriginalCrcOffset = 32;
    private const int StoredCrcOffset = 36;
    private const int HeaderCrcOffset = 44;

    /// <summary>Writes the header into the first <see cref="Size"/> bytes of <paramref name="destination"/>.</summary>
    public void Write(Span<byte> destination)
    {
        var h = destination[..Size];
        h.Clear();
        Magic.CopyTo(h);
        BinaryPrimitives.WriteUInt16LittleEndian(h[VersionOffset..], CurrentVersion);
        h[CodecOffset] = (byte)Codec;
        BinaryPrimitives.WriteUInt64LittleEndian(h[OriginalLengthOffset..], OriginalLength);
        BinaryPrimitives.WriteUInt64LittleEndian(h[StoredLengthOffset..], StoredLength);
        BinaryPrimitives.WriteUInt32LittleEndian(h[OriginalCrcOffset..], OriginalCrc);
        BinaryPrimitives.WriteUInt32LittleEndian(h[StoredCrcOffset..], StoredCrc);
        BinaryPrimitives.WriteUInt32LittleEndian(h[HeaderCrcOffset..], Crc32C.Compute(h[..HeaderCrcOffset]));
    }

    /// <summary>
    /// Reads and checks a header. Returns null and the header, or the reason it is not a valid one
    /// (the field named as in this file's layout).
    /// </summary>
    public static string? TryRead(ReadOnlySpan<byte> source, out ArchiveFileHeader header)
    {
        header = default;
        if (source.Length < Size)
            return $"file is {source.Length} bytes, shorter than the {Size}-byte header";
        var h = source[..Size];
        if (!h[..Magic.Length].SequenceEqual(Magic))
            return "not a PgWal archive file (magic is not \"PGWALARC\")";
        uint headerCrc = BinaryPrimitives.ReadUInt32LittleEndian(h[HeaderCrcOffset..]);
        uint computed = Crc32C.Compute(h[..HeaderCrcOffset]);
        if (headerCrc != computed)
            return $"header checksum mismatch (stored {headerCrc:X8}, computed {computed:X8})";
        ushort version = BinaryPrimitives.ReadUInt16LittleEndian(h[VersionOffset..]);
        if (version != CurrentVersion)
            return $"unsupported archive file version {version} (this build reads {CurrentVersion})";
        var codec = (ArchiveCodec)h[CodecOffset];
        if (codec is not (ArchiveCodec.None or ArchiveCodec.Lz4 or ArchiveCodec.Zstd))
            return $"unknown codec {(byte)codec}";
        header = new ArchiveFileHeader(codec,
            BinaryPrimitives.ReadUInt64LittleEndian(h[OriginalLengthOffset..]),
            BinaryPrimitives.ReadUInt64LittleEndian(h[StoredLengthOffset..]),
            BinaryPrimitives.ReadUInt32LittleEndian(h[OriginalCrcOffset..]),
            BinaryPrimitives.ReadUInt32LittleEndian(h[StoredCrcOffset..]));
        return null;
    }
}
