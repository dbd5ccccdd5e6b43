// Heap and Heap2, PostgreSQL 16 and later (heapdesc.c). 16 rewrote every description in
// "key: value" form with bracketed lists (infobits_desc, truncate_flags_desc, array_desc) and
// prints the offsets a record carries; 17 replaced Heap2's PRUNE, VACUUM and FREEZE_PAGE by one
// prune-and-freeze record under three names (PRUNE_ON_ACCESS, PRUNE_VACUUM_SCAN,
// PRUNE_VACUUM_CLEANUP) whose block 0 holds optional sub-records; 18 adds invalidation messages to
// Heap's INPLACE.
using PgWal.Diagnostics.Text;
using PgWal.Format;
using PgWal.Read;
using static PgWal.Rmgr.Describe.DescribeText;

namespace PgWal.Rmgr.Describe;

internal static class HeapText
{
    /// <summary>infobits_desc(): "key: [" + the XLHL_* names joined by ", " + "]".</summary>
    public static TextBuffer AppendInfobits(this TextBuffer o, string key, byte infobits)
    {
        o.Append(key).Append(": ["u8);
        bool first = true;
        void Name(TextBuffer t, ReadOnlySpan<byte> name)
        {
            if (!first)
                t.Append(", "u8);
            t.Append(name);
            first = false;
        }
        if ((infobits & 0x01) != 0)
            Name(o, "IS_MULTI"u8);
        if ((infobits & 0x02) != 0)
            Name(o, "LOCK_ONLY"u8);
        if ((infobits & 0x04) != 0)
            Name(o, "EXCL_LOCK"u8);
        if ((infobits & 0x08) != 0)
            Name(o, "KEYSHR_LOCK"u8);
        if ((infobits & 0x10) != 0)
            Name(o, "KEYS_UPDATED"u8);
        return o.Append(']');
    }

    /// <summary>array_desc() over OffsetNumber pairs: " [a->b, ...]".</summary>
    public static TextBuffer AppendRedirectArray(this TextBuffer o, ReadOnlySpan<byte> d, int offset, int count)
    {
        if (count == 0)
            return o.Append(" []"u8);
        o.Append(" ["u8);
        for (int i = 0; i < count && offset + 4 * i + 4 <= d.Length; i++)
        {
            if (i > 0)
                o.Append(", "u8);
            o.AppendUInt(U16(d, offset + 4 * i)).Append("->"u8).AppendUInt(U16(d, offset + 4 * i + 2));
        }
        return o.Append(']');
    }

    /// <summary>
    /// array_desc() of freeze plans (12 bytes each at <paramref name="plans"/>: xmax, t_infomask2,
    /// t_infomask, frzflags, ntuples), each with its offsets, taken in order from <paramref name="offsets"/>.
    /// </summary>
    public static TextBuffer AppendFreezePlans(this TextBuffer o, ReadOnlySpan<byte> d, int plans, int nplans, int offsets)
    {
        if (nplans == 0)
            return o.Append(" []"u8);
        o.Append(" ["u8);
        for (int i = 0; i < nplans && plans + 12 * i + 12 <= d.Length; i++)
        {
            int p = plans + 12 * i;
            int ntuples = U16(d, p + 10);
            if (i > 0)
                o.Append(", "u8);
            o.Append("{ xmax: "u8).AppendUInt(U32(d, p))
                .Append(", infomask: "u8).AppendUInt(U16(d, p + 6))
                .Append(", infomask2: "u8).AppendUInt(U16(d, p + 4))
                .Append(", ntuples: "u8).AppendUInt((uint)ntuples)
                .Append(", offsets:"u8).AppendOffsetArray(d, offsets, ntuples)
                .Append(" }"u8);
            offsets += 2 * ntuples;
        }
        return o.Append(']');
    }
}

