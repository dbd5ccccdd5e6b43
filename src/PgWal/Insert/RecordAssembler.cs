// RecordAssembler: turns a RecordBuilder into the exact bytes of a WAL record
// (xloginsert.c XLogRecordAssemble): sub-headers in PostgreSQL's order (block headers ascending,
// origin, top-level xid, main-data header), then per block image and data, then main data.
// Decides images like PostgreSQL (forced, or page LSN <= redo pointer with full-page writes on),
// removes the hole of standard pages and compresses when asked. xl_prev and the CRC's header part
// are left for the inserter, which learns xl_prev only when it reserves space; PayloadCrc is the
// CRC register over bytes 24.. (must match RecordHeader.ComputeCrc's order). Reused; not thread-safe.
using System.Buffers.Binary;
using PgWal.Compression;
using PgWal.Format;

namespace PgWal.Insert;

/// <summary>The bytes of an assembled record, valid until the assembler is used again.</summary>
public readonly ref struct AssembledRecord
{
    internal AssembledRecord(Span<byte> bytes, uint payloadCrc, int imageCount)
    {
        Bytes = bytes;
        PayloadCrc = payloadCrc;
        ImageCount = imageCount;
    }

    /// <summary>The record, xl_tot_len bytes; xl_prev and xl_crc are not filled in yet.</summary>
    public Span<byte> Bytes { get; }

    /// <summary>CRC register after the bytes following the header (header still to be added).</summary>
    public uint PayloadCrc { get; }

    /// <summary>Full-page images included.</summary>
    public int ImageCount { get; }

    /// <summary>Total length.</summary>
    public int Length => Bytes.Length;

    /// <summary>Fills in xl_prev and the final CRC (header bytes 0..19 fed after the payload).</summary>
    public void Complete(Lsn prev)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(Bytes[RecordHeader.PrevOffset..], prev.Value);
        uint crc = Crc32C.Append(PayloadCrc, Bytes[..RecordHeader.CrcCoveredSize]);
        BinaryPrimitives.WriteUInt32LittleEndian(Bytes[RecordHeader.CrcOffset..], Crc32C.Finish(crc));
    }
}

/// <summary>Assembles records from <see cref="RecordBuilder"/>s.</summary>
public sealed class RecordAssembler
{
    private readonly FullPageImageEncoder?[] _encoders = new FullPageImageEncoder?[4];
    private FullPageImageEncoder _images;
    private byte[] _buffer = new byte[64 * 1024];

    /// <summary>Creates an assembler compressing images with <paramref name="compression"/>.</summary>
    public RecordAssembler(WalCompression compression = WalCompression.None)
    {
        _images = EncoderFor(compression);
    }

    /// <summary>
    /// The image compression for records assembled from now on (PostgreSQL's <c>wal_compression</c>,
    /// which may change at any time).
    /// </summary>
    /// <exception cref="InvalidOperationException">The codec's system library is not available.</exception>
    public WalCompression Compression
    {
        get => _images.Compression;
        set => _images = EncoderFor(value);
    }

    private FullPageImageEncoder EncoderFor(WalCompression compression)
        => _encoders[(int)compression] ??= new FullPageImageEncoder(compression);

    /// <summary>
    /// Assembles the builder's record. An image is taken for a block when it is forced, or when
    /// <paramref name="doPageWrites"/> is set and the page's LSN is at or before <paramref name="redoPointer"/>.
    /// </summary>
    /// <exception cref="RecordTooLargeException">The record exceeds 1020 MB; nothing was produced.</exception>
    public AssembledRecord Assemble(RecordBuilder builder, Lsn redoPointer = default, bool doPageWrites = false)
        => Assemble(builder, redoPointer, doPageWrites, out _);

