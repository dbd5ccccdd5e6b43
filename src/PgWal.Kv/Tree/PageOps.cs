// PageOps: the small language PgWal.Kv's WAL records speak. A record's per-block data is a sequence
// of page operations; the writer applies exactly those bytes to its page before inserting the
// record, and redo applies the same bytes to the page read back — one interpreter for both, so
// what is replayed is by construction what was done.
//   0x01 INIT     u16 kind, u16 level, u32 left, u32 right, u32 next   (the block is WILL_INIT)
//   0x02 INSERT   u16 slot, u16 length, item
//   0x03 DELETE   u16 slot
//   0x04 REPLACE  u16 slot, u16 length, item
//   0x05 TRUNCATE u16 from
//   0x06 LEFT u32 | 0x07 RIGHT u32 | 0x08 NEXT u32                       (sibling / chain links)
//   0x09 META     u32 root, u32 root level, u32 blocks, u32 free head, u32 free pages
//   0x0A DATA     u16 length, bytes                                       (overflow page contents)
using System.Buffers;
using System.Buffers.Binary;

namespace PgWal.Kv.Tree;

internal enum PageOp : byte
{
    Init = 1,
    Insert = 2,
    Delete = 3,
    Replace = 4,
    Truncate = 5,
    Left = 6,
    Right = 7,
    Next = 8,
    Meta = 9,
    Data = 10,
}

/// <summary>Appends page operations to one block's data.</summary>
internal sealed class PageOpWriter
{
    private readonly ArrayBufferWriter<byte> _buffer = new(256);

    public ReadOnlySpan<byte> Written => _buffer.WrittenSpan;

    public void Reset() => _buffer.ResetWrittenCount();

    public void Init(PageKind kind, int level, uint left, uint right, uint next)
    {
        var s = _buffer.GetSpan(17);
        s[0] = (byte)PageOp.Init;
        BinaryPrimitives.WriteUInt16LittleEndian(s[1..], (ushort)kind);
        BinaryPrimitives.WriteUInt16LittleEndian(s[3..], (ushort)level);
        BinaryPrimitives.WriteUInt32LittleEndian(s[5..], left);
        BinaryPrimitives.WriteUInt32LittleEndian(s[9..], right);
        BinaryPrimitives.WriteUInt32LittleEndian(s[13..], next);
        _buffer.Advance(17);
    }

    public void Insert(int slot, ReadOnlySpan<byte> item) => SlotItem(PageOp.Insert, slot, item);

    public void Replace(int slot, ReadOnlySpan<byte> item) => SlotItem(PageOp.Replace, slot, item);

    public void Delete(int slot) => U16(PageOp.Delete, slot);

    public void Truncate(int from) => U16(PageOp.Truncate, from);

    public void Left(uint block) => U32(PageOp.Left, block);

    public void Right(uint block) => U32(PageOp.Right, block);

    public void Next(uint block) => U32(PageOp.Next, block);

    public void Meta(in MetaData meta)
    {
        var s = _buffer.GetSpan(21);
        s[0] = (byte)PageOp.Meta;
        BinaryPrimitives.WriteUInt32LittleEndian(s[1..], meta.Root);
        BinaryPrimitives.WriteUInt32LittleEndian(s[5..], meta.RootLevel);
        BinaryPrimitives.WriteUInt32LittleEndian(s[9..], meta.Blocks);
        BinaryPrimitives.WriteUInt32LittleEndian(s[13..], meta.FreeHead);
        BinaryPrimitives.WriteUInt32LittleEndian(s[17..], meta.FreePages);
        _buffer.Advance(21);
    }

    public void Data(ReadOnlySpan<byte> data)
    {
        var s = _buffer.GetSpan(3 + data.Length);
        s[0] = (byte)PageOp.Data;
        BinaryPrimitives.WriteUInt16LittleEndian(s[1..], (ushort)data.Length);
        data.CopyTo(s[3..]);
        _buffer.Advance(3 + data.Length);
    }

