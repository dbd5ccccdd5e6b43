// KvPage: the layout of PgWal.Kv's pages — the only place their byte offsets live. Every page is a
// PostgreSQL standard page (24-byte header, pd_lower/pd_upper, 16 bytes of special space), so
// full-page images of it have the usual hole and PostgreSQL's page checks accept it.
//   line pointers [24, pd_lower): u16 item offset, u16 item length, in key order
//   items [pd_upper, pd_special), packed (deletes compact at once: there is never free space inside)
//   special (8176): u32 left sibling | u32 right sibling | u16 level (0 = leaf) | u16 kind | u32 next
// Leaf item:     u16 key length | u8 value kind (0 inline, 1 out of line) | key | value
//                (out of line: u32 first overflow block | u32 value length)
// Internal item: u32 child block | key (the first item's key is empty: minus infinity)
// Meta (block 0), data at 24: u32 magic | u32 version | u32 root | u32 root level | u32 blocks
//                (first never-used block) | u32 free-list head | u32 free pages
// Overflow: value bytes at [24, pd_lower); `next` continues the chain. Free: `next` links the free list.
// Block 0 is the meta page, so 0 also means "no page" in links.
using System.Buffers.Binary;
using PgWal.Format;

namespace PgWal.Kv.Tree;

/// <summary>What a page holds (the special area's kind field).</summary>
internal enum PageKind : ushort
{
    Leaf = 1,
    Internal = 2,
    Meta = 3,
    Overflow = 4,
    Free = 5,
}

internal static class KvPage
{
    public const int Size = StandardPage.Size;
    public const int HeaderSize = DataPageHeader.Size;
    public const int SpecialSize = 16;
    public const int SpecialStart = Size - SpecialSize;
    public const int LinePointerSize = 4;
    /// <summary>Bytes available for line pointers and items on an empty page.</summary>
    public const int Capacity = SpecialStart - HeaderSize;
    /// <summary>Value bytes one overflow page holds.</summary>
    public const int OverflowCapacity = SpecialStart - HeaderSize;
    public const uint NoPage = 0;
    public const uint MetaBlock = 0;

    private const int LeftOffset = SpecialStart;
    private const int RightOffset = SpecialStart + 4;
    private const int LevelOffset = SpecialStart + 8;
    private const int KindOffset = SpecialStart + 10;
    private const int NextOffset = SpecialStart + 12;
    private const int LowerOffset = 12;
    private const int UpperOffset = 14;

    public static void Init(Span<byte> page, PageKind kind, int level, uint left, uint right, uint next)
    {
        StandardPage.Init(page, SpecialSize);
        BinaryPrimitives.WriteUInt16LittleEndian(page[KindOffset..], (ushort)kind);
        BinaryPrimitives.WriteUInt16LittleEndian(page[LevelOffset..], (ushort)level);
        SetLeft(page, left);
        SetRight(page, right);
        SetNext(page, next);
    }

    public static bool IsInitialized(ReadOnlySpan<byte> page) => !StandardPage.IsNew(page);

    public static PageKind Kind(ReadOnlySpan<byte> page) => (PageKind)BinaryPrimitives.ReadUInt16LittleEndian(page[KindOffset..]);
    public static int Level(ReadOnlySpan<byte> page) => BinaryPrimitives.ReadUInt16LittleEndian(page[LevelOffset..]);
    public static uint Left(ReadOnlySpan<byte> page) => BinaryPrimitives.ReadUInt32LittleEndian(page[LeftOffset..]);
    public static uint Right(ReadOnlySpan<byte> page) => BinaryPrimitives.ReadUInt32LittleEndian(page[RightOffset..]);
    public static uint Next(ReadOnlySpan<byte> page) => BinaryPrimitives.ReadUInt32LittleEndian(page[NextOffset..]);
    public static void SetLeft(Span<byte> page, uint block) => BinaryPrimitives.WriteUInt32LittleEndian(page[LeftOffset..], block);
    public static void SetRight(Span<byte> page, uint block) => BinaryPrimitives.WriteUInt32LittleEndian(page[RightOffset..], block);
    public static void SetNext(Span<byte> page, uint block) => BinaryPrimitives.WriteUInt32LittleEndian(page[NextOffset..], block);

    private static int Lower(ReadOnlySpan<byte> page) => BinaryPrimitives.ReadUInt16LittleEndian(page[LowerOffset..]);
    private static int Upper(ReadOnlySpan<byte> page) => BinaryPrimitives.ReadUInt16LittleEndian(page[UpperOffset..]);

