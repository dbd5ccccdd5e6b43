// HashDescriber: the Hash resource manager (hashdesc.c, PostgreSQL 15). Tuple counts stored as
// doubles are printed with C's %g; SPLIT_PAGE and SPLIT_CLEANUP have no description.
using PgWal.Diagnostics.Text;
using PgWal.Format;
using PgWal.Read;
using static PgWal.Rmgr.Describe.DescribeText;

namespace PgWal.Rmgr.Describe;

internal sealed class HashDescriber : IRecordDescriber
{
    private const byte InitMetaPage = 0x00;
    private const byte InitBitmapPage = 0x10;
    private const byte Insert = 0x20;
    private const byte AddOvflPage = 0x30;
    private const byte SplitAllocatePage = 0x40;
    private const byte SplitPage = 0x50;
    private const byte SplitComplete = 0x60;
    private const byte MovePageContents = 0x70;
    private const byte SqueezePage = 0x80;
    private const byte Delete = 0x90;
    private const byte SplitCleanup = 0xA0;
    private const byte UpdateMetaPage = 0xB0;
    private const byte VacuumOnePage = 0xC0;

    public string Name => "Hash";

    public string? Identify(byte info) => (info & RecordHeader.RmgrInfoMask) switch
    {
        InitMetaPage => "INIT_META_PAGE",
        InitBitmapPage => "INIT_BITMAP_PAGE",
        Insert => "INSERT",
        AddOvflPage => "ADD_OVFL_PAGE",
        SplitAllocatePage => "SPLIT_ALLOCATE_PAGE",
        SplitPage => "SPLIT_PAGE",
        SplitComplete => "SPLIT_COMPLETE",
        MovePageContents => "MOVE_PAGE_CONTENTS",
        SqueezePage => "SQUEEZE_PAGE",
        Delete => "DELETE",
        SplitCleanup => "SPLIT_CLEANUP",
        UpdateMetaPage => "UPDATE_META_PAGE",
        VacuumOnePage => "VACUUM_ONE_PAGE",
        _ => null,
    };

    public void Describe(DecodedRecord record, TextBuffer o)
    {
        var d = record.MainData;
        switch (record.Info & RecordHeader.RmgrInfoMask)
        {
            case InitMetaPage:
                // xl_hash_init_meta_page: 0 double num_tuples | 8 procid | 12 u16 ffactor
                if (d.Length < 14)
                    return;
                o.Append("num_tuples "u8).AppendG(BitConverter.Int64BitsToDouble(I64(d, 0)))
                    .Append(", fillfactor "u8).AppendInt(U16(d, 12));
                break;
            case InitBitmapPage:
                // xl_hash_init_bitmap_page: 0 u16 bmsize
                if (d.Length < 2)
                    return;
                o.Append("bmsize "u8).AppendInt(U16(d, 0));
                break;
            case Insert:
                // xl_hash_insert: 0 offnum
                if (d.Length < 2)
                    return;
                o.Append("off "u8).AppendUInt(U16(d, 0));
                break;
            case AddOvflPage:
                // xl_hash_add_ovfl_page: 0 u16 bmsize | 2 bool bmpage_found
                if (d.Length < 3)
                    return;
                o.Append("bmsize "u8).AppendInt(U16(d, 0)).Append(", bmpage_found "u8).Append(TF(d[2] != 0));
                break;
            case SplitAllocatePage:
                // xl_hash_split_allocate_page: 0 new_bucket | 4 old_bucket_flag | 6 new_bucket_flag | 8 flags
                if (d.Length < 9)
                    return;
                o.Append("new_bucket "u8).AppendUInt(U32(d, 0))
                    .Append(", meta_page_masks_updated "u8).Append(TF((d[8] & 0x01) != 0))
                    .Append(", issplitpoint_changed "u8).Append(TF((d[8] & 0x02) != 0));
                break;
            case SplitComplete:
                // xl_hash_split_complete: 0 old_bucket_flag | 2 new_bucket_flag
                if (d.Length < 4)
                    return;
                o.Append("old_bucket_flag "u8).AppendUInt(U16(d, 0))
                    .Append(", new_bucket_flag "u8).AppendUInt(U16(d, 2));
                break;
            case MovePageContents:
                // xl_hash_move_page_contents: 0 u16 ntups | 2 bool is_prim_bucket_same_wrt
                if (d.Length < 3)
                    return;
                o.Append("ntups "u8).AppendInt(U16(d, 0)).Append(", is_primary "u8).Append(TF(d[2] != 0));
                break;
            case SqueezePage:
                // xl_hash_squeeze_page: 0 prevblkno | 4 nextblkno | 8 u16 ntups | 10 bool is_prim_bucket_same_wrt
                if (d.Length < 11)
                    return;
                o.Append("prevblkno "u8).AppendUInt(U32(d, 0))
                    .Append(", nextblkno "u8).AppendUInt(U32(d, 4))
                    .Append(", ntups "u8).AppendInt(U16(d, 8))
                    .Append(", is_primary "u8).Append(TF(d[10] != 0));
                break;
            case Delete:
                // xl_hash_delete: 0 bool clear_dead_marking | 1 bool is_primary_bucket_page
                if (d.Length < 2)
                    return;
                o.Append("clear_dead_marking "u8).Append(TF(d[0] != 0))
                    .Append(", is_primary "u8).Append(TF(d[1] != 0));
                break;
            case UpdateMetaPage:
                // xl_hash_update_meta_page: 0 double ntuples
                if (d.Length < 8)
                    return;
                o.Append("ntuples "u8).AppendG(BitConverter.Int64BitsToDouble(I64(d, 0)));
                break;
            case VacuumOnePage:
                // xl_hash_vacuum_one_page: 0 latestRemovedXid | 4 int ntuples; from 16:
                // 0 snapshotConflictHorizon | 4 uint16 ntuples | 6 isCatalogRel (printed from 17 on)
                if (d.Length < 8)
                    return;
                if (record.Version < WalVersion.Pg16)
                {
                    o.Append("ntuples "u8).AppendInt(I32(d, 4)).Append(", latestRemovedXid "u8).AppendUInt(U32(d, 0));
                    break;
                }
                o.Append("ntuples "u8).AppendInt(U16(d, 4)).Append(", snapshotConflictHorizon "u8).AppendUInt(U32(d, 0));
                if (record.Version >= WalVersion.Pg17)
                    o.Append(", isCatalogRel "u8).Append(TF(d[6] != 0));
                break;
        }
    }
}