    private void SlotItem(PageOp op, int slot, ReadOnlySpan<byte> item)
    {
        var s = _buffer.GetSpan(5 + item.Length);
        s[0] = (byte)op;
        BinaryPrimitives.WriteUInt16LittleEndian(s[1..], (ushort)slot);
        BinaryPrimitives.WriteUInt16LittleEndian(s[3..], (ushort)item.Length);
        item.CopyTo(s[5..]);
        _buffer.Advance(5 + item.Length);
    }

    private void U16(PageOp op, int value)
    {
        var s = _buffer.GetSpan(3);
        s[0] = (byte)op;
        BinaryPrimitives.WriteUInt16LittleEndian(s[1..], (ushort)value);
        _buffer.Advance(3);
    }

    private void U32(PageOp op, uint value)
    {
        var s = _buffer.GetSpan(5);
        s[0] = (byte)op;
        BinaryPrimitives.WriteUInt32LittleEndian(s[1..], value);
        _buffer.Advance(5);
    }
}

/// <summary>Applies page operations (writer and redo alike).</summary>
internal static class PageOps
{
    /// <exception cref="InvalidDataException">The operations are malformed or do not fit the page.</exception>
    public static void Apply(Span<byte> page, ReadOnlySpan<byte> ops)
    {
        int p = 0;
        while (p < ops.Length)
        {
            var op = (PageOp)ops[p++];
            switch (op)
            {
                case PageOp.Init:
                    Need(ops, p, 16, op);
                    KvPage.Init(page, (PageKind)U16(ops, p), U16(ops, p + 2), U32(ops, p + 4), U32(ops, p + 8), U32(ops, p + 12));
                    p += 16;
                    break;
                case PageOp.Insert:
                case PageOp.Replace:
                {
                    Need(ops, p, 4, op);
                    int slot = U16(ops, p), length = U16(ops, p + 2);
                    Need(ops, p + 4, length, op);
                    var item = ops.Slice(p + 4, length);
                    if (op == PageOp.Replace)
                        KvPage.Delete(page, slot);
                    KvPage.Insert(page, slot, item);
                    p += 4 + length;
                    break;
                }
                case PageOp.Delete:
                    Need(ops, p, 2, op);
                    KvPage.Delete(page, U16(ops, p));
                    p += 2;
                    break;
                case PageOp.Truncate:
                    Need(ops, p, 2, op);
                    KvPage.Truncate(page, U16(ops, p));
                    p += 2;
                    break;
                case PageOp.Left:
                case PageOp.Right:
                case PageOp.Next:
                    Need(ops, p, 4, op);
                    uint block = U32(ops, p);
                    if (op == PageOp.Left)
                        KvPage.SetLeft(page, block);
                    else if (op == PageOp.Right)
                        KvPage.SetRight(page, block);
                    else
                        KvPage.SetNext(page, block);
                    p += 4;
                    break;
                case PageOp.Meta:
                    Need(ops, p, 20, op);
                    KvPage.WriteMeta(page, new MetaData(U32(ops, p), U32(ops, p + 4), U32(ops, p + 8), U32(ops, p + 12), U32(ops, p + 16)));
                    p += 20;
                    break;
                case PageOp.Data:
                {
                    Need(ops, p, 2, op);
                    int length = U16(ops, p);
                    Need(ops, p + 2, length, op);
                    KvPage.WriteOverflowData(page, ops.Slice(p + 2, length));
                    p += 2 + length;
                    break;
                }
                default:
                    throw new InvalidDataException($"kv: unknown page operation 0x{(byte)op:X2} at offset {p - 1} of block data");
            }
        }
    }

    private static void Need(ReadOnlySpan<byte> ops, int at, int bytes, PageOp op)
    {
        if (at + bytes > ops.Length)
            throw new InvalidDataException($"kv: page operation {op} truncated at offset {at} of block data ({ops.Length} bytes)");
    }

    private static int U16(ReadOnlySpan<byte> s, int at) => BinaryPrimitives.ReadUInt16LittleEndian(s[at..]);

    private static uint U32(ReadOnlySpan<byte> s, int at) => BinaryPrimitives.ReadUInt32LittleEndian(s[at..]);
}
