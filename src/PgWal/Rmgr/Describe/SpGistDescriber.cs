// SpGistDescriber: the SPGist resource manager (spgdesc.c, PostgreSQL 15). ADD_NODE's parentBlk
// is an int8 printed with %d (-1: parent not updated).
using PgWal.Diagnostics.Text;
using PgWal.Format;
using PgWal.Read;
using static PgWal.Rmgr.Describe.DescribeText;

namespace PgWal.Rmgr.Describe;

internal sealed class SpGistDescriber : IRecordDescriber
{
    private const byte AddLeaf = 0x10;
    private const byte MoveLeafs = 0x20;
    private const byte AddNode = 0x30;
    private const byte SplitTuple = 0x40;
    private const byte PickSplit = 0x50;
    private const byte VacuumLeaf = 0x60;
    private const byte VacuumRoot = 0x70;
    private const byte VacuumRedirect = 0x80;

    public string Name => "SPGist";

    public string? Identify(byte info) => (info & RecordHeader.RmgrInfoMask) switch
    {
        AddLeaf => "ADD_LEAF",
        MoveLeafs => "MOVE_LEAFS",
        AddNode => "ADD_NODE",
        SplitTuple => "SPLIT_TUPLE",
        PickSplit => "PICKSPLIT",
        VacuumLeaf => "VACUUM_LEAF",
        VacuumRoot => "VACUUM_ROOT",
        VacuumRedirect => "VACUUM_REDIRECT",
        _ => null,
    };

    public void Describe(DecodedRecord record, TextBuffer o)
    {
        var d = record.MainData;
        switch (record.Info & RecordHeader.RmgrInfoMask)
        {
            case AddLeaf:
                // spgxlogAddLeaf: 0 newPage | 1 storesNulls | 2 offnumLeaf | 4 offnumHeadLeaf
                // | 6 offnumParent | 8 nodeI
                if (d.Length < 10)
                    return;
                o.Append("off: "u8).AppendUInt(U16(d, 2))
                    .Append(", headoff: "u8).AppendUInt(U16(d, 4))
                    .Append(", parentoff: "u8).AppendUInt(U16(d, 6))
                    .Append(", nodeI: "u8).AppendUInt(U16(d, 8));
                if (d[0] != 0)
                    o.Append(" (newpage)"u8);
                if (d[1] != 0)
                    o.Append(" (nulls)"u8);
                break;
            case MoveLeafs:
                // spgxlogMoveLeafs: 0 nMoves | 2 newPage | 3 replaceDead | 4 storesNulls
                // | 6 offnumParent | 8 nodeI | 12 stateSrc
                if (d.Length < 10)
                    return;
                o.Append("nmoves: "u8).AppendUInt(U16(d, 0))
                    .Append(", parentoff: "u8).AppendUInt(U16(d, 6))
                    .Append(", nodeI: "u8).AppendUInt(U16(d, 8));
                if (d[2] != 0)
                    o.Append(" (newpage)"u8);
                if (d[3] != 0)
                    o.Append(" (replacedead)"u8);
                if (d[4] != 0)
                    o.Append(" (nulls)"u8);
                break;
            case AddNode:
                // spgxlogAddNode: 0 offnum | 2 offnumNew | 4 newPage | 5 int8 parentBlk
                // | 6 offnumParent | 8 nodeI | 12 stateSrc
                if (d.Length < 10)
                    return;
                o.Append("off: "u8).AppendUInt(U16(d, 0))
                    .Append(", newoff: "u8).AppendUInt(U16(d, 2))
                    .Append(", parentBlk: "u8).AppendInt((sbyte)d[5])
                    .Append(", parentoff: "u8).AppendUInt(U16(d, 6))
                    .Append(", nodeI: "u8).AppendUInt(U16(d, 8));
                if (d[4] != 0)
                    o.Append(" (newpage)"u8);
                break;
            case SplitTuple:
                // spgxlogSplitTuple: 0 offnumPrefix | 2 offnumPostfix | 4 newPage | 5 postfixBlkSame
                if (d.Length < 6)
                    return;
                o.Append("prefixoff: "u8).AppendUInt(U16(d, 0))
                    .Append(", postfixoff: "u8).AppendUInt(U16(d, 2));
                if (d[4] != 0)
                    o.Append(" (newpage)"u8);
                if (d[5] != 0)
                    o.Append(" (same)"u8);
                break;
            case PickSplit:
                // spgxlogPickSplit: 0 isRootSplit | 2 nDelete | 4 nInsert | 6 initSrc | 7 initDest
                // | 8 offnumInner | 10 initInner | 11 storesNulls | 12 innerIsParent
                // | 14 offnumParent | 16 nodeI | 20 stateSrc
                if (d.Length < 18)
                    return;
                o.Append("ndelete: "u8).AppendUInt(U16(d, 2))
                    .Append(", ninsert: "u8).AppendUInt(U16(d, 4))
                    .Append(", inneroff: "u8).AppendUInt(U16(d, 8))
                    .Append(", parentoff: "u8).AppendUInt(U16(d, 14))
                    .Append(", nodeI: "u8).AppendUInt(U16(d, 16));
                if (d[12] != 0)
                    o.Append(" (innerIsParent)"u8);
                if (d[11] != 0)
                    o.Append(" (nulls)"u8);
                if (d[0] != 0)
                    o.Append(" (isRootSplit)"u8);
                break;
            case VacuumLeaf:
                // spgxlogVacuumLeaf: 0 nDead | 2 nPlaceholder | 4 nMove | 6 nChain | 8 stateSrc
                if (d.Length < 8)
                    return;
                o.Append("ndead: "u8).AppendUInt(U16(d, 0))
                    .Append(", nplaceholder: "u8).AppendUInt(U16(d, 2))
                    .Append(", nmove: "u8).AppendUInt(U16(d, 4))
                    .Append(", nchain: "u8).AppendUInt(U16(d, 6));
                break;
            case VacuumRoot:
                // spgxlogVacuumRoot: 0 nDelete | 4 stateSrc
                if (d.Length < 2)
                    return;
                o.Append("ndelete: "u8).AppendUInt(U16(d, 0));
                break;
            case VacuumRedirect:
                // spgxlogVacuumRedirect: 0 nToPlaceholder | 2 firstPlaceholder | 4 newestRedirectXid
                // (16: snapshotConflictHorizon, then 8 isCatalogRel, printed from 17 on)
                if (d.Length < (record.Version >= WalVersion.Pg17 ? 9 : 8))
                    return;
                o.Append("ntoplaceholder: "u8).AppendUInt(U16(d, 0))
                    .Append(", firstplaceholder: "u8).AppendUInt(U16(d, 2))
                    .Append(record.Version >= WalVersion.Pg16 ? ", snapshotConflictHorizon: "u8 : ", newestredirectxid: "u8).AppendUInt(U32(d, 4));
                if (record.Version >= WalVersion.Pg17)
                    o.Append(", isCatalogRel: "u8).Append(TF(d[8] != 0));
                break;
        }
    }
}