internal sealed partial class HeapDescriber
{
    private static void DescribePg16(DecodedRecord record, TextBuffer o)
    {
        var d = record.MainData;
        switch (record.Info & HeapInfo.OpMask)
        {
            case Insert:
                if (d.Length < 3)
                    return;
                o.Append("off: "u8).AppendUInt(U16(d, 0)).Append(", flags: "u8).AppendHex2(d[2]);
                break;
            case Delete:
            case Lock:
                // xl_heap_delete / xl_heap_lock: 0 xmax | 4 offnum | 6 infobits_set | 7 flags
                if (d.Length < 8)
                    return;
                o.Append("xmax: "u8).AppendUInt(U32(d, 0)).Append(", off: "u8).AppendUInt(U16(d, 4)).Append(", "u8)
                    .AppendInfobits("infobits", d[6]).Append(", flags: "u8).AppendHex2(d[7]);
                break;
            case Update:
            case HotUpdate:
                if (d.Length < 14)
                    return;
                o.Append("old_xmax: "u8).AppendUInt(U32(d, 0)).Append(", old_off: "u8).AppendUInt(U16(d, 4)).Append(", "u8)
                    .AppendInfobits("old_infobits", d[6])
                    .Append(", flags: "u8).AppendHex2(d[7])
                    .Append(", new_xmax: "u8).AppendUInt(U32(d, 8))
                    .Append(", new_off: "u8).AppendUInt(U16(d, 12));
                break;
            case Truncate:
            {
                // xl_heap_truncate: 0 dbId | 4 nrelids | 8 flags | 12 relids[]
                if (d.Length < 12)
                    return;
                byte flags = d[8];
                o.Append("flags: ["u8);
                if ((flags & 0x01) != 0)
                    o.Append((flags & 0x02) != 0 ? "CASCADE, RESTART_SEQS"u8 : "CASCADE"u8);
                else if ((flags & 0x02) != 0)
                    o.Append("RESTART_SEQS"u8);
                uint nrelids = U32(d, 4);
                o.Append("], nrelids: "u8).AppendUInt(nrelids).Append(", relids:"u8);
                if (nrelids == 0)
                {
                    o.Append(" []"u8);
                    break;
                }
                o.Append(" ["u8);
                for (long i = 0; i < nrelids && 12 + 4 * i + 4 <= d.Length; i++)
                {
                    if (i > 0)
                        o.Append(", "u8);
                    o.AppendUInt(U32(d, (int)(12 + 4 * i)));
                }
                o.Append(']');
                break;
            }
            case Confirm:
                if (d.Length < 2)
                    return;
                o.Append("off: "u8).AppendUInt(U16(d, 0));
                break;
            case Inplace:
                // 16, 17: 0 offnum. 18: 0 offnum | 4 dbId | 8 tsId | 12 relcacheInitFileInval | 16 nmsgs | 20 msgs[]
                if (d.Length < 2)
                    return;
                o.Append("off: "u8).AppendUInt(U16(d, 0));
                if (record.Version >= WalVersion.Pg18 && d.Length >= 20)
                    AppendInvalidations(o, d, 20, I32(d, 16), U32(d, 4), U32(d, 8), d[12] != 0);
                break;
        }
    }
}

internal sealed partial class Heap2Describer
{
    private const byte IsCatalogRel = 1 << 1, HasConflictHorizon = 1 << 3, HasFreezePlans = 1 << 4,
        HasRedirections = 1 << 5, HasDeadItems = 1 << 6, HasNowUnusedItems = 1 << 7;   // XLHP_* (17)

    public string? Identify(byte info, WalVersion version) => version >= WalVersion.Pg17
        ? (info & RecordHeader.RmgrInfoMask) switch
        {
            Prune => "PRUNE_ON_ACCESS",
            Vacuum => "PRUNE_VACUUM_SCAN",
            FreezePage => "PRUNE_VACUUM_CLEANUP",
            _ => Identify(info),
        }
        : Identify(info);

