// HeapDescriber / Heap2Describer: the Heap and Heap2 resource managers (heapdesc.c, PostgreSQL 15;
// 16 and later in HeapDescriber.Pg16.cs).
// Both mask the info with XLOG_HEAP_OPMASK before describing, so the "+INIT" variants
// (XLOG_HEAP_INIT_PAGE) describe like their plain forms; only the identities differ.
using PgWal.Diagnostics.Text;
using PgWal.Format;
using PgWal.Read;
using static PgWal.Rmgr.Describe.DescribeText;

namespace PgWal.Rmgr.Describe;

internal static class HeapInfo
{
    /// <summary>XLOG_HEAP_OPMASK.</summary>
    public const byte OpMask = 0x70;

    /// <summary>XLOG_HEAP_INIT_PAGE.</summary>
    public const byte InitPage = 0x80;

    /// <summary>out_infobits(): the XLHL_* bits, each followed by a space.</summary>
    public static void AppendInfobits(TextBuffer o, byte infobits)
    {
        if ((infobits & 0x01) != 0)
            o.Append("IS_MULTI "u8);
        if ((infobits & 0x02) != 0)
            o.Append("LOCK_ONLY "u8);
        if ((infobits & 0x04) != 0)
            o.Append("EXCL_LOCK "u8);
        if ((infobits & 0x08) != 0)
            o.Append("KEYSHR_LOCK "u8);
        if ((infobits & 0x10) != 0)
            o.Append("KEYS_UPDATED "u8);
    }
}

internal sealed partial class HeapDescriber : IRecordDescriber
{
    private const byte Insert = 0x00;
    private const byte Delete = 0x10;
    private const byte Update = 0x20;
    private const byte Truncate = 0x30;
    private const byte HotUpdate = 0x40;
    private const byte Confirm = 0x50;
    private const byte Lock = 0x60;
    private const byte Inplace = 0x70;

    public string Name => "Heap";

    public string? Identify(byte info) => (info & RecordHeader.RmgrInfoMask) switch
    {
        Insert => "INSERT",
        Insert | HeapInfo.InitPage => "INSERT+INIT",
        Delete => "DELETE",
        Update => "UPDATE",
        Update | HeapInfo.InitPage => "UPDATE+INIT",
        HotUpdate => "HOT_UPDATE",
        HotUpdate | HeapInfo.InitPage => "HOT_UPDATE+INIT",
        Truncate => "TRUNCATE",
        Confirm => "HEAP_CONFIRM",
        Lock => "LOCK",
        Inplace => "INPLACE",
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
        switch (record.Info & HeapInfo.OpMask)
        {
            case Insert:
                // xl_heap_insert: 0 offnum | 2 flags
                if (d.Length < 3)
                    return;
                o.Append("off "u8).AppendUInt(U16(d, 0)).Append(" flags "u8).AppendHex2(d[2]);
                break;
            case Delete:
                // xl_heap_delete: 0 xmax | 4 offnum | 6 infobits_set | 7 flags
                if (d.Length < 8)
                    return;
                o.Append("off "u8).AppendUInt(U16(d, 4)).Append(" flags "u8).AppendHex2(d[7]).Append(' ');
                HeapInfo.AppendInfobits(o, d[6]);
                break;
            case Update:
            case HotUpdate:
                // xl_heap_update: 0 old_xmax | 4 old_offnum | 6 old_infobits_set | 7 flags
                // | 8 new_xmax | 12 new_offnum
                if (d.Length < 14)
                    return;
                o.Append("off "u8).AppendUInt(U16(d, 4)).Append(" xmax "u8).AppendUInt(U32(d, 0))
                    .Append(" flags "u8).AppendHex2(d[7]).Append(' ');
                HeapInfo.AppendInfobits(o, d[6]);
                o.Append("; new off "u8).AppendUInt(U16(d, 12)).Append(" xmax "u8).AppendUInt(U32(d, 8));
                break;
            case Truncate:
            {
                // xl_heap_truncate: 0 dbId | 4 nrelids | 8 flags | 12 relids[]
                if (d.Length < 12)
                    return;
                byte flags = d[8];
                if ((flags & 0x01) != 0)
                    o.Append("cascade "u8);
                if ((flags & 0x02) != 0)
                    o.Append("restart_seqs "u8);
                uint nrelids = U32(d, 4);
                o.Append("nrelids "u8).AppendUInt(nrelids).Append(" relids"u8);
                for (long i = 0; i < nrelids; i++)
                {
                    long at = 12 + i * 4;
                    if (at + 4 > d.Length)
                        return;
                    o.Append(' ').AppendUInt(U32(d, (int)at));
                }
                break;
            }
            case Confirm:
            case Inplace:
                // xl_heap_confirm / xl_heap_inplace: 0 offnum
                if (d.Length < 2)
                    return;
                o.Append("off "u8).AppendUInt(U16(d, 0));
                break;
            case Lock:
                // xl_heap_lock: 0 locking_xid | 4 offnum | 6 infobits_set | 7 flags
                if (d.Length < 8)
                    return;
                o.Append("off "u8).AppendUInt(U16(d, 4)).Append(": xid "u8).AppendUInt(U32(d, 0))
                    .Append(": flags "u8).AppendHex2(d[7]).Append(' ');
                HeapInfo.AppendInfobits(o, d[6]);
                break;
        }
    }
}

