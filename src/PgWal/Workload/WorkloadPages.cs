// WorkloadPages: synthetic 8 kB data pages for generated full-page images: standard heap-like
// pages (line pointers, a hole between pd_lower and pd_upper, compressible tuples), random
// non-standard pages (incompressible, no hole) and nearly empty pages (highly compressible).
using System.Buffers.Binary;
using PgWal.Format;

namespace PgWal.Workload;

internal static class WorkloadPages
{
    public const int PageSize = BlockReferenceFormat.DataPageSize;

    /// <summary>A standard page with <paramref name="tuples"/> tuples and a hole in the middle (none when full).</summary>
    public static void Standard(Random rng, Span<byte> page, int tuples, bool full = false)
    {
        page.Clear();
        int tupleArea = 0;
        int lower = DataPageHeader.Size + 4 * tuples;
        int upper = PageSize;
        for (int i = 0; i < tuples; i++)
        {
            int len = 24 + rng.Next(0, 120);
            len = (len + 7) & ~7;
            if (upper - len < lower + 8)
                break;
            upper -= len;
            tupleArea += len;
            // line pointer: lp_off (15 bits) | lp_flags (2 bits) << 15 | lp_len (15 bits) << 17
            uint lp = (uint)upper | (1u << 15) | ((uint)len << 17);
            BinaryPrimitives.WriteUInt32LittleEndian(page[(DataPageHeader.Size + 4 * i)..], lp);
            FillTuple(rng, page.Slice(upper, len), i);
        }
        if (full)
            upper = lower; // no hole
        DataPageHeader.WriteLowerUpper(page, (ushort)lower, (ushort)upper);
        BinaryPrimitives.WriteUInt16LittleEndian(page[16..], PageSize);            // pd_special
        BinaryPrimitives.WriteUInt16LittleEndian(page[18..], PageSize | 4);        // pd_pagesize_version
        BinaryPrimitives.WriteUInt32LittleEndian(page[20..], (uint)rng.Next(0, 100000)); // pd_prune_xid
    }

    /// <summary>Random bytes: a page without a standard header and practically incompressible.</summary>
    public static void Random(Random rng, Span<byte> page) => rng.NextBytes(page[..PageSize]);

    /// <summary>A standard page with a few tuples: a large hole, the rest compresses very well.</summary>
    public static void Sparse(Random rng, Span<byte> page) => Standard(rng, page, rng.Next(1, 4));

    private static void FillTuple(Random rng, Span<byte> tuple, int index)
    {
        // Heap-tuple-like: a header with small integers, then text drawn from a small alphabet.
        tuple.Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(tuple, (uint)(1000 + index));
        if (tuple.Length > 8)
            BinaryPrimitives.WriteUInt32LittleEndian(tuple[4..], (uint)rng.Next(0, 5));
        for (int i = 23; i < tuple.Length; i++)
            tuple[i] = (byte)('a' + rng.Next(0, 6));
    }
}
