// TransactionDescriber: the Transaction resource manager (xactdesc.c, PostgreSQL 15): COMMIT /
// ABORT (and their _PREPARED forms) parsed like ParseCommitRecord / ParseAbortRecord, PREPARE
// parsed like ParsePrepareRecord (the two-phase state file), ASSIGNMENT and INVALIDATION.
// Truncated main data ends the description early instead of reading past the record.
using PgWal.Diagnostics.Text;
using PgWal.Format;
using PgWal.Read;
using static PgWal.Rmgr.Describe.DescribeText;

namespace PgWal.Rmgr.Describe;

internal sealed class TransactionDescriber : IRecordDescriber
{
    // xl_xact_xinfo bits (xact.h).
    private const uint HasDbInfo = 1u << 0;
    private const uint HasSubxacts = 1u << 1;
    private const uint HasRelFileNodes = 1u << 2;
    private const uint HasInvals = 1u << 3;
    private const uint HasTwoPhase = 1u << 4;
    private const uint HasOrigin = 1u << 5;
    private const uint HasGid = 1u << 7;
    private const uint HasDroppedStats = 1u << 8;
    private const uint ApplyFeedback = 1u << 29;
    private const uint UpdateRelcacheFile = 1u << 30;
    private const uint ForceSyncCommit = 1u << 31;

    /// <summary><c>sizeof(xl_xact_stats_item)</c>: int kind, Oid dboid, Oid objoid.</summary>
    // xl_xact_stats_item: int kind | Oid dboid | objid (uint32 until 17; two uint32 halves of a uint64 from 18).
    private static int StatsItemSize(WalVersion version) => version >= WalVersion.Pg18 ? 16 : 12;

    /// <summary><c>sizeof(xl_xact_prepare)</c>, already MAXALIGNed.</summary>
    private const int PrepareHeaderSize = 72;

    /// <summary><c>GIDSIZE</c>: the parsed GID buffer.</summary>
    private const int GidSize = 200;

    public string Name => "Transaction";

    public string? Identify(byte info) => (info & XactInfo.OpMask) switch
    {
        XactInfo.Commit => "COMMIT",
        XactInfo.Prepare => "PREPARE",
        XactInfo.Abort => "ABORT",
        XactInfo.CommitPrepared => "COMMIT_PREPARED",
        XactInfo.AbortPrepared => "ABORT_PREPARED",
        XactInfo.Assignment => "ASSIGNMENT",
        XactInfo.Invalidations => "INVALIDATION",
        _ => null,
    };

    public void Describe(DecodedRecord record, TextBuffer o)
    {
        var d = record.MainData;
        switch (record.Info & XactInfo.OpMask)
        {
            case XactInfo.Commit:
            case XactInfo.CommitPrepared:
                DescribeCompletion(d, record.Info, record.Origin, commit: true, record.Version, o);
                break;
            case XactInfo.Abort:
            case XactInfo.AbortPrepared:
                DescribeCompletion(d, record.Info, record.Origin, commit: false, record.Version, o);
                break;
            case XactInfo.Prepare:
                DescribePrepare(d, record.Origin, record.Version, o);
                break;
            case XactInfo.Assignment:
                // xl_xact_assignment: 0 xtop | 4 int nsubxacts | 8 xsub[]
                if (d.Length < 8)
                    return;
                o.Append("xtop "u8).AppendUInt(U32(d, 0)).Append(": subxacts:"u8);
                AppendXids(o, d, 8, I32(d, 4));
                break;
            case XactInfo.Invalidations:
                // xl_xact_invals: 0 int nmsgs | 4 msgs[]
                if (d.Length < 4)
                    return;
                AppendInvalidations(o, d, 4, I32(d, 0), 0, 0, false);
                break;
        }
    }

