// ImageRestorer: rebuilds an 8 kB page from a block image (xlogreader.c RestoreBlockImage):
// decompress to 8192 - hole_length bytes, then re-insert hole_length zero bytes at hole_offset.
using PgWal.Compression;
using PgWal.Format;

namespace PgWal.Read;

internal static class ImageRestorer
{
    public static string? Restore(DecodedRecord record, int blockId, Span<byte> page)
    {
        const int PageSize = BlockReferenceFormat.DataPageSize;
        if (page.Length < PageSize)
            throw new ArgumentException($"page buffer must hold {PageSize} bytes", nameof(page));
        if (!record.HasBlock(blockId))
            return $"could not restore image at {record.Lsn} with invalid block {blockId} specified";
        ref readonly var block = ref record.Block(blockId);
        if (!block.HasImage)
            return $"could not restore image at {record.Lsn} with invalid state, block {blockId}";

        scoped ReadOnlySpan<byte> image = record.BlockImage(blockId);
        int holeOffset = block.HoleOffset, holeLength = block.HoleLength;
        int expected = PageSize - holeLength;
        if (holeOffset + holeLength > PageSize || expected < 0)
            return $"could not decompress image at {record.Lsn}, block {blockId}";

        Span<byte> scratch = stackalloc byte[PageSize];
        if (block.IsImageCompressed)
        {
            var flags = block.ImageFlags;
            int produced;
            if ((flags & ImageFlags.CompressPglz) != 0)
            {
                produced = Pglz.Decompress(image, scratch[..expected], checkComplete: true);
            }
            else if ((flags & ImageFlags.CompressLz4) != 0)
            {
                if (!NativeCodecs.IsLz4Available)
                    return $"could not restore image at {record.Lsn} compressed with LZ4 not supported by build, block {blockId}";
                produced = NativeCodecs.Lz4Decompress(image, scratch[..expected]);
                if (produced <= 0)
                    produced = -1;
            }
            else if ((flags & ImageFlags.CompressZstd) != 0)
            {
                if (!NativeCodecs.IsZstdAvailable)
                    return $"could not restore image at {record.Lsn} compressed with zstd not supported by build, block {blockId}";
                produced = NativeCodecs.ZstdDecompress(image, scratch[..expected]);
            }
            else
            {
                return $"could not restore image at {record.Lsn} compressed with unknown method, block {blockId}";
            }
            // Stricter than PostgreSQL for lz4/zstd: a valid image always decompresses to exactly this size.
            if (produced != expected)
                return $"could not decompress image at {record.Lsn}, block {blockId}";
            image = scratch[..expected];
        }
        else if (image.Length != expected)
        {
            return $"could not decompress image at {record.Lsn}, block {blockId}";
        }

        if (holeLength == 0)
        {
            image[..PageSize].CopyTo(page);
        }
        else
        {
            image[..holeOffset].CopyTo(page);
            page.Slice(holeOffset, holeLength).Clear();
            image[holeOffset..].CopyTo(page[(holeOffset + holeLength)..]);
        }
        return null;
    }
}
