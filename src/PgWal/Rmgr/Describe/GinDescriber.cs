// GinDescriber: the Gin resource manager (gindesc.c, PostgreSQL 15). INSERT and
// VACUUM_DATA_LEAF_PAGE look at block 0: its image, or its data (entry insert, internal posting
// item, or a recompressed leaf's segment actions, desc_recompress_leaf).
using PgWal.Diagnostics.Text;
using PgWal.Format;
using PgWal.Read;
using static PgWal.Rmgr.Describe.DescribeText;

namespace PgWal.Rmgr.Describe;

internal sealed class GinDescriber : IRecordDescriber
{
    private const byte CreatePtree = 0x10;
    private const byte Insert = 0x20;
    private const byte Split = 0x30;
    private const byte VacuumPage = 0x40;
    private const byte DeletePage = 0x50;
    private const byte UpdateMetaPage = 0x60;
    private const byte InsertListPage = 0x70;
    private const byte DeleteListPage = 0x80;
    private const byte VacuumDataLeafPage = 0x90;

    // ginxlogInsert / ginxlogSplit flags.
    private const int IsData = 0x01;
    private const int IsLeaf = 0x02;
    private const int SplitRoot = 0x04;

    // ginxlogSegmentAction types.
    private const byte SegmentDelete = 1;
    private const byte SegmentInsert = 2;
    private const byte SegmentReplace = 3;
    private const byte SegmentAddItems = 4;

    /// <summary><c>sizeof(ItemPointerData)</c>.</summary>
    private const int ItemPointerSize = 6;

    public string Name => "Gin";

    public string? Identify(byte info) => (info & RecordHeader.RmgrInfoMask) switch
    {
        CreatePtree => "CREATE_PTREE",
        Insert => "INSERT",
        Split => "SPLIT",
        VacuumPage => "VACUUM_PAGE",
        VacuumDataLeafPage => "VACUUM_DATA_LEAF_PAGE",
        DeletePage => "DELETE_PAGE",
        UpdateMetaPage => "UPDATE_META_PAGE",
        InsertListPage => "INSERT_LISTPAGE",
        DeleteListPage => "DELETE_LISTPAGE",
        _ => null,
    };

    public void Describe(DecodedRecord record, TextBuffer o)
    {
        var d = record.MainData;
        switch (record.Info & RecordHeader.RmgrInfoMask)
        {
            case Insert:
                DescribeInsert(record, d, o);
                break;
            case Split:
            {
                // ginxlogSplit: 0 node | 12 rrlink | 16 leftChildBlkno | 20 rightChildBlkno | 24 u16 flags
                if (d.Length < 26)
                    return;
                int flags = U16(d, 24);
                o.Append("isrootsplit: "u8).Append(TF((flags & SplitRoot) != 0))
                    .Append(" isdata: "u8).Append(TF((flags & IsData) != 0))
                    .Append(" isleaf: "u8).Append(TF((flags & IsLeaf) != 0));
                break;
            }
            case VacuumDataLeafPage:
                // ginxlogVacuumDataLeafPage in block 0: a ginxlogRecompressDataLeaf.
                if (AppendImageNote(record, o))
                    return;
                AppendRecompressLeaf(o, record.BlockData(0));
                break;
            case DeleteListPage:
                // ginxlogDeleteListPages: 0 GinMetaPageData (56 bytes) | 56 int32 ndeleted
                if (d.Length < 60)
                    return;
                o.Append("ndeleted: "u8).AppendInt(I32(d, 56));
                break;
        }
    }

    private static void DescribeInsert(DecodedRecord record, ReadOnlySpan<byte> d, TextBuffer o)
    {
        // ginxlogInsert: 0 u16 flags; non-leaf: 2 BlockIdData left child, 6 BlockIdData right child.
        if (d.Length < 2)
            return;
        int flags = U16(d, 0);
        o.Append("isdata: "u8).Append(TF((flags & IsData) != 0))
            .Append(" isleaf: "u8).Append(TF((flags & IsLeaf) != 0));
        if ((flags & IsLeaf) == 0)
        {
            if (d.Length < 10)
                return;
            o.Append(" children: "u8).AppendUInt(BlockId(d, 2)).Append('/').AppendUInt(BlockId(d, 6));
        }
        if (AppendImageNote(record, o))
            return;
        var payload = record.BlockData(0);
        if ((flags & IsData) == 0)
        {
            // ginxlogInsertEntry: 0 offset | 2 bool isDelete | 4 IndexTupleData
            if (payload.Length < 3)
                return;
            o.Append(" isdelete: "u8).Append(TF(payload[2] != 0));
        }
        else if ((flags & IsLeaf) != 0)
        {
            AppendRecompressLeaf(o, payload);
        }
        else
        {
            // ginxlogInsertDataInternal: 0 offset | 2 PostingItem { BlockIdData child; ItemPointerData key }
            if (payload.Length < 12)
                return;
            o.Append(" pitem: "u8).AppendUInt(BlockId(payload, 2))
                .Append('-').AppendUInt(BlockId(payload, 6))
                .Append('/').AppendUInt(U16(payload, 10));
        }
    }

    /// <summary>BlockIdGetBlockNumber: u16 bi_hi then u16 bi_lo.</summary>
    private static uint BlockId(ReadOnlySpan<byte> d, int offset) => ((uint)U16(d, offset) << 16) | U16(d, offset + 2);

    // When block 0 carries an image, says so and returns true (the data is then not described).
    private static bool AppendImageNote(DecodedRecord record, TextBuffer o)
    {
        if (!record.HasBlock(0) || !record.Block(0).HasImage)
            return false;
        o.Append(record.Block(0).ApplyImage ? " (full page image)"u8 : " (full page image, for WAL verification)"u8);
        return true;
    }

    /// <summary>desc_recompress_leaf(): " N segments:" then each segment action.</summary>
    private static void AppendRecompressLeaf(TextBuffer o, ReadOnlySpan<byte> data)
    {
        // ginxlogRecompressDataLeaf: 0 u16 nactions | 2 actions { u8 segno; u8 type; payload }
        if (data.Length < 2)
            return;
        int nactions = U16(data, 0);
        o.Append(' ').AppendInt(nactions).Append(" segments:"u8);
        int pos = 2;
        for (int i = 0; i < nactions; i++)
        {
            if (pos + 2 > data.Length)
                return;
            byte segno = data[pos];
            byte action = data[pos + 1];
            pos += 2;
            int nitems = 0;
            if (action is SegmentInsert or SegmentReplace)
            {
                // GinPostingList: 0 ItemPointerData first | 6 u16 nbytes | 8 bytes[], SHORTALIGNed.
                if (pos + 8 > data.Length)
                    return;
                pos += 8 + ((U16(data, pos + 6) + 1) & ~1);
            }
            else if (action == SegmentAddItems)
            {
                if (pos + 2 > data.Length)
                    return;
                nitems = U16(data, pos);
                pos += 2 + nitems * ItemPointerSize;
            }
            o.Append(' ').AppendInt(segno);
            switch (action)
            {
                case SegmentAddItems:
                    o.Append(" (add "u8).AppendInt(nitems).Append(" items)"u8);
                    break;
                case SegmentDelete:
                    o.Append(" (delete)"u8);
                    break;
                case SegmentInsert:
                    o.Append(" (insert)"u8);
                    break;
                case SegmentReplace:
                    o.Append(" (replace)"u8);
                    break;
                default:
                    o.Append(" unknown action "u8).AppendInt(action).Append(" ???"u8);
                    return;
            }
        }
    }
}