    /// <summary>
    /// For a commit or abort record (plain or prepared): whether it commits, the transaction it
    /// ends (the prepared transaction's <c>twophase_xid</c> for the prepared variants, as recovery
    /// targets use it) and its <c>xact_time</c>. False for other records and truncated ones.
    /// </summary>
    internal static bool TryReadCompletion(DecodedRecord record, out bool commit, out uint xid, out long time)
    {
        commit = false;
        xid = 0;
        time = 0;
        if (record.RmgrId != RmgrIds.Transaction)
            return false;
        byte op = (byte)(record.Info & XactInfo.OpMask);
        if (op is not (XactInfo.Commit or XactInfo.CommitPrepared or XactInfo.Abort or XactInfo.AbortPrepared))
            return false;
        var d = record.MainData;
        if (d.Length < SmallXlogPayloads.XactMinimalSize)
            return false;
        commit = op is XactInfo.Commit or XactInfo.CommitPrepared;
        time = System.Buffers.Binary.BinaryPrimitives.ReadInt64LittleEndian(d);
        xid = record.Xid;
        if (op is XactInfo.CommitPrepared or XactInfo.AbortPrepared)
        {
            var p = new Parsed();
            if (!Parse(d, record.Info, commit, record.Version, ref p) && p.TwoPhaseXid == 0)
                return false;
            xid = p.TwoPhaseXid;
        }
        return true;
    }

    /// <summary>The pieces ParseCommitRecord / ParseAbortRecord find: counts and where arrays start.</summary>
    private ref struct Parsed
    {
        public uint Xinfo;
        public uint DbId, TsId;
        public int NSubxacts, SubxactsAt;
        public int NRels, RelsAt;
        public int NStats, StatsAt;
        public int NMsgs, MsgsAt;
        public uint TwoPhaseXid;
        public ulong OriginLsn;
        public long OriginTimestamp;
    }

    // Walks the optional sections in xinfo order; false when the data ends inside one (the sections
    // parsed so far stay usable, later ones are treated as absent).
    private static bool Parse(ReadOnlySpan<byte> d, byte info, bool commit, WalVersion version, ref Parsed p)
    {
        int pos = SmallXlogPayloads.XactMinimalSize;
        if ((info & XactInfo.HasInfo) != 0)
        {
            if (!Fits(d, pos, 4))
                return false;
            p.Xinfo = U32(d, pos);
            pos += 4;
        }
        if ((p.Xinfo & HasDbInfo) != 0)
        {
            if (!Fits(d, pos, 8))
                return false;
            p.DbId = U32(d, pos);
            p.TsId = U32(d, pos + 4);
            pos += 8;
        }
        if ((p.Xinfo & HasSubxacts) != 0 && !Section(d, ref pos, 4, out p.NSubxacts, out p.SubxactsAt))
            return false;
        if ((p.Xinfo & HasRelFileNodes) != 0 && !Section(d, ref pos, RelFileNodeSize, out p.NRels, out p.RelsAt))
            return false;
        if ((p.Xinfo & HasDroppedStats) != 0 && !Section(d, ref pos, StatsItemSize(version), out p.NStats, out p.StatsAt))
            return false;
        // ParseAbortRecord has no invalidation section.
        if (commit && (p.Xinfo & HasInvals) != 0 && !Section(d, ref pos, InvalidationMessageSize, out p.NMsgs, out p.MsgsAt))
            return false;
        if ((p.Xinfo & HasTwoPhase) != 0)
        {
            if (!Fits(d, pos, 4))
                return false;
            p.TwoPhaseXid = U32(d, pos);
            pos += 4;
            if ((p.Xinfo & HasGid) != 0)
            {
                int nul = d[pos..].IndexOf((byte)0);
                if (nul < 0)
                    return false;
                pos += nul + 1;
            }
        }
        if ((p.Xinfo & HasOrigin) != 0)
        {
            if (!Fits(d, pos, 16))
                return false;
            p.OriginLsn = U64(d, pos);
            p.OriginTimestamp = I64(d, pos + 8);
        }
        return true;
    }

    private static bool Fits(ReadOnlySpan<byte> d, int pos, long length) => pos >= 0 && pos + length <= d.Length;

