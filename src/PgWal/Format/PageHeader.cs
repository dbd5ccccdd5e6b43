// PageHeader: XLogPageHeaderData (24 bytes, every WAL page) and XLogLongPageHeaderData
// (40 bytes, first page of each segment). Offsets: see FORMAT.md "Page headers".
//   0 u16 xlp_magic | 2 u16 xlp_info | 4 u32 xlp_tli | 8 u64 xlp_pageaddr | 16 u32 xlp_rem_len | 20 pad
//   long: 24 u64 xlp_sysid | 32 u32 xlp_seg_size | 36 u32 xlp_xlog_blcksz
using System.Buffers.Binary;

namespace PgWal.Format;

/// <summary>Flag bits of <c>xlp_info</c>.</summary>
[Flags]
public enum PageInfo : ushort
{
    /// <summary>No flags.</summary>
    None = 0,
    /// <summary>The page begins with the continuation of a record (<c>XLP_FIRST_IS_CONTRECORD</c>).</summary>
    FirstIsContRecord = 0x0001,
    /// <summary>The long header is present (<c>XLP_LONG_HEADER</c>); required on a segment's first page.</summary>
    LongHeader = 0x0002,
    /// <summary>Set on pages initialised while no backup is running (<c>XLP_BKP_REMOVABLE</c>).</summary>
    BackupRemovable = 0x0004,
    /// <summary>The first record replaces a lost continuation (<c>XLP_FIRST_IS_OVERWRITE_CONTRECORD</c>).</summary>
    FirstIsOverwriteContRecord = 0x0008,
    /// <summary>Every valid bit (<c>XLP_ALL_FLAGS</c>); any other bit is invalid.</summary>
    All = 0x000F,
}

/// <summary>The PostgreSQL major version a WAL page magic number belongs to.</summary>
public enum WalVersion
{
    /// <summary>Unknown magic.</summary>
    Unknown = 0,
    /// <summary>PostgreSQL 15 (magic 0xD110), the version PgWal writes.</summary>
    Pg15 = 15,
    /// <summary>PostgreSQL 16 (magic 0xD113).</summary>
    Pg16 = 16,
    /// <summary>PostgreSQL 17 (magic 0xD116).</summary>
    Pg17 = 17,
    /// <summary>PostgreSQL 18 (magic 0xD118).</summary>
    Pg18 = 18,
}

