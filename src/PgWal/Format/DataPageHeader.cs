// DataPageHeader: the standard 24-byte header of an 8 kB data page (bufpage.h PageHeaderData).
//   0 pd_lsn {u32 xlogid (high), u32 xrecoff (low)} | 8 u16 pd_checksum | 10 u16 pd_flags
//   12 u16 pd_lower | 14 u16 pd_upper | 16 u16 pd_special | 18 u16 pd_pagesize_version | 20 u32 pd_prune_xid
// The "hole" a full-page image may omit is [pd_lower, pd_upper).
using System.Buffers.Binary;

namespace PgWal.Format;

/// <summary>Field access for PostgreSQL's standard data page header.</summary>
public static class DataPageHeader
{
    /// <summary><c>SizeOfPageHeaderData</c>.</summary>
    public const int Size = 24;

    internal const int LowerOffset = 12;
    internal const int UpperOffset = 14;

    /// <summary>The page LSN (<c>PageGetLSN</c>): high half at offset 0, low half at offset 4.</summary>
    public static Lsn ReadLsn(ReadOnlySpan<byte> page)
        => Lsn.FromParts(BinaryPrimitives.ReadUInt32LittleEndian(page), BinaryPrimitives.ReadUInt32LittleEndian(page[4..]));

    /// <summary>Sets the page LSN (<c>PageSetLSN</c>).</summary>
    public static void WriteLsn(Span<byte> page, Lsn lsn)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(page, lsn.High);
        BinaryPrimitives.WriteUInt32LittleEndian(page[4..], lsn.Low);
    }

    /// <summary><c>pd_lower</c>: end of the line pointer array.</summary>
    public static ushort ReadLower(ReadOnlySpan<byte> page) => BinaryPrimitives.ReadUInt16LittleEndian(page[LowerOffset..]);

    /// <summary><c>pd_upper</c>: start of tuple space.</summary>
    public static ushort ReadUpper(ReadOnlySpan<byte> page) => BinaryPrimitives.ReadUInt16LittleEndian(page[UpperOffset..]);

    /// <summary>Sets <c>pd_lower</c> and <c>pd_upper</c>.</summary>
    public static void WriteLowerUpper(Span<byte> page, ushort lower, ushort upper)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(page[LowerOffset..], lower);
        BinaryPrimitives.WriteUInt16LittleEndian(page[UpperOffset..], upper);
    }

    /// <summary>
    /// The hole of a standard page: [pd_lower, pd_upper) when pd_lower &gt;= 24, pd_upper &gt; pd_lower
    /// and pd_upper &lt;= 8192; otherwise none (offset and length 0).
    /// </summary>
    public static (ushort Offset, ushort Length) Hole(ReadOnlySpan<byte> page)
    {
        ushort lower = ReadLower(page), upper = ReadUpper(page);
        if (lower >= Size && upper > lower && upper <= BlockReferenceFormat.DataPageSize)
            return (lower, (ushort)(upper - lower));
        return (0, 0);
    }
}
