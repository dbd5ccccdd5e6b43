// BtreeDescriber: the Btree resource manager (nbtdesc.c of PostgreSQL 15 to 18). META_CLEANUP reads
// xl_btree_metadata from block 0's data; the split record prints its uint16 offsets with %d. The
// record types and their names are the same in 15–18.
using PgWal.Diagnostics.Text;
using PgWal.Format;
using PgWal.Read;
using static PgWal.Rmgr.Describe.DescribeText;

namespace PgWal.Rmgr.Describe;

internal sealed class BtreeDescriber : IRecordDescriber
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

    // 15 writes "key value" with ";" between most pairs; 16 rewrote every description as "key:
    // value" pairs joined by ", ", renamed latestRemovedXid to snapshotConflictHorizon and prints
    // the offsets VACUUM and DELETE carry; 17 adds isCatalogRel (its byte exists from 16 on).
    public void Describe(DecodedRecord record, TextBuffer o)
    {
        var d = record.MainData;
        bool v16 = record.Version >= WalVersion.Pg16, v17 = record.Version >= WalVersion.Pg17;
        var sep = v16 ? ", "u8 : "; "u8;
        switch (record.Info & RecordHeader.RmgrInfoMask)
        {
            case InsertLeaf:
            case InsertUpper:
            case InsertMeta:
            case InsertPost:
                // xl_btree_insert: 0 offnum
                if (d.Length < 2)
                    return;
                o.Append(v16 ? "off: "u8 : "off "u8).AppendUInt(U16(d, 0));
                break;
            case SplitL:
            case SplitR:
                // xl_btree_split: 0 level | 4 firstrightoff | 6 newitemoff | 8 postingoff
                if (d.Length < 10)
                    return;
                o.Append(v16 ? "level: "u8 : "level "u8).AppendUInt(U32(d, 0))
                    .Append(v16 ? ", firstrightoff: "u8 : ", firstrightoff "u8).AppendInt(U16(d, 4))
                    .Append(v16 ? ", newitemoff: "u8 : ", newitemoff "u8).AppendInt(U16(d, 6))
                    .Append(v16 ? ", postingoff: "u8 : ", postingoff "u8).AppendInt(U16(d, 8));
                break;
            case Dedup:
                // xl_btree_dedup: 0 nintervals
                if (d.Length < 2)
                    return;
                o.Append(v16 ? "nintervals: "u8 : "nintervals "u8).AppendUInt(U16(d, 0));
                break;
            case Vacuum:
                // xl_btree_vacuum: 0 ndeleted | 2 nupdated
                if (d.Length < 4)
                    return;
                o.Append(v16 ? "ndeleted: "u8 : "ndeleted "u8).AppendUInt(U16(d, 0))
                    .Append(sep).Append(v16 ? "nupdated: "u8 : "nupdated "u8).AppendUInt(U16(d, 2));
                if (v16 && record.HasBlock(0) && record.Block(0).HasData)
                    AppendDeletedAndUpdated(o, record.BlockData(0), U16(d, 0), U16(d, 2));
                break;
            case Delete:
                // xl_btree_delete: 0 latestRemovedXid (16: snapshotConflictHorizon) | 4 ndeleted
                // | 6 nupdated | 8 isCatalogRel (16 on)
                if (d.Length < (v17 ? 9 : 8))
                    return;
                o.Append(v16 ? "snapshotConflictHorizon: "u8 : "latestRemovedXid "u8).AppendUInt(U32(d, 0))
                    .Append(sep).Append(v16 ? "ndeleted: "u8 : "ndeleted "u8).AppendUInt(U16(d, 4))
                    .Append(sep).Append(v16 ? "nupdated: "u8 : "nupdated "u8).AppendUInt(U16(d, 6));
                if (v17)
                    o.Append(", isCatalogRel: "u8).Append(TF(d[8] != 0));
                if (v16 && record.HasBlock(0) && record.Block(0).HasData)
                    AppendDeletedAndUpdated(o, record.BlockData(0), U16(d, 4), U16(d, 6));
                break;
            case MarkPageHalfDead:
                // xl_btree_mark_page_halfdead: 0 poffset | 4 leafblk | 8 leftblk | 12 rightblk | 16 topparent
                if (d.Length < 20)
                    return;
                o.Append(v16 ? "topparent: "u8 : "topparent "u8).AppendUInt(U32(d, 16))
                    .Append(sep).Append(v16 ? "leaf: "u8 : "leaf "u8).AppendUInt(U32(d, 4))
                    .Append(sep).Append(v16 ? "left: "u8 : "left "u8).AppendUInt(U32(d, 8))
                    .Append(sep).Append(v16 ? "right: "u8 : "right "u8).AppendUInt(U32(d, 12));
                break;
            case UnlinkPage:
            case UnlinkPageMeta:
                // xl_btree_unlink_page: 0 leftsib | 4 rightsib | 8 level | 16 u64 safexid
                // | 24 leafleftsib | 28 leafrightsib | 32 leaftopparent
                if (d.Length < 36)
                    return;
                o.Append(v16 ? "left: "u8 : "left "u8).AppendUInt(U32(d, 0))
                    .Append(sep).Append(v16 ? "right: "u8 : "right "u8).AppendUInt(U32(d, 4))
                    .Append(sep).Append(v16 ? "level: "u8 : "level "u8).AppendUInt(U32(d, 8))
                    .Append(sep).Append(v16 ? "safexid: "u8 : "safexid "u8).AppendFullXid(U64(d, 16))
                    .Append(sep).Append(v16 ? "leafleft: "u8 : "leafleft "u8).AppendUInt(U32(d, 24))
                    .Append(sep).Append(v16 ? "leafright: "u8 : "leafright "u8).AppendUInt(U32(d, 28))
                    .Append(sep).Append(v16 ? "leaftopparent: "u8 : "leaftopparent "u8).AppendUInt(U32(d, 32));
                break;
            case NewRoot:
                // xl_btree_newroot: 0 rootblk | 4 level
                if (d.Length < 8)
                    return;
                o.Append(v16 ? "level: "u8 : "lev "u8).AppendUInt(U32(d, 4));
                break;
            case ReusePage:
                // xl_btree_reuse_page: 0 locator | 12 block | 16 u64 latestRemovedFullXid
                // (16: snapshotConflictHorizon) | 24 isCatalogRel (16 on)
                if (d.Length < (v17 ? 25 : 24))
                    return;
                o.Append(v16 ? "rel: "u8 : "rel "u8).AppendRelTriple(d, 0)
                    .Append(sep).Append(v16 ? "snapshotConflictHorizon: "u8 : "latestRemovedXid "u8).AppendFullXid(U64(d, 16));
                if (v17)
                    o.Append(", isCatalogRel: "u8).Append(TF(d[24] != 0));
                break;
            case MetaCleanup:
            {
                // xl_btree_metadata in block 0: 0 version | 4 root | 8 level | 12 fastroot
                // | 16 fastlevel | 20 last_cleanup_num_delpages | 24 allequalimage
                var meta = record.BlockData(0);
                if (meta.Length < 24)
                    return;
                o.Append(v16 ? "last_cleanup_num_delpages: "u8 : "last_cleanup_num_delpages "u8).AppendUInt(U32(meta, 20));
                break;
            }
        }
    }

    // delvacuum_desc (16 on): block 0 holds OffsetNumber deleted[ndeleted], OffsetNumber
    // updated[nupdated], then per updated item an xl_btree_update {uint16 ndeletedtids} followed by
    // that many uint16 ptids.
    private static void AppendDeletedAndUpdated(TextBuffer o, ReadOnlySpan<byte> data, int ndeleted, int nupdated)
    {
        o.Append(", deleted:"u8).AppendOffsetArray(data, 0, ndeleted);
        o.Append(", updated: ["u8);
        int updatedOffsets = 2 * ndeleted;
        int update = updatedOffsets + 2 * nupdated;
        for (int i = 0; i < nupdated; i++)
        {
            if (update + 2 > data.Length || updatedOffsets + 2 * i + 2 > data.Length)
                break;   // damaged: print what is there
            int nptids = U16(data, update);
            o.Append("{ off: "u8).AppendUInt(U16(data, updatedOffsets + 2 * i))
                .Append(", nptids: "u8).AppendUInt((uint)nptids).Append(", ptids: ["u8);
            for (int p = 0; p < nptids && update + 2 + 2 * p + 2 <= data.Length; p++)
            {
                if (p > 0)
                    o.Append(", "u8);
                o.AppendUInt(U16(data, update + 2 + 2 * p));
            }
            o.Append("] }"u8);
            if (i < nupdated - 1)
                o.Append(", "u8);
            update += 2 + 2 * nptids;
        }
        o.Append(']');
    }
}
