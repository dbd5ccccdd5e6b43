// BtreeDescriber, PostgreSQL 16 and later (nbtdesc.c): "key: value" wording, latestRemovedXid
// renamed snapshotConflictHorizon, VACUUM and DELETE followed by their deleted offsets and updated
// posting-list items (delvacuum_desc, from block 0's data); 17 adds isCatalogRel to DELETE and
// REUSE_PAGE (its byte exists from 16 on). 18 prints as 17.
using PgWal.Diagnostics.Text;
using PgWal.Format;
using PgWal.Read;
using static PgWal.Rmgr.Describe.DescribeText;

namespace PgWal.Rmgr.Describe;

internal sealed partial class BtreeDescriber
{
    private static void DescribePg16(DecodedRecord record, TextBuffer o)
    {
        var d = record.MainData;
        bool pg17 = record.Version >= WalVersion.Pg17;
        switch (record.Info & RecordHeader.RmgrInfoMask)
        {
            case InsertLeaf:
            case InsertUpper:
            case InsertMeta:
            case InsertPost:
                if (d.Length < 2)
                    return;
                o.Append("off: "u8).AppendUInt(U16(d, 0));
                break;
            case SplitL:
            case SplitR:
                if (d.Length < 10)
                    return;
                o.Append("level: "u8).AppendUInt(U32(d, 0))
                    .Append(", firstrightoff: "u8).AppendInt(U16(d, 4))
                    .Append(", newitemoff: "u8).AppendInt(U16(d, 6))
                    .Append(", postingoff: "u8).AppendInt(U16(d, 8));
                break;
            case Dedup:
                if (d.Length < 2)
                    return;
                o.Append("nintervals: "u8).AppendUInt(U16(d, 0));
                break;
            case Vacuum:
                // xl_btree_vacuum: 0 ndeleted | 2 nupdated
                if (d.Length < 4)
                    return;
                o.Append("ndeleted: "u8).AppendUInt(U16(d, 0)).Append(", nupdated: "u8).AppendUInt(U16(d, 2));
                if (record.HasBlock(0) && record.Block(0).HasData)
                    AppendDeletedAndUpdated(o, record.BlockData(0), U16(d, 0), U16(d, 2));
                break;
            case Delete:
                // xl_btree_delete: 0 snapshotConflictHorizon | 4 ndeleted | 6 nupdated | 8 isCatalogRel
                if (d.Length < (pg17 ? 9 : 8))
                    return;
                o.Append("snapshotConflictHorizon: "u8).AppendUInt(U32(d, 0))
                    .Append(", ndeleted: "u8).AppendUInt(U16(d, 4))
                    .Append(", nupdated: "u8).AppendUInt(U16(d, 6));
                if (pg17)
                    o.Append(", isCatalogRel: "u8).Append(TF(d[8] != 0));
                if (record.HasBlock(0) && record.Block(0).HasData)
                    AppendDeletedAndUpdated(o, record.BlockData(0), U16(d, 4), U16(d, 6));
                break;
            case MarkPageHalfDead:
                // xl_btree_mark_page_halfdead: 0 poffset | 4 leafblk | 8 leftblk | 12 rightblk | 16 topparent
                if (d.Length < 20)
                    return;
                o.Append("topparent: "u8).AppendUInt(U32(d, 16))
                    .Append(", leaf: "u8).AppendUInt(U32(d, 4))
                    .Append(", left: "u8).AppendUInt(U32(d, 8))
                    .Append(", right: "u8).AppendUInt(U32(d, 12));
                break;
            case UnlinkPage:
            case UnlinkPageMeta:
                if (d.Length < 36)
                    return;
                o.Append("left: "u8).AppendUInt(U32(d, 0))
                    .Append(", right: "u8).AppendUInt(U32(d, 4))
                    .Append(", level: "u8).AppendUInt(U32(d, 8))
                    .Append(", safexid: "u8).AppendFullXid(U64(d, 16))
                    .Append(", leafleft: "u8).AppendUInt(U32(d, 24))
                    .Append(", leafright: "u8).AppendUInt(U32(d, 28))
                    .Append(", leaftopparent: "u8).AppendUInt(U32(d, 32));
                break;
            case NewRoot:
                if (d.Length < 8)
                    return;
                o.Append("level: "u8).AppendUInt(U32(d, 4));
                break;
            case ReusePage:
                // xl_btree_reuse_page: 0 locator | 12 block | 16 u64 snapshotConflictHorizon | 24 isCatalogRel
                if (d.Length < (pg17 ? 25 : 24))
                    return;
                o.Append("rel: "u8).AppendRelTriple(d, 0)
                    .Append(", snapshotConflictHorizon: "u8).AppendFullXid(U64(d, 16));
                if (pg17)
                    o.Append(", isCatalogRel: "u8).Append(TF(d[24] != 0));
                break;
            case MetaCleanup:
            {
                var meta = record.BlockData(0);
                if (meta.Length < 24)
                    return;
                o.Append("last_cleanup_num_delpages: "u8).AppendUInt(U32(meta, 20));
                break;
            }
        }
    }

    // delvacuum_desc: block 0 holds OffsetNumber deleted[ndeleted], OffsetNumber updated[nupdated],
    // then per updated item an xl_btree_update {uint16 ndeletedtids} followed by that many uint16 ptids.
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