/// <summary>A decoded WAL page header (short part plus, when present, the long part).</summary>
public readonly record struct PageHeader(
    ushort Magic, PageInfo Info, TimelineId Timeline, Lsn PageAddress, uint RemainingLength,
    ulong SystemIdentifier = 0, uint SegmentSize = 0, uint BlockSize = 0)
{
    /// <summary><c>SizeOfXLogShortPHD</c>: MAXALIGN(20).</summary>
    public const int ShortSize = 24;

    /// <summary><c>SizeOfXLogLongPHD</c>.</summary>
    public const int LongSize = 40;

    /// <summary>PostgreSQL 15's <c>XLOG_PAGE_MAGIC</c>, the magic PgWal writes.</summary>
    public const ushort MagicPg15 = 0xD110;

    /// <summary>PostgreSQL 16's <c>XLOG_PAGE_MAGIC</c>.</summary>
    public const ushort MagicPg16 = 0xD113;

    /// <summary>PostgreSQL 17's <c>XLOG_PAGE_MAGIC</c>.</summary>
    public const ushort MagicPg17 = 0xD116;

    /// <summary>PostgreSQL 18's <c>XLOG_PAGE_MAGIC</c>.</summary>
    public const ushort MagicPg18 = 0xD118;

    internal const int MagicOffset = 0;
    internal const int InfoOffset = 2;
    internal const int TimelineOffset = 4;
    internal const int PageAddressOffset = 8;
    internal const int RemainingLengthOffset = 16;
    internal const int SystemIdentifierOffset = 24;
    internal const int SegmentSizeOffset = 32;
    internal const int BlockSizeOffset = 36;

    /// <summary>True when the long header is present.</summary>
    public bool IsLong => (Info & PageInfo.LongHeader) != 0;

    /// <summary>Header size implied by <c>xlp_info</c> (<c>XLogPageHeaderSize</c>).</summary>
    public int Size => IsLong ? LongSize : ShortSize;

    /// <summary>The version a magic number belongs to.</summary>
    public static WalVersion VersionOf(ushort magic) => magic switch
    {
        MagicPg15 => WalVersion.Pg15,
        MagicPg16 => WalVersion.Pg16,
        MagicPg17 => WalVersion.Pg17,
        MagicPg18 => WalVersion.Pg18,
        _ => WalVersion.Unknown,
    };

    /// <summary>Reads <c>xlp_magic</c>.</summary>
    public static ushort ReadMagic(ReadOnlySpan<byte> page) => BinaryPrimitives.ReadUInt16LittleEndian(page);

    /// <summary>Reads <c>xlp_info</c>.</summary>
    public static PageInfo ReadInfo(ReadOnlySpan<byte> page) => (PageInfo)BinaryPrimitives.ReadUInt16LittleEndian(page[InfoOffset..]);

    /// <summary>Reads <c>xlp_rem_len</c>.</summary>
    public static uint ReadRemainingLength(ReadOnlySpan<byte> page) => BinaryPrimitives.ReadUInt32LittleEndian(page[RemainingLengthOffset..]);

    /// <summary>
    /// Marks a page as starting with the continuation of a record: sets <c>xlp_rem_len</c> and
    /// <c>XLP_FIRST_IS_CONTRECORD</c> in a header already written (CopyXLogRecordToWAL does this).
    /// </summary>
    public static void MarkContinuation(Span<byte> page, uint remainingLength)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(page[RemainingLengthOffset..], remainingLength);
        var info = ReadInfo(page) | PageInfo.FirstIsContRecord;
        BinaryPrimitives.WriteUInt16LittleEndian(page[InfoOffset..], (ushort)info);
    }

    /// <summary>Sets <paramref name="flag"/> in the xlp_info of a header already written.</summary>
    public static void AddInfoFlag(Span<byte> page, PageInfo flag)
        => BinaryPrimitives.WriteUInt16LittleEndian(page[InfoOffset..], (ushort)(ReadInfo(page) | flag));

    /// <summary>Clears <paramref name="flag"/> in the xlp_info of a header already written.</summary>
    public static void RemoveInfoFlag(Span<byte> page, PageInfo flag)
        => BinaryPrimitives.WriteUInt16LittleEndian(page[InfoOffset..], (ushort)(ReadInfo(page) & ~flag));

    /// <summary>
    /// Decodes the header at the start of <paramref name="page"/> (at least 24 bytes; 40 when the
    /// long flag is set and the long fields are wanted). No validation.
    /// </summary>
    public static PageHeader Read(ReadOnlySpan<byte> page)
    {
        var info = ReadInfo(page);
        ulong sysid = 0;
        uint segSize = 0, blockSize = 0;
        if ((info & PageInfo.LongHeader) != 0 && page.Length >= LongSize)
        {
            sysid = BinaryPrimitives.ReadUInt64LittleEndian(page[SystemIdentifierOffset..]);
            segSize = BinaryPrimitives.ReadUInt32LittleEndian(page[SegmentSizeOffset..]);
            blockSize = BinaryPrimitives.ReadUInt32LittleEndian(page[BlockSizeOffset..]);
        }
        return new PageHeader(
            ReadMagic(page), info,
            new TimelineId(BinaryPrimitives.ReadUInt32LittleEndian(page[TimelineOffset..])),
            new Lsn(BinaryPrimitives.ReadUInt64LittleEndian(page[PageAddressOffset..])),
            ReadRemainingLength(page), sysid, segSize, blockSize);
    }

    /// <summary>
    /// Writes this header (24 or 40 bytes, by <see cref="IsLong"/>) including zero padding.
    /// </summary>
    public void Write(Span<byte> page)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(page, Magic);
        BinaryPrimitives.WriteUInt16LittleEndian(page[InfoOffset..], (ushort)Info);
        BinaryPrimitives.WriteUInt32LittleEndian(page[TimelineOffset..], Timeline.Value);
        BinaryPrimitives.WriteUInt64LittleEndian(page[PageAddressOffset..], PageAddress.Value);
        BinaryPrimitives.WriteUInt32LittleEndian(page[RemainingLengthOffset..], RemainingLength);
        BinaryPrimitives.WriteUInt32LittleEndian(page[20..], 0);
        if (IsLong)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(page[SystemIdentifierOffset..], SystemIdentifier);
            BinaryPrimitives.WriteUInt32LittleEndian(page[SegmentSizeOffset..], SegmentSize);
            BinaryPrimitives.WriteUInt32LittleEndian(page[BlockSizeOffset..], BlockSize);
        }
    }
}