    // An "int count; T items[count]" section; the count is kept only when all items are present.
    private static bool Section(ReadOnlySpan<byte> d, ref int pos, int itemSize, out int count, out int at)
    {
        count = 0;
        at = 0;
        if (!Fits(d, pos, 4))
            return false;
        int n = I32(d, pos);
        if (n < 0 || !Fits(d, pos + 4, (long)n * itemSize))
            return false;
        count = n;
        at = pos + 4;
        pos = at + n * itemSize;
        return true;
    }

    private static void DescribeCompletion(ReadOnlySpan<byte> d, byte info, ushort origin, bool commit, WalVersion version, TextBuffer o)
    {
        if (d.Length < SmallXlogPayloads.XactMinimalSize)
            return;
        var p = default(Parsed);
        bool complete = Parse(d, info, commit, version, ref p);

        if (p.TwoPhaseXid != 0)
            o.AppendUInt(p.TwoPhaseXid).Append(": "u8);
        o.AppendTimestamp(I64(d, 0));

        AppendRelations(o, "; rels:"u8, d, p.RelsAt, p.NRels, version);
        if (p.NSubxacts > 0)
        {
            o.Append("; subxacts:"u8);
            AppendXids(o, d, p.SubxactsAt, p.NSubxacts);
        }
        if (commit)
        {
            AppendStats(o, "; dropped stats:"u8, d, p.StatsAt, p.NStats, version);
            AppendInvalidations(o, d, p.MsgsAt, p.NMsgs, p.DbId, p.TsId, (p.Xinfo & UpdateRelcacheFile) != 0);
            if ((p.Xinfo & ApplyFeedback) != 0)
                o.Append("; apply_feedback"u8);
            if ((p.Xinfo & ForceSyncCommit) != 0)
                o.Append("; sync"u8);
            if (complete && (p.Xinfo & HasOrigin) != 0)
                AppendOrigin(o, origin, p.OriginLsn, p.OriginTimestamp);
        }
        else
        {
            if (complete && (p.Xinfo & HasOrigin) != 0)
                AppendOrigin(o, origin, p.OriginLsn, p.OriginTimestamp);
            AppendStats(o, "; dropped stats:"u8, d, p.StatsAt, p.NStats, version);
        }
    }

    private static void AppendOrigin(TextBuffer o, ushort origin, ulong lsn, long timestamp)
        => o.Append("; origin: node "u8).AppendUInt(origin)
            .Append(", lsn "u8).AppendLsn(new Lsn(lsn))
            .Append(", at "u8).AppendTimestamp(timestamp);

