// BtreeDescriber: the Btree resource manager (nbtdesc.c, PostgreSQL 15; 16 and later in
// BtreeDescriber.Pg16.cs). META_CLEANUP reads xl_btree_metadata from block 0's data; the split
// record prints its uint16 offsets with %d. The record types and their names are the same in 15–18.
using PgWal.Diagnostics.Text;
using PgWal.Format;
using PgWal.Read;
using static PgWal.Rmgr.Describe.DescribeText;

namespace PgWal.Rmgr.Describe;

internal sealed partial class BtreeDescriber : IRecordDescriber
{
    private const byte InsertLeaf = 0x00;
    private const byte InsertUpper = 0x10;
    private const byte InsertMeta = 0x20;
    private const byte SplitL = 0x30;
    private const byte SplitR = 0x40;
    private const byte InsertPost = 0x50;
    private const byte Dedup = 0x60;
    private const byte Delete = 0x70;
    private const byte UnlinkPage = 0x80;
    private const byte UnlinkPageMeta = 0x90;
    private const byte NewRoot = 0xA0;
    private const byte MarkPageHalfDead = 0xB0;
    private const byte Vacuum = 0xC0;
    private const byte ReusePage = 0xD0;
    private const byte MetaCleanup = 0xE0;

    public string Name => "Btree";

    public string? Identify(byte info) => (info & RecordHeader.RmgrInfoMask) switch
    {
        InsertLeaf => "INSERT_LEAF",
        InsertUpper => "INSERT_UPPER",
        InsertMeta => "INSERT_META",
        SplitL => "SPLIT_L",
        SplitR => "SPLIT_R",
        InsertPost => "INSERT_POST",
        Dedup => "DEDUP",
        Vacuum => "VACUUM",
        Delete => "DELETE",
        MarkPageHalfDead => "MARK_PAGE_HALFDEAD",
        UnlinkPage => "UNLINK_PAGE",
        UnlinkPageMeta => "UNLINK_PAGE_META",
        NewRoot => "NEWROOT",
        ReusePage => "REUSE_PAGE",
        MetaCleanup => "META_CLEANUP",
        _ => null,
    };

    public void Describe(DecodedRecord record, TextBuffer o)
    {
        if (record.Version >= WalVersion.Pg16)
        {
            DescribePg16(record, o);
            return;
        }
        var d = record.MainData;
        switch (record.Info & RecordHeader.RmgrInfoMask)
        {
            case InsertLeaf:
            case InsertUpper:
            case InsertMeta:
            case InsertPost:
                // xl_btree_insert: 0 offnum
                if (d.Length < 2)
                    return;
                o.Append("off "u8).AppendUInt(U16(d, 0));
                break;
            case SplitL:
            case SplitR:
                // xl_btree_split: 0 level | 4 firstrightoff | 6 newitemoff | 8 postingoff
                if (d.Length < 10)
                    return;
                o.Append("level "u8).AppendUInt(U32(d, 0))
                    .Append(", firstrightoff "u8).AppendInt(U16(d, 4))
                    .Append(", newitemoff "u8).AppendInt(U16(d, 6))
                    .Append(", postingoff "u8).AppendInt(U16(d, 8));
                break;
            case Dedup:
                // xl_btree_dedup: 0 nintervals
                if (d.Length < 2)
                    return;
                o.Append("nintervals "u8).AppendUInt(U16(d, 0));
                break;
            case Vacuum:
                // xl_btree_vacuum: 0 ndeleted | 2 nupdated
                if (d.Length < 4)
                    return;
                o.Append("ndeleted "u8).AppendUInt(U16(d, 0)).Append("; nupdated "u8).AppendUInt(U16(d, 2));
                break;
            case Delete:
                // xl_btree_delete: 0 latestRemovedXid | 4 ndeleted | 6 nupdated
                if (d.Length < 8)
                    return;
                o.Append("latestRemovedXid "u8).AppendUInt(U32(d, 0))
                    .Append("; ndeleted "u8).AppendUInt(U16(d, 4))
                    .Append("; nupdated "u8).AppendUInt(U16(d, 6));
                break;
            case MarkPageHalfDead:
                // xl_btree_mark_page_halfdead: 0 poffset | 4 leafblk | 8 leftblk | 12 rightblk | 16 topparent
                if (d.Length < 20)
                    return;
                o.Append("topparent "u8).AppendUInt(U32(d, 16))
                    .Append("; leaf "u8).AppendUInt(U32(d, 4))
                    .Append("; left "u8).AppendUInt(U32(d, 8))
                    .Append("; right "u8).AppendUInt(U32(d, 12));
                break;
            case UnlinkPage:
            case UnlinkPageMeta:
                // xl_btree_unlink_page: 0 leftsib | 4 rightsib | 8 level | 16 u64 safexid
                // | 24 leafleftsib | 28 leafrightsib | 32 leaftopparent
                if (d.Length < 36)
                    return;
                o.Append("left "u8).AppendUInt(U32(d, 0))
                    .Append("; right "u8).AppendUInt(U32(d, 4))
                    .Append("; level "u8).AppendUInt(U32(d, 8))
                    .Append("; safexid "u8).AppendFullXid(U64(d, 16))
                    .Append("; leafleft "u8).AppendUInt(U32(d, 24))
                    .Append("; leafright "u8).AppendUInt(U32(d, 28))
                    .Append("; leaftopparent "u8).AppendUInt(U32(d, 32));
                break;
            case NewRoot:
                // xl_btree_newroot: 0 rootblk | 4 level
                if (d.Length < 8)
                    return;
                o.Append("lev "u8).AppendUInt(U32(d, 4));
                break;
            case ReusePage:
                // xl_btree_reuse_page: 0 node | 12 block | 16 u64 latestRemovedFullXid
                if (d.Length < 24)
                    return;
                o.Append("rel "u8).AppendRelTriple(d, 0)
                    .Append("; latestRemovedXid "u8).AppendFullXid(U64(d, 16));
                break;
            case MetaCleanup:
            {
                // xl_btree_metadata in block 0: 0 version | 4 root | 8 level | 12 fastroot
                // | 16 fastlevel | 20 last_cleanup_num_delpages | 24 allequalimage
                var meta = record.BlockData(0);
                if (meta.Length < 24)
                    return;
                o.Append("last_cleanup_num_delpages "u8).AppendUInt(U32(meta, 20));
                break;
            }
        }
    }
}