internal sealed partial class Heap2Describer : IRecordDescriber
{
    private const byte Rewrite = 0x00;
    private const byte Prune = 0x10;
    private const byte Vacuum = 0x20;
    private const byte FreezePage = 0x30;
    private const byte Visible = 0x40;
    private const byte MultiInsert = 0x50;
    private const byte LockUpdated = 0x60;
    private const byte NewCid = 0x70;

    public string Name => "Heap2";

    public string? Identify(byte info) => (info & RecordHeader.RmgrInfoMask) switch
    {
        Prune => "PRUNE",
        Vacuum => "VACUUM",
        FreezePage => "FREEZE_PAGE",
        Visible => "VISIBLE",
        MultiInsert => "MULTI_INSERT",
        MultiInsert | HeapInfo.InitPage => "MULTI_INSERT+INIT",
        LockUpdated => "LOCK_UPDATED",
        NewCid => "NEW_CID",
        Rewrite => "REWRITE",
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
        switch (record.Info & HeapInfo.OpMask)
        {
            case Prune:
                // xl_heap_prune: 0 latestRemovedXid | 4 nredirected | 6 ndead
                if (d.Length < 8)
                    return;
                o.Append("latestRemovedXid "u8).AppendUInt(U32(d, 0))
                    .Append(" nredirected "u8).AppendUInt(U16(d, 4))
                    .Append(" ndead "u8).AppendUInt(U16(d, 6));
                break;
            case Vacuum:
                // xl_heap_vacuum: 0 nunused
                if (d.Length < 2)
                    return;
                o.Append("nunused "u8).AppendUInt(U16(d, 0));
                break;
            case FreezePage:
                // xl_heap_freeze_page: 0 cutoff_xid | 4 ntuples
                if (d.Length < 6)
                    return;
                o.Append("cutoff xid "u8).AppendUInt(U32(d, 0)).Append(" ntuples "u8).AppendUInt(U16(d, 4));
                break;
            case Visible:
                // xl_heap_visible: 0 cutoff_xid | 4 flags
                if (d.Length < 5)
                    return;
                o.Append("cutoff xid "u8).AppendUInt(U32(d, 0)).Append(" flags "u8).AppendHex2(d[4]);
                break;
            case MultiInsert:
                // xl_heap_multi_insert: 0 flags | 2 ntuples | 4 offsets[]
                if (d.Length < 4)
                    return;
                o.AppendInt(U16(d, 2)).Append(" tuples flags "u8).AppendHex2(d[0]);
                break;
            case LockUpdated:
                // xl_heap_lock_updated: 0 xmax | 4 offnum | 6 infobits_set | 7 flags
                if (d.Length < 8)
                    return;
                o.Append("off "u8).AppendUInt(U16(d, 4)).Append(": xmax "u8).AppendUInt(U32(d, 0))
                    .Append(": flags "u8).AppendHex2(d[7]).Append(' ');
                HeapInfo.AppendInfobits(o, d[6]);
                break;
            case NewCid:
                // xl_heap_new_cid: 0 top_xid | 4 cmin | 8 cmax | 12 combocid | 16 target_node
                // | 28 target_tid (u16 bi_hi, u16 bi_lo, u16 posid)
                if (d.Length < 34)
                    return;
                o.Append("rel "u8).AppendRelTriple(d, 16)
                    .Append("; tid "u8).AppendUInt(((uint)U16(d, 28) << 16) | U16(d, 30))
                    .Append('/').AppendUInt(U16(d, 32))
                    .Append("; cmin: "u8).AppendUInt(U32(d, 4))
                    .Append(", cmax: "u8).AppendUInt(U32(d, 8))
                    .Append(", combo: "u8).AppendUInt(U32(d, 12));
                break;
        }
    }
}