    /// <summary>
    /// Assembles like <see cref="Assemble(RecordBuilder, Lsn, bool)"/> and returns in
    /// <paramref name="fpwLsn"/> the oldest page LSN among blocks that could have needed an image but
    /// did not get one (Invalid when none): if the redo pointer has moved to or past it by the time
    /// the record is inserted, the record must be assembled again (XLogInsertRecord's retry).
    /// </summary>
    public AssembledRecord Assemble(RecordBuilder builder, Lsn redoPointer, bool doPageWrites, out Lsn fpwLsn)
    {
        fpwLsn = Lsn.Invalid;
        if (!builder.IsBegun)
            throw new InvalidOperationException("XLogBeginInsert was not called: call Begin first");
        bool checkConsistency = (builder.Info & RecordHeader.CheckConsistency) != 0;

        // First pass: decide images, data and relation elision per block (as its fork_flags) and
        // measure, so the size limit is checked before any copying. Later passes only read these.
        Span<FullPageImageEncoder.Image> images = stackalloc FullPageImageEncoder.Image[BlockReferenceFormat.MaxBlockId + 1];
        Span<byte> forkFlags = stackalloc byte[BlockReferenceFormat.MaxBlockId + 1];
        _images.Reset();
        long total = RecordHeader.Size;
        int imageCount = 0;
        RecordBuilder.BlockSlot? previous = null;
        for (int id = 0; id < builder.BlockLimit; id++)
        {
            var slot = builder.GetSlot(id);
            if (!slot.InUse)
                continue;
            bool needsBackup = NeedsBackup(slot, redoPointer, doPageWrites, ref fpwLsn);
            bool includeImage = needsBackup || checkConsistency;
            if (includeImage && slot.Page.Length == 0)
                throw new InvalidOperationException($"block {id} needs a full-page image but no page was registered");
            images[id] = includeImage ? _images.Encode(slot.Page.Span, (slot.Flags & BlockRegistration.Standard) != 0, needsBackup) : default;
            if (includeImage)
                imageCount++;
            bool includeData = slot.DataLength > 0 && ((slot.Flags & BlockRegistration.KeepData) != 0 || !needsBackup);
            bool sameRel = previous != null && previous.Rel == slot.Rel;
            forkFlags[id] = (byte)((byte)slot.Fork
                | ((slot.Flags & BlockRegistration.WillInit) == BlockRegistration.WillInit ? (byte)BlockFlags.WillInit : 0)
                | (includeImage ? (byte)BlockFlags.HasImage : 0)
                | (includeData ? (byte)BlockFlags.HasData : 0)
                | (sameRel ? (byte)BlockFlags.SameRel : 0));
            total += BlockReferenceFormat.BlockHeaderSize + BlockReferenceFormat.BlockNumberSize
                     + (sameRel ? 0 : BlockReferenceFormat.RelFileLocatorSize)
                     + (includeImage ? BlockReferenceFormat.ImageHeaderSize + (images[id].HasCompressHeader ? BlockReferenceFormat.CompressHeaderSize : 0) + images[id].Length : 0)
                     + (includeData ? slot.DataLength : 0);
            previous = slot;
        }
        if (builder.Origin != BlockReferenceFormat.InvalidOrigin)
            total += 3;
        if (builder.TopLevelXid != 0)
            total += 5;
        int mainLength = builder.MainDataLength;
        if (mainLength > 0)
            total += (mainLength > 255 ? 5 : 2) + mainLength;
        if (total > RecordHeader.MaxTotalLength)
            throw new RecordTooLargeException(
                $"oversized WAL record: WAL record would be {total} bytes (of maximum {RecordHeader.MaxTotalLength} bytes); rmid {builder.RmgrId} flags {builder.Info & RecordHeader.InfoMask}");

        if (total > _buffer.Length)
            _buffer = GC.AllocateUninitializedArray<byte>((int)Math.Min(Math.Max(total, (long)_buffer.Length * 2), Array.MaxLength));
        var rec = _buffer.AsSpan(0, (int)total);
        new RecordHeader((uint)total, builder.Xid, Lsn.Invalid, builder.Info, builder.RmgrId, 0).Write(rec);

        // Second pass: sub-headers.
        int pos = RecordHeader.Size;
        for (int id = 0; id < builder.BlockLimit; id++)
        {
            var slot = builder.GetSlot(id);
            if (!slot.InUse)
                continue;
            var flags = (BlockFlags)forkFlags[id];
            rec[pos] = (byte)id;
            rec[pos + 1] = forkFlags[id];
            BinaryPrimitives.WriteUInt16LittleEndian(rec[(pos + 2)..], (ushort)((flags & BlockFlags.HasData) != 0 ? slot.DataLength : 0));
            pos += BlockReferenceFormat.BlockHeaderSize;
            if ((flags & BlockFlags.HasImage) != 0)
                pos += images[id].WriteHeader(rec[pos..]);
            if ((flags & BlockFlags.SameRel) == 0)
            {
                BinaryPrimitives.WriteUInt32LittleEndian(rec[pos..], slot.Rel.SpcOid);
                BinaryPrimitives.WriteUInt32LittleEndian(rec[(pos + 4)..], slot.Rel.DbOid);
                BinaryPrimitives.WriteUInt32LittleEndian(rec[(pos + 8)..], slot.Rel.RelNumber);
                pos += BlockReferenceFormat.RelFileLocatorSize;
            }
            BinaryPrimitives.WriteUInt32LittleEndian(rec[pos..], slot.Block.Value);
            pos += BlockReferenceFormat.BlockNumberSize;
        }
        if (builder.Origin != BlockReferenceFormat.InvalidOrigin)
        {
            rec[pos] = BlockReferenceFormat.OriginId;
            BinaryPrimitives.WriteUInt16LittleEndian(rec[(pos + 1)..], builder.Origin);
            pos += 3;
        }
        if (builder.TopLevelXid != 0)
        {
            rec[pos] = BlockReferenceFormat.TopLevelXidId;
            BinaryPrimitives.WriteUInt32LittleEndian(rec[(pos + 1)..], builder.TopLevelXid);
            pos += 5;
        }
        if (mainLength > 255)
        {
            rec[pos] = BlockReferenceFormat.DataLongId;
            BinaryPrimitives.WriteUInt32LittleEndian(rec[(pos + 1)..], (uint)mainLength);
            pos += 5;
        }
        else if (mainLength > 0)
        {
            rec[pos] = BlockReferenceFormat.DataShortId;
            rec[pos + 1] = (byte)mainLength;
            pos += 2;
        }

        // Payloads: per block image then data, then main data.
        for (int id = 0; id < builder.BlockLimit; id++)
        {
            var slot = builder.GetSlot(id);
            if (!slot.InUse)
                continue;
            var flags = (BlockFlags)forkFlags[id];
            if ((flags & BlockFlags.HasImage) != 0)
                pos += _images.CopyImage(in images[id], slot.Page.Span, rec[pos..]);
            if ((flags & BlockFlags.HasData) != 0)
            {
                slot.Data.AsSpan(0, slot.DataLength).CopyTo(rec[pos..]);
                pos += slot.DataLength;
            }
        }
        builder.MainData.CopyTo(rec[pos..]);
        pos += mainLength;
        if (pos != total)
            throw new InvalidOperationException($"record assembly mismatch: wrote {pos} of {total} bytes");

        uint payloadCrc = Crc32C.Append(Crc32C.InitialValue, rec[RecordHeader.Size..]);
        return new AssembledRecord(rec, payloadCrc, imageCount);
    }

    private static bool NeedsBackup(RecordBuilder.BlockSlot slot, Lsn redoPointer, bool doPageWrites, ref Lsn fpwLsn)
    {
        if ((slot.Flags & BlockRegistration.ForceImage) != 0)
            return true;
        if ((slot.Flags & BlockRegistration.NoImage) != 0 || !doPageWrites)
            return false;
        Lsn pageLsn = DataPageHeader.ReadLsn(slot.Page.Span);
        if (pageLsn <= redoPointer)
            return true;
        if (fpwLsn == Lsn.Invalid || pageLsn < fpwLsn)
            fpwLsn = pageLsn;
        return false;
    }
}
