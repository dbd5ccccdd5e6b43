// FullPageImageEncoder: prepares full-page images for a record (xloginsert.c's image part of
// XLogRecordAssemble and XLogCompressBackupBlock): the hole of a standard page is left out, and
// with compression on, the hole-less image is compressed and kept only if
// compressed + (hole ? 2 : 0) < 8192 - hole_length, exactly PostgreSQL's rule.
// Compressed images live in a scratch area sized for 33 blocks, reused per record.
using System.Buffers.Binary;
using PgWal.Compression;
using PgWal.Format;

namespace PgWal.Insert;

internal sealed class FullPageImageEncoder
{
    internal readonly struct Image
    {
        public Image(bool apply, ushort holeOffset, ushort holeLength, ushort length, ImageFlags compression, int scratchOffset)
        {
            Present = true;
            Apply = apply;
            HoleOffset = holeOffset;
            HoleLength = holeLength;
            Length = length;
            Compression = compression;
            ScratchOffset = scratchOffset;
        }

        public bool Present { get; }
        public bool Apply { get; }
        public ushort HoleOffset { get; }
        public ushort HoleLength { get; }
        public ushort Length { get; }
        public ImageFlags Compression { get; }
        public int ScratchOffset { get; }
        public bool HasCompressHeader => Compression != ImageFlags.None && HoleLength != 0;

        public int WriteHeader(Span<byte> destination)
        {
            var info = (HoleLength != 0 ? ImageFlags.HasHole : ImageFlags.None) | (Apply ? ImageFlags.Apply : ImageFlags.None) | Compression;
            BinaryPrimitives.WriteUInt16LittleEndian(destination, Length);
            BinaryPrimitives.WriteUInt16LittleEndian(destination[2..], HoleOffset);
            destination[4] = (byte)info;
            if (!HasCompressHeader)
                return BlockReferenceFormat.ImageHeaderSize;
            BinaryPrimitives.WriteUInt16LittleEndian(destination[5..], HoleLength);
            return BlockReferenceFormat.ImageHeaderSize + BlockReferenceFormat.CompressHeaderSize;
        }
    }

    private const int PageSize = BlockReferenceFormat.DataPageSize;
    private const int SlotSize = PageSize + 1024; // room for any codec's worst case on one page

    private readonly byte[] _scratch;
    private readonly byte[] _holeless = new byte[PageSize];
    private int _used;

    public FullPageImageEncoder(WalCompression compression)
    {
        Compression = compression;
        if (compression == WalCompression.Lz4 && !NativeCodecs.IsLz4Available)
            throw new InvalidOperationException("LZ4 is not supported by this build: liblz4 could not be loaded");
        if (compression == WalCompression.Zstd && !NativeCodecs.IsZstdAvailable)
            throw new InvalidOperationException("zstd is not supported by this build: libzstd could not be loaded");
        _scratch = compression == WalCompression.None ? [] : new byte[SlotSize * (BlockReferenceFormat.MaxBlockId + 1)];
    }

    public WalCompression Compression { get; }

    public void Reset() => _used = 0;

    public Image Encode(ReadOnlySpan<byte> page, bool standard, bool apply)
    {
        var (holeOffset, holeLength) = standard ? DataPageHeader.Hole(page) : ((ushort)0, (ushort)0);
        int originalLength = PageSize - holeLength;
        if (Compression != WalCompression.None)
        {
            ReadOnlySpan<byte> source = page;
            if (holeLength != 0)
            {
                page[..holeOffset].CopyTo(_holeless);
                page[(holeOffset + holeLength)..].CopyTo(_holeless.AsSpan(holeOffset));
                source = _holeless.AsSpan(0, originalLength);
            }
            var destination = _scratch.AsSpan(_used, SlotSize);
            int length = Compression switch
            {
                WalCompression.Pglz => Pglz.Compress(source, destination),
                WalCompression.Lz4 => NativeCodecs.Lz4Compress(source, destination) is > 0 and var n ? n : -1,
                WalCompression.Zstd => NativeCodecs.ZstdCompress(source, destination),
                _ => -1,
            };
            int extra = holeLength != 0 ? BlockReferenceFormat.CompressHeaderSize : 0;
            if (length >= 0 && length + extra < originalLength)
            {
                var flag = Compression switch
                {
                    WalCompression.Pglz => ImageFlags.CompressPglz,
                    WalCompression.Lz4 => ImageFlags.CompressLz4,
                    _ => ImageFlags.CompressZstd,
                };
                var image = new Image(apply, holeOffset, holeLength, (ushort)length, flag, _used);
                _used += SlotSize;
                return image;
            }
        }
        return new Image(apply, holeOffset, holeLength, (ushort)originalLength, ImageFlags.None, -1);
    }

    /// <summary>Copies the stored image bytes; returns the count.</summary>
    public int CopyImage(in Image image, ReadOnlySpan<byte> page, Span<byte> destination)
    {
        if (image.Compression != ImageFlags.None)
        {
            _scratch.AsSpan(image.ScratchOffset, image.Length).CopyTo(destination);
            return image.Length;
        }
        if (image.HoleLength == 0)
        {
            page[..PageSize].CopyTo(destination);
            return PageSize;
        }
        page[..image.HoleOffset].CopyTo(destination);
        page[(image.HoleOffset + image.HoleLength)..PageSize].CopyTo(destination[image.HoleOffset..]);
        return image.Length;
    }
}
