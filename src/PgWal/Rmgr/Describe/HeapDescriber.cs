// HeapDescriber / Heap2Describer: the Heap and Heap2 resource managers (heapdesc.c of PostgreSQL 15
// to 18; Heap2's 16 and 17 pruning records and 16's list helpers in HeapDescriber.Pg16.cs).
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

internal sealed class HeapDescriber : IRecordDescriber
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

    // 16 rewrote every description as "key: value" pairs with bracketed lists (HeapText);
    // 18 adds INPLACE's invalidation messages.
    public void Describe(DecodedRecord record, TextBuffer o)
    {
        var d = record.MainData;
        bool v16 = record.Version >= WalVersion.Pg16;
        switch (record.Info & HeapInfo.OpMask)
        {
            case Insert:
                // xl_heap_insert: 0 offnum | 2 flags
                if (d.Length < 3)
                    return;
                o.Append(v16 ? "off: "u8 : "off "u8).AppendUInt(U16(d, 0)).Append(v16 ? ", flags: "u8 : " flags "u8).AppendHex2(d[2]);
                break;
            case Delete:
            case Lock:
                // xl_heap_delete / xl_heap_lock: 0 xmax | 4 offnum | 6 infobits_set | 7 flags
                if (d.Length < 8)
                    return;
                if (v16)
                {
                    o.Append("xmax: "u8).AppendUInt(U32(d, 0)).Append(", off: "u8).AppendUInt(U16(d, 4)).Append(", "u8)
                        .AppendInfobits("infobits", d[6]).Append(", flags: "u8).AppendHex2(d[7]);
                }
                else if ((record.Info & HeapInfo.OpMask) == Delete)
                {
                    o.Append("off "u8).AppendUInt(U16(d, 4)).Append(" flags "u8).AppendHex2(d[7]).Append(' ');
                    HeapInfo.AppendInfobits(o, d[6]);
                }
                else
                {
                    o.Append("off "u8).AppendUInt(U16(d, 4)).Append(": xid "u8).AppendUInt(U32(d, 0))
                        .Append(": flags "u8).AppendHex2(d[7]).Append(' ');
                    HeapInfo.AppendInfobits(o, d[6]);
                }
                break;
            case Update:
            case HotUpdate:
                // xl_heap_update: 0 old_xmax | 4 old_offnum | 6 old_infobits_set | 7 flags
                // | 8 new_xmax | 12 new_offnum
                if (d.Length < 14)
                    return;
                if (v16)
                {
                    o.Append("old_xmax: "u8).AppendUInt(U32(d, 0)).Append(", old_off: "u8).AppendUInt(U16(d, 4)).Append(", "u8)
                        .AppendInfobits("old_infobits", d[6])
                        .Append(", flags: "u8).AppendHex2(d[7])
                        .Append(", new_xmax: "u8).AppendUInt(U32(d, 8))
                        .Append(", new_off: "u8).AppendUInt(U16(d, 12));
                    break;
                }
                o.Append("off "u8).AppendUInt(U16(d, 4)).Append(" xmax "u8).AppendUInt(U32(d, 0))
                    .Append(" flags "u8).AppendHex2(d[7]).Append(' ');
                HeapInfo.AppendInfobits(o, d[6]);
                o.Append("; new off "u8).AppendUInt(U16(d, 12)).Append(" xmax "u8).AppendUInt(U32(d, 8));
                break;
            case Truncate:
                // xl_heap_truncate: 0 dbId | 4 nrelids | 8 flags | 12 relids[]
                if (d.Length < 12)
                    return;
                AppendTruncate(o, d, v16);
                break;
            case Confirm:
            case Inplace:
                // xl_heap_confirm / xl_heap_inplace: 0 offnum; 18's inplace adds 4 dbId | 8 tsId
                // | 12 relcacheInitFileInval | 16 nmsgs | 20 msgs[]
                if (d.Length < 2)
                    return;
                o.Append(v16 ? "off: "u8 : "off "u8).AppendUInt(U16(d, 0));
                if ((record.Info & HeapInfo.OpMask) == Inplace && record.Version >= WalVersion.Pg18 && d.Length >= 20)
                    AppendInvalidations(o, d, 20, I32(d, 16), U32(d, 4), U32(d, 8), d[12] != 0);
                break;
        }
    }

    private static void AppendTruncate(TextBuffer o, ReadOnlySpan<byte> d, bool v16)
    {
        byte flags = d[8];
        uint nrelids = U32(d, 4);
        if (!v16)
        {
            if ((flags & 0x01) != 0)
                o.Append("cascade "u8);
            if ((flags & 0x02) != 0)
                o.Append("restart_seqs "u8);
            o.Append("nrelids "u8).AppendUInt(nrelids).Append(" relids"u8);
            for (long i = 0; i < nrelids && 12 + 4 * i + 4 <= d.Length; i++)
                o.Append(' ').AppendUInt(U32(d, (int)(12 + 4 * i)));
            return;
        }
        o.Append("flags: ["u8);
        if ((flags & 0x01) != 0)
            o.Append((flags & 0x02) != 0 ? "CASCADE, RESTART_SEQS"u8 : "CASCADE"u8);
        else if ((flags & 0x02) != 0)
            o.Append("RESTART_SEQS"u8);
        o.Append("], nrelids: "u8).AppendUInt(nrelids).Append(", relids:"u8);
        if (nrelids == 0)
        {
            o.Append(" []"u8);
            return;
        }
        o.Append(" ["u8);
        for (long i = 0; i < nrelids && 12 + 4 * i + 4 <= d.Length; i++)
        {
            if (i > 0)
                o.Append(", "u8);
            o.AppendUInt(U32(d, (int)(12 + 4 * i)));
        }
        o.Append(']');
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

    // 16: "key: value" pairs and the offsets a record carries; the prune, vacuum and freeze
    // records in their 16 and 17 forms are in HeapDescriber.Pg16.cs.
    public void Describe(DecodedRecord record, TextBuffer o)
    {
        var d = record.MainData;
        bool v16 = record.Version >= WalVersion.Pg16;
        switch (record.Info & HeapInfo.OpMask)
        {
            case Prune or Vacuum or FreezePage when record.Version >= WalVersion.Pg17:
                DescribePruneAndFreeze(record, o);
                break;
            case Prune when v16:
                DescribePrune16(record, o);
                break;
            case Vacuum when v16:
                DescribeVacuum16(record, o);
                break;
            case FreezePage when v16:
                DescribeFreezePage16(record, o);
                break;
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
                // xl_heap_visible: 0 cutoff_xid (16: snapshotConflictHorizon) | 4 flags
                if (d.Length < 5)
                    return;
                o.Append(v16 ? "snapshotConflictHorizon: "u8 : "cutoff xid "u8).AppendUInt(U32(d, 0))
                    .Append(v16 ? ", flags: "u8 : " flags "u8).AppendHex2(d[4]);
                break;
            case MultiInsert:
            {
                // xl_heap_multi_insert: 0 flags | 2 ntuples | 4 offsets[]
                if (d.Length < 4)
                    return;
                int ntuples = U16(d, 2);
                if (!v16)
                {
                    o.AppendInt(ntuples).Append(" tuples flags "u8).AppendHex2(d[0]);
                    break;
                }
                o.Append("ntuples: "u8).AppendInt(ntuples).Append(", flags: "u8).AppendHex2(d[0]);
                if (record.HasBlock(0) && record.Block(0).HasData && (record.Info & HeapInfo.InitPage) == 0)
                    o.Append(", offsets:"u8).AppendOffsetArray(d, 4, ntuples);
                break;
            }
            case LockUpdated:
                // xl_heap_lock_updated: 0 xmax | 4 offnum | 6 infobits_set | 7 flags
                if (d.Length < 8)
                    return;
                if (v16)
                {
                    o.Append("xmax: "u8).AppendUInt(U32(d, 0)).Append(", off: "u8).AppendUInt(U16(d, 4)).Append(", "u8)
                        .AppendInfobits("infobits", d[6]).Append(", flags: "u8).AppendHex2(d[7]);
                    break;
                }
                o.Append("off "u8).AppendUInt(U16(d, 4)).Append(": xmax "u8).AppendUInt(U32(d, 0))
                    .Append(": flags "u8).AppendHex2(d[7]).Append(' ');
                HeapInfo.AppendInfobits(o, d[6]);
                break;
            case NewCid:
                // xl_heap_new_cid: 0 top_xid | 4 cmin | 8 cmax | 12 combocid | 16 target_node
                // | 28 target_tid (u16 bi_hi, u16 bi_lo, u16 posid)
                if (d.Length < 34)
                    return;
                o.Append(v16 ? "rel: "u8 : "rel "u8).AppendRelTriple(d, 16)
                    .Append(v16 ? ", tid: "u8 : "; tid "u8).AppendUInt(((uint)U16(d, 28) << 16) | U16(d, 30))
                    .Append('/').AppendUInt(U16(d, 32))
                    .Append(v16 ? ", cmin: "u8 : "; cmin: "u8).AppendUInt(U32(d, 4))
                    .Append(", cmax: "u8).AppendUInt(U32(d, 8))
                    .Append(", combo: "u8).AppendUInt(U32(d, 12));
                break;
        }
    }
}