    // xl_xact_prepare: 0 magic | 4 total_len | 8 xid | 12 database | 16 prepared_at | 24 owner
    // | 28 nsubxacts | 32 ncommitrels | 36 nabortrels | 40 ncommitstats | 44 nabortstats
    // | 48 ninvalmsgs | 52 bool initfileinval | 54 u16 gidlen | 56 origin_lsn | 64 origin_timestamp;
    // then gid, subxacts, commit rels, abort rels, commit stats, abort stats, invals, each MAXALIGNed.
    private static void DescribePrepare(ReadOnlySpan<byte> d, ushort origin, WalVersion version, TextBuffer o)
    {
        if (d.Length < PrepareHeaderSize)
            return;
        int nsubxacts = I32(d, 28), ncommitrels = I32(d, 32), nabortrels = I32(d, 36);
        int ncommitstats = I32(d, 40), nabortstats = I32(d, 44), ninvalmsgs = I32(d, 48);
        int gidlen = U16(d, 54);

        long pos = PrepareHeaderSize;
        var gid = d[(int)pos..];
        gid = gid[..Math.Min(gid.Length, Math.Min(gidlen, GidSize))];
        pos += MaxAlign(gidlen);
        long subxactsAt = Advance(ref pos, nsubxacts, 4);
        long commitRelsAt = Advance(ref pos, ncommitrels, RelFileNodeSize);
        long abortRelsAt = Advance(ref pos, nabortrels, RelFileNodeSize);
        long commitStatsAt = Advance(ref pos, ncommitstats, StatsItemSize(version));
        long abortStatsAt = Advance(ref pos, nabortstats, StatsItemSize(version));
        long msgsAt = Advance(ref pos, ninvalmsgs, InvalidationMessageSize);

        o.Append("gid "u8).AppendCString(gid).Append(": "u8).AppendTimestamp(I64(d, 16));
        AppendRelations(o, "; rels(commit):"u8, d, Clamp(commitRelsAt), ncommitrels, version);
        AppendRelations(o, "; rels(abort):"u8, d, Clamp(abortRelsAt), nabortrels, version);
        AppendStats(o, "; commit dropped stats:"u8, d, Clamp(commitStatsAt), ncommitstats, version);
        AppendStats(o, "; abort dropped stats:"u8, d, Clamp(abortStatsAt), nabortstats, version);
        if (nsubxacts > 0)
        {
            o.Append("; subxacts:"u8);
            AppendXids(o, d, Clamp(subxactsAt), nsubxacts);
        }
        // ParsePrepareRecord never sets tsId: the init-file note always says "tsid 0".
        AppendInvalidations(o, d, Clamp(msgsAt), ninvalmsgs, U32(d, 12), 0, d[52] != 0);
        if (origin != BlockReferenceFormat.InvalidOrigin)
            AppendOrigin(o, origin, U64(d, 56), I64(d, 64));
    }

    private static long MaxAlign(long length) => (length + 7) & ~7L;

    private static long Advance(ref long pos, int count, int itemSize)
    {
        long at = pos;
        pos += MaxAlign((long)count * itemSize);
        return at;
    }

    // Offsets beyond the data become -1, which every array printer treats as "nothing present".
    private static int Clamp(long offset) => offset is >= 0 and <= int.MaxValue ? (int)offset : -1;

    /// <summary>xact_desc_relations(): "; LABEL:" then " PATH" per relation (main fork).</summary>
    private static void AppendRelations(TextBuffer o, ReadOnlySpan<byte> label, ReadOnlySpan<byte> d, int at, int nrels, WalVersion version)
    {
        if (nrels <= 0)
            return;
        o.Append(label);
        for (int i = 0; i < nrels; i++)
        {
            long r = at + (long)i * RelFileNodeSize;
            if (at < 0 || r + RelFileNodeSize > d.Length)
                return;
            o.Append(' ').AppendRelPath(d, (int)r, 0, version);
        }
    }

    /// <summary>xact_desc_stats(): "; [LABEL ]dropped stats:" then " kind/dboid/objoid" per item.</summary>
    private static void AppendStats(TextBuffer o, ReadOnlySpan<byte> label, ReadOnlySpan<byte> d, int at, int nstats, WalVersion version)
    {
        if (nstats <= 0)
            return;
        o.Append(label);
        for (int i = 0; i < nstats; i++)
        {
            int size = StatsItemSize(version);
            long s = at + (long)i * size;
            if (at < 0 || s + size > d.Length)
                return;
            o.Append(' ').AppendInt(I32(d, (int)s)).Append('/').AppendUInt(U32(d, (int)s + 4)).Append('/');
            if (size == 16)
                o.AppendUInt(((ulong)U32(d, (int)s + 12) << 32) | U32(d, (int)s + 8));
            else
                o.AppendUInt(U32(d, (int)s + 8));
        }
    }

    /// <summary>" %u" per transaction id, stopping where the data ends.</summary>
    private static void AppendXids(TextBuffer o, ReadOnlySpan<byte> d, int at, int count)
    {
        for (int i = 0; i < count; i++)
        {
            long x = at + (long)i * 4;
            if (at < 0 || x + 4 > d.Length)
                return;
            o.Append(' ').AppendUInt(U32(d, (int)x));
        }
    }
}
