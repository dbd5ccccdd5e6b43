// StandardPage: PostgreSQL's standard 8 kB data page (bufpage.h / bufpage.c / checksum_impl.h):
// PageInit, PageIsNew, PageIsVerifiedExtended and pg_checksum_page, byte-compatible, so pages
// PgWal writes pass PostgreSQL's checks and FPIs of them have the usual hole.
//   0 pd_lsn | 8 pd_checksum | 10 pd_flags | 12 pd_lower | 14 pd_upper | 16 pd_special
//   18 pd_pagesize_version (8192 | layout version 4) | 20 pd_prune_xid
// A page is "new" when pd_upper is 0 (never initialised); an all-zero page always verifies.
using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace PgWal.Format;

/// <summary>Standard data page layout, verification and checksums.</summary>
public static class StandardPage
{
    /// <summary>BLCKSZ.</summary>
    public const int Size = BlockReferenceFormat.DataPageSize;

    /// <summary>PG_PAGE_LAYOUT_VERSION.</summary>
    public const byte LayoutVersion = 4;

    internal const int ChecksumOffset = 8;
    internal const int FlagsOffset = 10;
    internal const int SpecialOffset = 16;
    internal const int SizeVersionOffset = 18;
    private const ushort ValidFlagBits = 0x0007;

    /// <summary>PageInit: zeroes the page and sets the header for <paramref name="specialSize"/> bytes of special space.</summary>
    public static void Init(Span<byte> page, int specialSize = 0)
    {
        int special = (int)WalGeometry.MaxAlign((ulong)specialSize);
        if ((uint)special > Size - DataPageHeader.Size)
            throw new ArgumentOutOfRangeException(nameof(specialSize), specialSize, "special space does not fit in a page");
        page[..Size].Clear();
        DataPageHeader.WriteLowerUpper(page, DataPageHeader.Size, (ushort)(Size - special));
        BinaryPrimitives.WriteUInt16LittleEndian(page[SpecialOffset..], (ushort)(Size - special));
        BinaryPrimitives.WriteUInt16LittleEndian(page[SizeVersionOffset..], Size | LayoutVersion);
    }

    /// <summary>PageIsNew: pd_upper is zero (the page was never initialised).</summary>
    public static bool IsNew(ReadOnlySpan<byte> page) => DataPageHeader.ReadUpper(page) == 0;

    /// <summary>pd_checksum.</summary>
    public static ushort ReadChecksum(ReadOnlySpan<byte> page) => BinaryPrimitives.ReadUInt16LittleEndian(page[ChecksumOffset..]);

    /// <summary>pd_special.</summary>
    public static ushort ReadSpecial(ReadOnlySpan<byte> page) => BinaryPrimitives.ReadUInt16LittleEndian(page[SpecialOffset..]);

    /// <summary>PageSetChecksumInplace: stores the checksum for <paramref name="block"/> (new pages are left alone).</summary>
    public static void SetChecksum(Span<byte> page, BlockNumber block)
    {
        if (!IsNew(page))
            BinaryPrimitives.WriteUInt16LittleEndian(page[ChecksumOffset..], ComputeChecksum(page, block));
    }

    /// <summary>
    /// PageIsVerifiedExtended: null when the page is acceptable (sane header and, with checksums,
    /// a matching checksum; or all zeros), otherwise PostgreSQL's reason.
    /// </summary>
    public static string? Verify(ReadOnlySpan<byte> page, BlockNumber block, bool checksums)
    {
        ushort expected = 0, stored = 0;
        bool checksumFailure = false;
        if (!IsNew(page))
        {
            if (checksums)
            {
                expected = ComputeChecksum(page, block);
                stored = ReadChecksum(page);
                checksumFailure = expected != stored;
            }
            ushort flags = BinaryPrimitives.ReadUInt16LittleEndian(page[FlagsOffset..]);
            ushort lower = DataPageHeader.ReadLower(page), upper = DataPageHeader.ReadUpper(page), special = ReadSpecial(page);
            bool sane = (flags & ~ValidFlagBits) == 0 && lower <= upper && upper <= special && special <= Size && special % 8 == 0;
            if (sane && !checksumFailure)
                return null;
        }
        if (!page[..Size].ContainsAnyExcept((byte)0))
            return null;
        return checksumFailure
            ? $"page verification failed, calculated checksum {expected} but expected {stored}"
            : "page header is corrupt";
    }

    /// <summary>pg_checksum_page: FNV-1a in 32 parallel lanes over the page with pd_checksum as zero, mixed with the block number.</summary>
    public static ushort ComputeChecksum(ReadOnlySpan<byte> page, BlockNumber block)
    {
        const uint prime = 16777619;
        Span<uint> sums = stackalloc uint[32];
        BaseOffsets.CopyTo(sums);
        var words = MemoryMarshal.Cast<byte, uint>(page[..Size]);
        for (int i = 0; i < words.Length; i += 32)
        {
            for (int j = 0; j < 32; j++)
            {
                uint value = words[i + j];
                if (i == 0 && j == ChecksumOffset / 4)
                    value &= BitConverter.IsLittleEndian ? 0xFFFF0000u : 0x0000FFFFu; // pd_checksum counts as zero
                uint tmp = sums[j] ^ value;
                sums[j] = (tmp * prime) ^ (tmp >> 17);
            }
        }
        uint result = 0;
        for (int j = 0; j < 32; j++)
        {
            for (int round = 0; round < 2; round++)
            {
                uint tmp = sums[j];
                sums[j] = (tmp * prime) ^ (tmp >> 17);
            }
            result ^= sums[j];
        }
        result ^= block.Value;
        return (ushort)(result % 65535 + 1);
    }

    private static ReadOnlySpan<uint> BaseOffsets =>
    [
        0x5B1F36E9, 0xB8525960, 0x02AB50AA, 0x1DE66D2A, 0x79FF467A, 0x9BB9F8A3, 0x217E7CD2, 0x83E13D2C,
        0xF8D4474F, 0xE39EB970, 0x42C6AE16, 0x993216FA, 0x7B093B5D, 0x98DAFF3C, 0xF718902A, 0x0B1C9CDB,
        0xE58F764B, 0x187636BC, 0x5D7B3BB1, 0xE73DE7DE, 0x92BEC979, 0xCCA6C0B2, 0x304A0979, 0x85AA43D4,
        0x783125BB, 0x6CA8EAA2, 0xE407EAC6, 0x4B5CFC3E, 0x9FBF8C76, 0x15CA20BE, 0xF2CA9FD3, 0x959BD756,
    ];
}
