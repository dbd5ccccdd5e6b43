// RecordBodyDecoder: parses the sub-headers and payload layout of a record whose header and CRC
// were already validated (xlogreader.c DecodeXLogRecord), with the same cross-checks and messages.
// Nothing is copied: block data, images and main data are offsets into the record bytes.
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
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
        if (record.Length < RecordHeader.Size)
            return ShortData(messageLsn);   // (callers pass whole records; `remaining` must not wrap)
        int pos = RecordHeader.Size;
        uint remaining = (uint)record.Length - RecordHeader.Size;
        ulong dataTotal = 0;     // payload bytes announced so far; also where the next block's payload starts in it
        uint images = 0;
        bool haveRel = false;
        RelFileLocator rel = default;
        int maxBlockId = -1;
        // Every read below is preceded by a check of `remaining` (always record.Length - pos), so
        // the reads go through `r` without a bounds check each.
        ref byte r = ref MemoryMarshal.GetReference(record);

        while (remaining > dataTotal)
        {
            if (remaining < 1)
                return ShortData(messageLsn);
            byte id = UnalignedLE.U8(ref r, pos);
            pos++;
            remaining--;

            if (id == BlockReferenceFormat.DataShortId)
            {
                if (remaining < 1)
                    return ShortData(messageLsn);
                int len = UnalignedLE.U8(ref r, pos);
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
                uint len = UnalignedLE.U32(ref r, pos);
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
                target.SetOrigin(UnalignedLE.U16(ref r, pos));
                pos += 2;
                remaining -= 2;
                continue;
            }
            if (id == BlockReferenceFormat.TopLevelXidId)
            {
                if (remaining < 4)
                    return ShortData(messageLsn);
                target.SetTopLevelXid(UnalignedLE.U32(ref r, pos));
                pos += 4;
                remaining -= 4;
                continue;
            }
            if (id > BlockReferenceFormat.MaxBlockId)
                return Fail(CorruptionKind.InvalidBlockId, id, 0, 0, messageLsn);
            if (id <= maxBlockId)
                return Fail(CorruptionKind.OutOfOrderBlockId, id, 0, 0, messageLsn);
            for (int gap = maxBlockId + 1; gap < id; gap++)
                target.BlockSlot(gap) = default;   // an unused id below this one (the record reuses its slots)
            maxBlockId = id;
            target.SetMaxBlockId(id);

            if (remaining < 3)
                return ShortData(messageLsn);
            byte forkFlags = UnalignedLE.U8(ref r, pos);
            ushort dataLength = UnalignedLE.U16(ref r, pos + 1);
            pos += 3;
            remaining -= 3;
            var flags = (BlockFlags)forkFlags;
            bool hasData = (flags & BlockFlags.HasData) != 0;
            if (hasData && dataLength == 0)
                return Fail(CorruptionKind.BlockDataFlagMismatch, -1, 0, 0, messageLsn);
            if (!hasData && dataLength != 0)
                return Fail(CorruptionKind.BlockDataFlagMismatch, dataLength, 0, 0, messageLsn);
            ushort imageLength = 0, holeOffset = 0, holeLength = 0;
            var imageFlags = ImageFlags.None;
            if ((flags & BlockFlags.HasImage) != 0)
            {
                if (remaining < BlockReferenceFormat.ImageHeaderSize)
                    return ShortData(messageLsn);
                imageLength = UnalignedLE.U16(ref r, pos);
                holeOffset = UnalignedLE.U16(ref r, pos + 2);
                imageFlags = (ImageFlags)UnalignedLE.U8(ref r, pos + 4);
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
                        holeLength = UnalignedLE.U16(ref r, pos);
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
                    return Fail(CorruptionKind.InvalidImageHeader, holeOffset, holeLength, imageLength, messageLsn, ImageProblem.HoleSetButInvalid);
                if (!hasHole && (holeOffset != 0 || holeLength != 0))
                    return Fail(CorruptionKind.InvalidImageHeader, holeOffset, holeLength, 0, messageLsn, ImageProblem.HoleNotSetButPresent);
                if (compressed && imageLength == BlockReferenceFormat.DataPageSize)
                    return Fail(CorruptionKind.InvalidImageHeader, imageLength, 0, 0, messageLsn, ImageProblem.CompressedFullPage);
                if (!hasHole && !compressed && imageLength != BlockReferenceFormat.DataPageSize)
                    // PostgreSQL 15 prints data_len here, not the image length; kept for identical output.
                    return Fail(CorruptionKind.InvalidImageHeader, dataLength, 0, 0, messageLsn, ImageProblem.NeitherButShort);
            }

            if ((flags & BlockFlags.SameRel) == 0)
            {
                if (remaining < BlockReferenceFormat.RelFileLocatorSize)
                    return ShortData(messageLsn);
                rel = new RelFileLocator(
                    UnalignedLE.U32(ref r, pos),
                    UnalignedLE.U32(ref r, pos + 4),
                    UnalignedLE.U32(ref r, pos + 8));
                pos += BlockReferenceFormat.RelFileLocatorSize;
                remaining -= BlockReferenceFormat.RelFileLocatorSize;
                haveRel = true;
            }
            else if (!haveRel)
            {
                return Fail(CorruptionKind.SameRelWithoutPrevious, 0, 0, 0, messageLsn);
            }
            if (remaining < BlockReferenceFormat.BlockNumberSize)
                return ShortData(messageLsn);
            uint blockNo = UnalignedLE.U32(ref r, pos);
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

    private enum ImageProblem { None, HoleSetButInvalid, HoleNotSetButPresent, CompressedFullPage, NeitherButShort }

    // The messages are built here, out of line: string interpolation in Decode itself gave it a
    // large stack frame that was zeroed on every call, a third of its time.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static (CorruptionKind, string?) ShortData(Lsn messageLsn)
        => (CorruptionKind.InvalidBodyLength, $"record with invalid length at {messageLsn}");

    // PostgreSQL 15's messages (xlogreader.c DecodeXLogRecord); PostgreSQL 15 prints data_len in the
    // last image message, not the image length, kept for identical output.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static (CorruptionKind, string?) Fail(CorruptionKind kind, int a, int b, int c, Lsn at, ImageProblem image = ImageProblem.None)
        => (kind, (kind, image) switch
        {
            (CorruptionKind.InvalidBlockId, _) => $"invalid block_id {a} at {at}",
            (CorruptionKind.OutOfOrderBlockId, _) => $"out-of-order block_id {a} at {at}",
            (CorruptionKind.BlockDataFlagMismatch, _) when a < 0 => $"BKPBLOCK_HAS_DATA set, but no data included at {at}",
            (CorruptionKind.BlockDataFlagMismatch, _) => $"BKPBLOCK_HAS_DATA not set, but data length is {a} at {at}",
            (_, ImageProblem.HoleSetButInvalid) => $"BKPIMAGE_HAS_HOLE set, but hole offset {a} length {b} block image length {c} at {at}",
            (_, ImageProblem.HoleNotSetButPresent) => $"BKPIMAGE_HAS_HOLE not set, but hole offset {a} length {b} at {at}",
            (_, ImageProblem.CompressedFullPage) => $"BKPIMAGE_COMPRESSED set, but block image length {a} at {at}",
            (_, ImageProblem.NeitherButShort) => $"neither BKPIMAGE_HAS_HOLE nor BKPIMAGE_COMPRESSED set, but block image length is {a} at {at}",
            _ => $"BKPBLOCK_SAME_REL set but no previous rel at {at}",
        });
}
