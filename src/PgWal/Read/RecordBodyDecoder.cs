// RecordBodyDecoder: parses the sub-headers and payload layout of a record whose header and CRC
// were already validated (xlogreader.c DecodeXLogRecord), with the same cross-checks and messages.
// Nothing is copied: block data, images and main data are offsets into the record bytes.
using System.Buffers.Binary;
using PgWal.Format;

namespace PgWal.Read;

internal static class RecordBodyDecoder
{
    /// <summary>
    /// Decodes <paramref name="record"/> (exactly xl_tot_len bytes) into <paramref name="target"/>.
    /// <paramref name="messageLsn"/> is the LSN PostgreSQL 15 puts into these messages (the
    /// previously returned record's, its reader's ReadRecPtr).
    /// </summary>
    /// <returns>None on success, else the failed check and its message.</returns>
    public static (CorruptionKind Kind, string? Message) Decode(ReadOnlySpan<byte> record, DecodedRecord target, Lsn messageLsn)
    {
        int pos = RecordHeader.Size;
        uint remaining = (uint)record.Length - RecordHeader.Size;
        ulong dataTotal = 0;     // payload bytes announced so far; also where the next block's payload starts in it
        uint images = 0;
        bool haveRel = false;
        RelFileLocator rel = default;
        int maxBlockId = -1;

        while (remaining > dataTotal)
        {
            if (remaining < 1)
                return ShortData(messageLsn);
            byte id = record[pos];
            pos++;
            remaining--;

            if (id == BlockReferenceFormat.DataShortId)
            {
                if (remaining < 1)
                    return ShortData(messageLsn);
                int len = record[pos];
                pos++;
                remaining--;
                target.SetMainDataLength(len);
                dataTotal += (uint)len;
                break;
            }
            if (id == BlockReferenceFormat.DataLongId)
            {
                if (remaining < 4)
                    return ShortData(messageLsn);
                uint len = BinaryPrimitives.ReadUInt32LittleEndian(record[pos..]);
                pos += 4;
                remaining -= 4;
                target.SetMainDataLength((int)Math.Min(len, int.MaxValue));
                dataTotal += len;
                break;
            }
            if (id == BlockReferenceFormat.OriginId)
            {
                if (remaining < 2)
                    return ShortData(messageLsn);
                target.SetOrigin(BinaryPrimitives.ReadUInt16LittleEndian(record[pos..]));
                pos += 2;
                remaining -= 2;
                continue;
            }
            if (id == BlockReferenceFormat.TopLevelXidId)
            {
                if (remaining < 4)
                    return ShortData(messageLsn);
                target.SetTopLevelXid(BinaryPrimitives.ReadUInt32LittleEndian(record[pos..]));
                pos += 4;
                remaining -= 4;
                continue;
            }
            if (id > BlockReferenceFormat.MaxBlockId)
                return (CorruptionKind.InvalidBlockId, $"invalid block_id {id} at {messageLsn}");
            if (id <= maxBlockId)
                return (CorruptionKind.OutOfOrderBlockId, $"out-of-order block_id {id} at {messageLsn}");
            for (int gap = maxBlockId + 1; gap < id; gap++)
                target.BlockSlot(gap) = default;   // an unused id below this one (the record reuses its slots)
            maxBlockId = id;
            target.SetMaxBlockId(id);

            if (remaining < 3)
                return ShortData(messageLsn);
            byte forkFlags = record[pos];
            ushort dataLength = BinaryPrimitives.ReadUInt16LittleEndian(record[(pos + 1)..]);
            pos += 3;
            remaining -= 3;
            var flags = (BlockFlags)forkFlags;
            bool hasData = (flags & BlockFlags.HasData) != 0;
            if (hasData && dataLength == 0)
                return (CorruptionKind.BlockDataFlagMismatch, $"BKPBLOCK_HAS_DATA set, but no data included at {messageLsn}");
            if (!hasData && dataLength != 0)
                return (CorruptionKind.BlockDataFlagMismatch, $"BKPBLOCK_HAS_DATA not set, but data length is {dataLength} at {messageLsn}");
            ushort imageLength = 0, holeOffset = 0, holeLength = 0;
            var imageFlags = ImageFlags.None;
            if ((flags & BlockFlags.HasImage) != 0)
            {
                if (remaining < BlockReferenceFormat.ImageHeaderSize)
                    return ShortData(messageLsn);
                imageLength = BinaryPrimitives.ReadUInt16LittleEndian(record[pos..]);
                holeOffset = BinaryPrimitives.ReadUInt16LittleEndian(record[(pos + 2)..]);
                imageFlags = (ImageFlags)record[pos + 4];
                pos += BlockReferenceFormat.ImageHeaderSize;
                remaining -= BlockReferenceFormat.ImageHeaderSize;
                bool compressed = (imageFlags & ImageFlags.CompressedMask) != 0;
                bool hasHole = (imageFlags & ImageFlags.HasHole) != 0;
                if (compressed)
                {
                    if (hasHole)
                    {
                        if (remaining < 2)
                            return ShortData(messageLsn);
                        holeLength = BinaryPrimitives.ReadUInt16LittleEndian(record[pos..]);
                        pos += 2;
                        remaining -= 2;
                    }
                }
                else
                {
                    // PostgreSQL derives the hole from the stored length; uint16 arithmetic as in C.
                    holeLength = unchecked((ushort)(BlockReferenceFormat.DataPageSize - imageLength));
                }
                if (hasHole && (holeOffset == 0 || holeLength == 0 || imageLength == BlockReferenceFormat.DataPageSize))
                    return (CorruptionKind.InvalidImageHeader,
                        $"BKPIMAGE_HAS_HOLE set, but hole offset {holeOffset} length {holeLength} block image length {imageLength} at {messageLsn}");
                if (!hasHole && (holeOffset != 0 || holeLength != 0))
                    return (CorruptionKind.InvalidImageHeader,
                        $"BKPIMAGE_HAS_HOLE not set, but hole offset {holeOffset} length {holeLength} at {messageLsn}");
                if (compressed && imageLength == BlockReferenceFormat.DataPageSize)
                    return (CorruptionKind.InvalidImageHeader,
                        $"BKPIMAGE_COMPRESSED set, but block image length {imageLength} at {messageLsn}");
                if (!hasHole && !compressed && imageLength != BlockReferenceFormat.DataPageSize)
                    // PostgreSQL 15 prints data_len here, not the image length; kept for identical output.
                    return (CorruptionKind.InvalidImageHeader,
                        $"neither BKPIMAGE_HAS_HOLE nor BKPIMAGE_COMPRESSED set, but block image length is {dataLength} at {messageLsn}");
            }

            if ((flags & BlockFlags.SameRel) == 0)
            {
                if (remaining < BlockReferenceFormat.RelFileLocatorSize)
                    return ShortData(messageLsn);
                rel = new RelFileLocator(
                    BinaryPrimitives.ReadUInt32LittleEndian(record[pos..]),
                    BinaryPrimitives.ReadUInt32LittleEndian(record[(pos + 4)..]),
                    BinaryPrimitives.ReadUInt32LittleEndian(record[(pos + 8)..]));
                pos += BlockReferenceFormat.RelFileLocatorSize;
                remaining -= BlockReferenceFormat.RelFileLocatorSize;
                haveRel = true;
            }
            else if (!haveRel)
            {
                return (CorruptionKind.SameRelWithoutPrevious, $"BKPBLOCK_SAME_REL set but no previous rel at {messageLsn}");
            }
            if (remaining < BlockReferenceFormat.BlockNumberSize)
                return ShortData(messageLsn);
            uint blockNo = BinaryPrimitives.ReadUInt32LittleEndian(record[pos..]);
            pos += BlockReferenceFormat.BlockNumberSize;
            remaining -= BlockReferenceFormat.BlockNumberSize;

            // Payload order: per block (ascending id, as enforced above) image then data; then the
            // main data. Offsets are relative to the payload's start, known once all headers are read.
            int imageOffset = (int)dataTotal;
            dataTotal += imageLength;
            images += imageLength;
            int dataOffset = (int)dataTotal;
            dataTotal += dataLength;
            target.BlockSlot(id) = new DecodedBlock(rel, (ForkNumber)(forkFlags & (byte)BlockFlags.ForkMask),
                new BlockNumber(blockNo), flags & ~BlockFlags.ForkMask, dataLength, dataOffset,
                imageLength, holeOffset, holeLength, imageFlags, imageOffset);
        }

        if (remaining != dataTotal)
            return ShortData(messageLsn);
        target.SetPayload(pos, (int)(dataTotal - (ulong)target.MainDataLength), images);
        return (CorruptionKind.None, null);
    }

    private static (CorruptionKind, string?) ShortData(Lsn messageLsn)
        => (CorruptionKind.InvalidBodyLength, $"record with invalid length at {messageLsn}");
}
