// PageTestResourceManager: a small page-level resource manager (custom id 200, "pagetest") that
// drives the recovery tests and benchmarks. INIT initialises a page (WILL_INIT) and stamps it;
// WRITE changes 1–3 pages of one relation in one record (per-block data: u16 offset, u16 length,
// bytes), so a multi-page change is all-or-nothing after a crash. Every change stamps the op
// sequence number at offset 24 of each page it touches; the verifier uses it.
// Main data of both: u64 op sequence number.
using System.Buffers.Binary;
using PgWal.Diagnostics.Text;
using PgWal.Format;
using PgWal.Read;
using PgWal.Recovery;

namespace PgWal.Cli.PageTest;

internal sealed class PageTestResourceManager : IResourceManager
{
    public const byte RmgrId = 200;
    public const byte InitInfo = 0x00;
    public const byte WriteInfo = 0x10;
    public const int StampOffset = 24;
    /// <summary>pd_lower: bytes [StampOffset, DataEnd) hold data; [DataEnd, 8192) is the hole, always zero.</summary>
    public const int DataEnd = 4096;

    public static readonly PageTestResourceManager Instance = new();

    public byte Id => RmgrId;

    public string Name => "pagetest";

    public string? Identify(byte info) => (info & RecordHeader.RmgrInfoMask) switch
    {
        InitInfo => "INIT",
        WriteInfo => "WRITE",
        _ => null,
    };

    public void Describe(DecodedRecord record, TextBuffer output)
    {
        output.Append("op "u8);
        if (record.MainDataLength >= 8)
            output.AppendUInt(BinaryPrimitives.ReadUInt64LittleEndian(record.MainData));
        output.Append(", blocks "u8).AppendInt(CountBlocks(record));
    }

    public void Redo(RedoContext context, DecodedRecord record)
    {
        ulong op = BinaryPrimitives.ReadUInt64LittleEndian(record.MainData);
        byte info = (byte)(record.Info & RecordHeader.RmgrInfoMask);
        for (int id = 0; id <= record.MaxBlockId; id++)
        {
            if (!record.HasBlock(id))
                continue;
            var action = context.ReadBufferForRedo(record, id, out var buffer);
            using (buffer)
            {
                if (action != RedoAction.NeedsRedo)
                    continue;
                var page = buffer.Page;
                if (info == InitInfo)
                    InitPage(page, op);
                else
                    ApplyChange(page, op, record.BlockData(id));
                buffer.SetLsn(context.RecordEnd);
                buffer.MarkDirty();
            }
        }
    }

    /// <summary>The page as INIT leaves it (LSN aside).</summary>
    public static void InitPage(Span<byte> page, ulong op)
    {
        StandardPage.Init(page);
        DataPageHeader.WriteLowerUpper(page, DataEnd, StandardPage.Size);
        BinaryPrimitives.WriteUInt64LittleEndian(page[StampOffset..], op);
    }

    /// <summary>Applies one block's WRITE data: the stamp, then the bytes at their offset.</summary>
    public static void ApplyChange(Span<byte> page, ulong op, ReadOnlySpan<byte> blockData)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(page[StampOffset..], op);
        int offset = BinaryPrimitives.ReadUInt16LittleEndian(blockData);
        int length = BinaryPrimitives.ReadUInt16LittleEndian(blockData[2..]);
        if (offset < StampOffset + 8 || offset + length > DataEnd || blockData.Length != 4 + length)
            throw new InvalidOperationException($"pagetest: bad change (offset {offset}, length {length})");
        blockData.Slice(4, length).CopyTo(page[offset..]);
    }

    private static int CountBlocks(DecodedRecord record)
    {
        int n = 0;
        for (int id = 0; id <= record.MaxBlockId; id++)
            n += record.HasBlock(id) ? 1 : 0;
        return n;
    }
}