    private static void DescribePg16(DecodedRecord record, TextBuffer o)
    {
        var d = record.MainData;
        bool blockData = record.HasBlock(0) && record.Block(0).HasData;
        var b = blockData ? record.BlockData(0) : default;
        switch (record.Info & HeapInfo.OpMask)
        {
            case Prune or Vacuum or FreezePage when record.Version >= WalVersion.Pg17:
                DescribePruneAndFreeze(d, blockData, b, o);
                break;
            case Prune:
            {
                // xl_heap_prune (16): 0 snapshotConflictHorizon | 4 nredirected | 6 ndead | 8 isCatalogRel
                if (d.Length < 8)
                    return;
                int nredirected = U16(d, 4), ndead = U16(d, 6);
                o.Append("snapshotConflictHorizon: "u8).AppendUInt(U32(d, 0))
                    .Append(", nredirected: "u8).AppendUInt((uint)nredirected)
                    .Append(", ndead: "u8).AppendUInt((uint)ndead);
                if (!blockData)
                    break;
                int dead = 4 * nredirected, unused = dead + 2 * ndead;
                int nunused = (b.Length - unused) / 2;
                o.Append(", nunused: "u8).AppendInt(nunused)
                    .Append(", redirected:"u8).AppendRedirectArray(b, 0, nredirected)
                    .Append(", dead:"u8).AppendOffsetArray(b, dead, ndead)
                    .Append(", unused:"u8).AppendOffsetArray(b, unused, Math.Max(nunused, 0));
                break;
            }
            case Vacuum:
                // xl_heap_vacuum (16): 0 nunused; block 0: the offsets
                if (d.Length < 2)
                    return;
                o.Append("nunused: "u8).AppendUInt(U16(d, 0));
                if (blockData)
                    o.Append(", unused:"u8).AppendOffsetArray(b, 0, U16(d, 0));
                break;
            case FreezePage:
            {
                // xl_heap_freeze_page (16): 0 snapshotConflictHorizon | 4 nplans | 6 isCatalogRel;
                // block 0: the plans, then their offsets
                if (d.Length < 6)
                    return;
                int nplans = U16(d, 4);
                o.Append("snapshotConflictHorizon: "u8).AppendUInt(U32(d, 0)).Append(", nplans: "u8).AppendUInt((uint)nplans);
                if (blockData)
                    o.Append(", plans:"u8).AppendFreezePlans(b, 0, nplans, 12 * nplans);
                break;
            }
            case Visible:
                if (d.Length < 5)
                    return;
                o.Append("snapshotConflictHorizon: "u8).AppendUInt(U32(d, 0)).Append(", flags: "u8).AppendHex2(d[4]);
                break;
            case MultiInsert:
            {
                // xl_heap_multi_insert: 0 flags | 2 ntuples | 4 offsets[]
                if (d.Length < 4)
                    return;
                int ntuples = U16(d, 2);
                o.Append("ntuples: "u8).AppendInt(ntuples).Append(", flags: "u8).AppendHex2(d[0]);
                if (blockData && (record.Info & HeapInfo.InitPage) == 0)
                    o.Append(", offsets:"u8).AppendOffsetArray(d, 4, ntuples);
                break;
            }
            case LockUpdated:
                if (d.Length < 8)
                    return;
                o.Append("xmax: "u8).AppendUInt(U32(d, 0)).Append(", off: "u8).AppendUInt(U16(d, 4)).Append(", "u8)
                    .AppendInfobits("infobits", d[6]).Append(", flags: "u8).AppendHex2(d[7]);
                break;
            case NewCid:
                if (d.Length < 34)
                    return;
                o.Append("rel: "u8).AppendRelTriple(d, 16)
                    .Append(", tid: "u8).AppendUInt(((uint)U16(d, 28) << 16) | U16(d, 30))
                    .Append('/').AppendUInt(U16(d, 32))
                    .Append(", cmin: "u8).AppendUInt(U32(d, 4))
                    .Append(", cmax: "u8).AppendUInt(U32(d, 8))
                    .Append(", combo: "u8).AppendUInt(U32(d, 12));
                break;
        }
    }

    // 17's xl_heap_prune: 0 reason | 1 flags | 2 (unaligned) conflict xid when flagged. Block 0:
    // [nplans | pad | plans], [n | redirect pairs], [n | dead], [n | unused], then the plans' offsets.
    private static void DescribePruneAndFreeze(ReadOnlySpan<byte> d, bool blockData, ReadOnlySpan<byte> b, TextBuffer o)
    {
        if (d.Length < 2)
            return;
        byte flags = d[1];
        if ((flags & HasConflictHorizon) != 0 && d.Length >= 6)
            o.Append("snapshotConflictHorizon: "u8).AppendUInt(U32(d, 2));
        o.Append(", isCatalogRel: "u8).Append(TF((flags & IsCatalogRel) != 0));
        if (!blockData)
            return;
        int at = 0, nplans = 0, plans = 0, nredirected = 0, redirected = 0, ndead = 0, dead = 0, nunused = 0, unused = 0;
        if ((flags & HasFreezePlans) != 0 && at + 2 <= b.Length)
        {
            nplans = U16(b, at);
            plans = at + 4;
            at = plans + 12 * nplans;
        }
        if ((flags & HasRedirections) != 0 && at + 2 <= b.Length)
        {
            nredirected = U16(b, at);
            redirected = at + 2;
            at = redirected + 4 * nredirected;
        }
        if ((flags & HasDeadItems) != 0 && at + 2 <= b.Length)
        {
            ndead = U16(b, at);
            dead = at + 2;
            at = dead + 2 * ndead;
        }
        if ((flags & HasNowUnusedItems) != 0 && at + 2 <= b.Length)
        {
            nunused = U16(b, at);
            unused = at + 2;
            at = unused + 2 * nunused;
        }
        o.Append(", nplans: "u8).AppendUInt((uint)nplans)
            .Append(", nredirected: "u8).AppendUInt((uint)nredirected)
            .Append(", ndead: "u8).AppendUInt((uint)ndead)
            .Append(", nunused: "u8).AppendUInt((uint)nunused);
        if (nplans > 0)
            o.Append(", plans:"u8).AppendFreezePlans(b, plans, nplans, at);
        if (nredirected > 0)
            o.Append(", redirected:"u8).AppendRedirectArray(b, redirected, nredirected);
        if (ndead > 0)
            o.Append(", dead:"u8).AppendOffsetArray(b, dead, ndead);
        if (nunused > 0)
            o.Append(", unused:"u8).AppendOffsetArray(b, unused, nunused);
    }
}
