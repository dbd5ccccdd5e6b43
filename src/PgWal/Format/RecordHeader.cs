// RecordHeader: XLogRecord, the 24-byte header at the start of every WAL record.
//   0 u32 xl_tot_len | 4 u32 xl_xid | 8 u64 xl_prev | 16 u8 xl_info | 17 u8 xl_rmid | 18 u16 pad(0) | 20 u32 xl_crc
// The CRC covers bytes 24..xl_tot_len-1 first, then header bytes 0..19 (see Crc32C, FORMAT.md §CRC).
using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace PgWal.Format;

/// <summary>The fixed header of a WAL record (<c>XLogRecord</c>).</summary>
public readonly record struct RecordHeader(uint TotalLength, uint Xid, Lsn Prev, byte Info, byte RmgrId, uint Crc)
{
    /// <summary><c>SizeOfXLogRecord</c>.</summary>
    public const int Size = 24;

    /// <summary>Bytes of the header covered by the CRC (everything before <c>xl_crc</c>).</summary>
    public const int CrcCoveredSize = 20;

    internal const int TotalLengthOffset = 0;
    internal const int XidOffset = 4;
    internal const int PrevOffset = 8;
    internal const int InfoOffset = 16;
    internal const int RmgrOffset = 17;
    internal const int CrcOffset = 20;

    /// <summary>Generic flag bits in the low nibble of <c>xl_info</c> (<c>XLR_INFO_MASK</c>).</summary>
    public const byte InfoMask = 0x0F;

    /// <summary>The rmgr-defined high nibble of <c>xl_info</c> (<c>XLR_RMGR_INFO_MASK</c>).</summary>
    public const byte RmgrInfoMask = 0xF0;

    /// <summary><c>XLR_SPECIAL_REL_UPDATE</c>.</summary>
    public const byte SpecialRelUpdate = 0x01;

    /// <summary><c>XLR_CHECK_CONSISTENCY</c>.</summary>
    public const byte CheckConsistency = 0x02;

    /// <summary>
    /// Largest record PgWal writes or reads (PostgreSQL 16's <c>XLogRecordMaxSize</c>, 1020 MB; the
    /// reader's hard limit is <c>MaxAllocSize</c>, 1 GB - 1).
    /// </summary>
    public const uint MaxTotalLength = 1020 * 1024 * 1024;

    /// <summary>Reads only <c>xl_tot_len</c>, the one field guaranteed to be on the record's first page.</summary>
    public static uint ReadTotalLength(ReadOnlySpan<byte> record) => BinaryPrimitives.ReadUInt32LittleEndian(record);

    /// <summary>Reads only <c>xl_xid</c>.</summary>
    public static uint ReadXid(ReadOnlySpan<byte> record) => BinaryPrimitives.ReadUInt32LittleEndian(record[XidOffset..]);

    /// <summary>Reads only <c>xl_info</c>.</summary>
    public static byte ReadInfo(ReadOnlySpan<byte> record) => record[InfoOffset];

    /// <summary>Reads only <c>xl_rmid</c>.</summary>
    public static byte ReadRmgrId(ReadOnlySpan<byte> record) => record[RmgrOffset];

    /// <summary>Reads only <c>xl_prev</c>.</summary>
    public static Lsn ReadPrev(ReadOnlySpan<byte> record) => new(BinaryPrimitives.ReadUInt64LittleEndian(record[PrevOffset..]));

    /// <summary>Decodes the 24-byte header. No validation.</summary>
    public static RecordHeader Read(ReadOnlySpan<byte> record)
    {
        ref byte r = ref MemoryMarshal.GetReference(record[..Size]);   // the one bounds check
        return new(UnalignedLE.U32(ref r, TotalLengthOffset), UnalignedLE.U32(ref r, XidOffset),
            new Lsn(UnalignedLE.U64(ref r, PrevOffset)), UnalignedLE.U8(ref r, InfoOffset),
            UnalignedLE.U8(ref r, RmgrOffset), UnalignedLE.U32(ref r, CrcOffset));
    }

    /// <summary>Writes the header, zeroing the two padding bytes.</summary>
    public void Write(Span<byte> record)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(record, TotalLength);
        BinaryPrimitives.WriteUInt32LittleEndian(record[XidOffset..], Xid);
        BinaryPrimitives.WriteUInt64LittleEndian(record[PrevOffset..], Prev.Value);
        record[InfoOffset] = Info;
        record[RmgrOffset] = RmgrId;
        record[18] = 0;
        record[19] = 0;
        BinaryPrimitives.WriteUInt32LittleEndian(record[CrcOffset..], Crc);
    }

    /// <summary>
    /// The CRC of a complete record in PostgreSQL's order: the bytes after the header, then header
    /// bytes 0..19. <paramref name="record"/> is exactly <c>xl_tot_len</c> bytes.
    /// </summary>
    public static uint ComputeCrc(ReadOnlySpan<byte> record)
    {
        uint crc = Crc32C.Append(Crc32C.InitialValue, record[Size..]);
        crc = Crc32C.Append(crc, record[..CrcCoveredSize]);
        return Crc32C.Finish(crc);
    }

    /// <summary>Stores the CRC of a complete record at offset 20.</summary>
    public static void StoreCrc(Span<byte> record)
        => BinaryPrimitives.WriteUInt32LittleEndian(record[CrcOffset..], ComputeCrc(record));

    /// <summary>Reads the stored <c>xl_crc</c>.</summary>
    public static uint ReadCrc(ReadOnlySpan<byte> record) => BinaryPrimitives.ReadUInt32LittleEndian(record[CrcOffset..]);
}
