// Heap2's pruning records of PostgreSQL 16 and later (heapdesc.c), and the list helpers 16's
// descriptions use (infobits_desc, array_desc of offsets, redirects and freeze plans). 16 prints
// the offsets PRUNE, VACUUM and FREEZE_PAGE carry (FREEZE_PAGE now holds freeze plans); 17 replaced
// the three by one prune-and-freeze record under three names (PRUNE_ON_ACCESS, PRUNE_VACUUM_SCAN,
// PRUNE_VACUUM_CLEANUP) whose block 0 holds optional sub-records.
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

    private static bool BlockData(DecodedRecord record, out ReadOnlySpan<byte> data)
    {
        bool has = record.HasBlock(0) && record.Block(0).HasData;
        data = has ? record.BlockData(0) : default;
        return has;
    }

    // xl_heap_prune (16): 0 snapshotConflictHorizon | 4 nredirected | 6 ndead | 8 isCatalogRel;
    // block 0: redirect pairs, dead, then unused offsets to the end.
    private static void DescribePrune16(DecodedRecord record, TextBuffer o)
    {
        var d = record.MainData;
        if (d.Length < 8)
            return;
        int nredirected = U16(d, 4), ndead = U16(d, 6);
        o.Append("snapshotConflictHorizon: "u8).AppendUInt(U32(d, 0))
            .Append(", nredirected: "u8).AppendUInt((uint)nredirected)
            .Append(", ndead: "u8).AppendUInt((uint)ndead);
        if (!BlockData(record, out var b))
            return;
        int dead = 4 * nredirected, unused = dead + 2 * ndead;
        int nunused = (b.Length - unused) / 2;
        o.Append(", nunused: "u8).AppendInt(nunused)
            .Append(", redirected:"u8).AppendRedirectArray(b, 0, nredirected)
            .Append(", dead:"u8).AppendOffsetArray(b, dead, ndead)
            .Append(", unused:"u8).AppendOffsetArray(b, unused, Math.Max(nunused, 0));
    }

    // xl_heap_vacuum (16): 0 nunused; block 0: the offsets.
    private static void DescribeVacuum16(DecodedRecord record, TextBuffer o)
    {
        var d = record.MainData;
        if (d.Length < 2)
            return;
        o.Append("nunused: "u8).AppendUInt(U16(d, 0));
        if (BlockData(record, out var b))
            o.Append(", unused:"u8).AppendOffsetArray(b, 0, U16(d, 0));
    }

    // xl_heap_freeze_page (16): 0 snapshotConflictHorizon | 4 nplans | 6 isCatalogRel; block 0:
    // the plans, then their offsets.
    private static void DescribeFreezePage16(DecodedRecord record, TextBuffer o)
    {
        var d = record.MainData;
        if (d.Length < 6)
            return;
        int nplans = U16(d, 4);
        o.Append("snapshotConflictHorizon: "u8).AppendUInt(U32(d, 0)).Append(", nplans: "u8).AppendUInt((uint)nplans);
        if (BlockData(record, out var b))
            o.Append(", plans:"u8).AppendFreezePlans(b, 0, nplans, 12 * nplans);
    }

    // 17's xl_heap_prune: 0 reason | 1 flags | 2 (unaligned) conflict xid when flagged. Block 0:
    // [nplans | pad | plans], [n | redirect pairs], [n | dead], [n | unused], then the plans' offsets.
    private static void DescribePruneAndFreeze(DecodedRecord record, TextBuffer o)
    {
        var d = record.MainData;
        bool blockData = BlockData(record, out var b);
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
