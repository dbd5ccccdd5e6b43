// KvRecords: the record types of the kv resource manager and their main data, which exists for
// waldump's descriptions (redo reads only the per-block page operations).
//   INSERT / UPDATE   u16 key length, key, u32 value length (the leaf's new item)
//   DELETE            u16 key length, key
//   SPLIT             u16 level, u32 left, u32 right, u16 split slot, u32 parent
//   NEWROOT           u16 level, u32 left, u32 right, u16 split slot, u32 new root
//   UNLINK            u16 pages freed, u32 topmost page freed, u32 parent
//   COLLAPSE          u32 old root, u32 new root, u16 new root level (old = new: the tree emptied)
//   OVERFLOW          u32 first block of this record, u16 pages, u32 bytes
//   OVERFLOW_FREE     u32 first block of the chain, u16 pages, u32 value bytes
//   CREATE            u32 root
using System.Buffers.Binary;

namespace PgWal.Kv.Tree;

internal static class KvRecords
{
    public const byte Insert = 0x00;
    public const byte Update = 0x10;
    public const byte Delete = 0x20;
    public const byte Split = 0x30;
    public const byte NewRoot = 0x40;
    public const byte Unlink = 0x50;
    public const byte Collapse = 0x60;
    public const byte OverflowWrite = 0x70;
    public const byte OverflowFree = 0x80;
    public const byte Create = 0x90;

    public const int ChainDataSize = 10;
    public const int SplitDataSize = 16;
    public const int UnlinkDataSize = 10;
    public const int CollapseDataSize = 10;

    public static string? Name(byte info) => info switch
    {
        Insert => "INSERT",
        Update => "UPDATE",
        Delete => "DELETE",
        Split => "SPLIT",
        NewRoot => "NEWROOT",
        Unlink => "UNLINK",
        Collapse => "COLLAPSE",
        OverflowWrite => "OVERFLOW",
        OverflowFree => "OVERFLOW_FREE",
        Create => "CREATE",
        _ => null,
    };

    public static int KeyDataSize(int keyLength, bool withValue) => 2 + keyLength + (withValue ? 4 : 0);

    public static void WriteKeyData(Span<byte> target, ReadOnlySpan<byte> key, int valueLength)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(target, (ushort)key.Length);
        key.CopyTo(target[2..]);
        if (valueLength >= 0)
            BinaryPrimitives.WriteInt32LittleEndian(target[(2 + key.Length)..], valueLength);
    }

    public static void WriteChainData(Span<byte> target, uint first, int pages, int bytes)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(target, first);
        BinaryPrimitives.WriteUInt16LittleEndian(target[4..], (ushort)pages);
        BinaryPrimitives.WriteInt32LittleEndian(target[6..], bytes);
    }

    public static void WriteSplitData(Span<byte> target, int level, uint left, uint right, int slot, uint parentOrRoot)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(target, (ushort)level);
        BinaryPrimitives.WriteUInt32LittleEndian(target[2..], left);
        BinaryPrimitives.WriteUInt32LittleEndian(target[6..], right);
        BinaryPrimitives.WriteUInt16LittleEndian(target[10..], (ushort)slot);
        BinaryPrimitives.WriteUInt32LittleEndian(target[12..], parentOrRoot);
    }

    public static void WriteUnlinkData(Span<byte> target, int pages, uint block, uint parent)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(target, (ushort)pages);
        BinaryPrimitives.WriteUInt32LittleEndian(target[2..], block);
        BinaryPrimitives.WriteUInt32LittleEndian(target[6..], parent);
    }

    public static void WriteCollapseData(Span<byte> target, uint oldRoot, uint newRoot, int level)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(target, oldRoot);
        BinaryPrimitives.WriteUInt32LittleEndian(target[4..], newRoot);
        BinaryPrimitives.WriteUInt16LittleEndian(target[8..], (ushort)level);
    }
}