    private static void SetLowerUpper(Span<byte> page, int lower, int upper)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(page[LowerOffset..], (ushort)lower);
        BinaryPrimitives.WriteUInt16LittleEndian(page[UpperOffset..], (ushort)upper);
    }

    // ---- slotted pages (leaf, internal) ----

    public static int Count(ReadOnlySpan<byte> page) => (Lower(page) - HeaderSize) / LinePointerSize;

    public static int FreeSpace(ReadOnlySpan<byte> page) => Upper(page) - Lower(page);

    /// <summary>Whether an item of <paramref name="length"/> bytes fits (with its line pointer).</summary>
    public static bool Fits(ReadOnlySpan<byte> page, int length) => FreeSpace(page) >= length + LinePointerSize;

    public static ReadOnlySpan<byte> Item(ReadOnlySpan<byte> page, int slot)
    {
        int lp = HeaderSize + slot * LinePointerSize;
        int offset = BinaryPrimitives.ReadUInt16LittleEndian(page[lp..]);
        int length = BinaryPrimitives.ReadUInt16LittleEndian(page[(lp + 2)..]);
        return page.Slice(offset, length);
    }

    /// <summary>Bytes the items [from, to) take, line pointers included.</summary>
    public static int UsedBytes(ReadOnlySpan<byte> page, int from, int to)
    {
        int total = 0;
        for (int i = from; i < to; i++)
            total += Item(page, i).Length + LinePointerSize;
        return total;
    }

    /// <summary>Inserts an item at <paramref name="slot"/>, shifting later line pointers.</summary>
    public static void Insert(Span<byte> page, int slot, ReadOnlySpan<byte> item)
    {
        int count = Count(page);
        if ((uint)slot > (uint)count || !Fits(page, item.Length))
            throw new InvalidDataException($"kv page: cannot insert {item.Length} bytes at slot {slot} of {count} ({FreeSpace(page)} bytes free)");
        int lower = Lower(page), upper = Upper(page) - item.Length;
        item.CopyTo(page[upper..]);
        int lp = HeaderSize + slot * LinePointerSize;
        page[lp..lower].CopyTo(page[(lp + LinePointerSize)..]);
        BinaryPrimitives.WriteUInt16LittleEndian(page[lp..], (ushort)upper);
        BinaryPrimitives.WriteUInt16LittleEndian(page[(lp + 2)..], (ushort)item.Length);
        SetLowerUpper(page, lower + LinePointerSize, upper);
    }

    /// <summary>Removes the item at <paramref name="slot"/> and closes the gap (PageIndexTupleDelete).</summary>
    public static void Delete(Span<byte> page, int slot)
    {
        int count = Count(page);
        if ((uint)slot >= (uint)count)
            throw new InvalidDataException($"kv page: no slot {slot} to delete ({count} items)");
        int lp = HeaderSize + slot * LinePointerSize;
        int offset = BinaryPrimitives.ReadUInt16LittleEndian(page[lp..]);
        int length = BinaryPrimitives.ReadUInt16LittleEndian(page[(lp + 2)..]);
        int lower = Lower(page), upper = Upper(page);
        page[upper..offset].CopyTo(page[(upper + length)..]);
        page[(lp + LinePointerSize)..lower].CopyTo(page[lp..]);
        lower -= LinePointerSize;
        for (int p = HeaderSize; p < lower; p += LinePointerSize)
        {
            int o = BinaryPrimitives.ReadUInt16LittleEndian(page[p..]);
            if (o < offset)
                BinaryPrimitives.WriteUInt16LittleEndian(page[p..], (ushort)(o + length));
        }
        page.Slice(upper, length).Clear();
        SetLowerUpper(page, lower, upper + length);
        page.Slice(lower, LinePointerSize).Clear();
    }

    /// <summary>Removes the items [from, count), keeping the first <paramref name="from"/>.</summary>
    public static void Truncate(Span<byte> page, int from)
    {
        for (int slot = Count(page) - 1; slot >= from; slot--)
            Delete(page, slot);
    }

    // ---- leaf items ----

    public const byte InlineValue = 0;
    public const byte OutOfLineValue = 1;
    public const int LeafItemHeader = 3;
    public const int OutOfLineRefSize = 8;

    public static int LeafItemSize(int keyLength, int inlineValueLength) => LeafItemHeader + keyLength + inlineValueLength;

    public static void WriteLeafItem(Span<byte> item, ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(item, (ushort)key.Length);
        item[2] = InlineValue;
        key.CopyTo(item[LeafItemHeader..]);
        value.CopyTo(item[(LeafItemHeader + key.Length)..]);
    }

    public static void WriteLeafItemOutOfLine(Span<byte> item, ReadOnlySpan<byte> key, uint firstBlock, int valueLength)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(item, (ushort)key.Length);
        item[2] = OutOfLineValue;
        key.CopyTo(item[LeafItemHeader..]);
        BinaryPrimitives.WriteUInt32LittleEndian(item[(LeafItemHeader + key.Length)..], firstBlock);
        BinaryPrimitives.WriteInt32LittleEndian(item[(LeafItemHeader + key.Length + 4)..], valueLength);
    }

    public static ReadOnlySpan<byte> LeafKey(ReadOnlySpan<byte> item) => item.Slice(LeafItemHeader, BinaryPrimitives.ReadUInt16LittleEndian(item));

    public static bool IsOutOfLine(ReadOnlySpan<byte> item) => item[2] == OutOfLineValue;

    /// <summary>The inline value (for an out-of-line value: its 8-byte reference).</summary>
    public static ReadOnlySpan<byte> LeafValue(ReadOnlySpan<byte> item) => item[(LeafItemHeader + BinaryPrimitives.ReadUInt16LittleEndian(item))..];

    public static (uint FirstBlock, int Length) OutOfLineRef(ReadOnlySpan<byte> item)
    {
        var reference = LeafValue(item);
        return (BinaryPrimitives.ReadUInt32LittleEndian(reference), BinaryPrimitives.ReadInt32LittleEndian(reference[4..]));
    }

    // ---- internal items ----

    public const int InternalItemHeader = 4;

    public static void WriteInternalItem(Span<byte> item, uint child, ReadOnlySpan<byte> key)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(item, child);
        key.CopyTo(item[InternalItemHeader..]);
    }

    public static uint Child(ReadOnlySpan<byte> item) => BinaryPrimitives.ReadUInt32LittleEndian(item);

    public static ReadOnlySpan<byte> InternalKey(ReadOnlySpan<byte> item) => item[InternalItemHeader..];

    /// <summary>The key of a slot whatever the page level.</summary>
    public static ReadOnlySpan<byte> KeyAt(ReadOnlySpan<byte> page, int slot, bool leaf)
        => leaf ? LeafKey(Item(page, slot)) : InternalKey(Item(page, slot));

    // ---- overflow pages ----

    public static ReadOnlySpan<byte> OverflowData(ReadOnlySpan<byte> page) => page[HeaderSize..Lower(page)];

    public static void WriteOverflowData(Span<byte> page, ReadOnlySpan<byte> data)
    {
        if (data.Length > OverflowCapacity)
            throw new InvalidDataException($"kv page: {data.Length} bytes do not fit an overflow page");
        data.CopyTo(page[HeaderSize..]);
        SetLowerUpper(page, HeaderSize + data.Length, SpecialStart);
    }

    // ---- meta page ----

    public const uint Magic = 0x564B4750;     // "PGKV"
    public const uint Version = 1;
    private const int MetaSize = 28;

    public static void WriteMeta(Span<byte> page, in MetaData meta)
    {
        var d = page[HeaderSize..];
        BinaryPrimitives.WriteUInt32LittleEndian(d, Magic);
        BinaryPrimitives.WriteUInt32LittleEndian(d[4..], Version);
        BinaryPrimitives.WriteUInt32LittleEndian(d[8..], meta.Root);
        BinaryPrimitives.WriteUInt32LittleEndian(d[12..], meta.RootLevel);
        BinaryPrimitives.WriteUInt32LittleEndian(d[16..], meta.Blocks);
        BinaryPrimitives.WriteUInt32LittleEndian(d[20..], meta.FreeHead);
        BinaryPrimitives.WriteUInt32LittleEndian(d[24..], meta.FreePages);
        SetLowerUpper(page, HeaderSize + MetaSize, SpecialStart);
    }

    public static MetaData ReadMeta(ReadOnlySpan<byte> page)
    {
        var d = page[HeaderSize..];
        if (Kind(page) != PageKind.Meta || BinaryPrimitives.ReadUInt32LittleEndian(d) != Magic)
            throw new InvalidDataException($"kv: block 0 is not a PgWal.Kv meta page (kind {Kind(page)}, magic {BinaryPrimitives.ReadUInt32LittleEndian(d):X8})");
        uint version = BinaryPrimitives.ReadUInt32LittleEndian(d[4..]);
        if (version != Version)
            throw new InvalidDataException($"kv: meta page version {version} is not supported (expected {Version})");
        return new MetaData(BinaryPrimitives.ReadUInt32LittleEndian(d[8..]), BinaryPrimitives.ReadUInt32LittleEndian(d[12..]),
            BinaryPrimitives.ReadUInt32LittleEndian(d[16..]), BinaryPrimitives.ReadUInt32LittleEndian(d[20..]), BinaryPrimitives.ReadUInt32LittleEndian(d[24..]));
    }
}

/// <summary>The meta page's fields: where the tree starts and how blocks are allocated.</summary>
internal readonly record struct MetaData(uint Root, uint RootLevel, uint Blocks, uint FreeHead, uint FreePages);
