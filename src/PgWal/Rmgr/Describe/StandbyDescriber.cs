// StandbyDescriber: the Standby resource manager (standbydesc.c, PostgreSQL 15): LOCK,
// RUNNING_XACTS and INVALIDATIONS. The invalidation list itself is DescribeText.AppendInvalidations
// (standby_desc_invalidations), shared with the Transaction describer.
using PgWal.Diagnostics.Text;
using PgWal.Format;
using PgWal.Read;
using static PgWal.Rmgr.Describe.DescribeText;

namespace PgWal.Rmgr.Describe;

internal sealed class StandbyDescriber : IRecordDescriber
{
    private const byte Lock = 0x00;
    private const byte RunningXacts = 0x10;
    private const byte Invalidations = 0x20;

    public string Name => "Standby";

    public string? Identify(byte info) => (info & RecordHeader.RmgrInfoMask) switch
    {
        Lock => "LOCK",
        RunningXacts => "RUNNING_XACTS",
        Invalidations => "INVALIDATIONS",
        _ => null,
    };

    public void Describe(DecodedRecord record, TextBuffer o)
    {
        var d = record.MainData;
        switch (record.Info & RecordHeader.RmgrInfoMask)
        {
            case Lock:
            {
                // xl_standby_locks: 0 int nlocks | 4 locks[] of { xid, dbOid, relOid }
                if (d.Length < 4)
                    return;
                int nlocks = I32(d, 0);
                for (int i = 0; i < nlocks; i++)
                {
                    long at = 4 + (long)i * 12;
                    if (at + 12 > d.Length)
                        return;
                    int l = (int)at;
                    o.Append("xid "u8).AppendUInt(U32(d, l)).Append(" db "u8).AppendUInt(U32(d, l + 4))
                        .Append(" rel "u8).AppendUInt(U32(d, l + 8)).Append(' ');
                }
                break;
            }
            case RunningXacts:
            {
                // xl_running_xacts: 0 int xcnt | 4 int subxcnt | 8 bool subxid_overflow | 12 nextXid
                // | 16 oldestRunningXid | 20 latestCompletedXid | 24 xids[]
                if (d.Length < 24)
                    return;
                o.Append("nextXid "u8).AppendUInt(U32(d, 12))
                    .Append(" latestCompletedXid "u8).AppendUInt(U32(d, 20))
                    .Append(" oldestRunningXid "u8).AppendUInt(U32(d, 16));
                int xcnt = I32(d, 0);
                if (xcnt > 0)
                {
                    o.Append("; "u8).AppendInt(xcnt).Append(" xacts:"u8);
                    for (int i = 0; i < xcnt; i++)
                    {
                        long at = 24 + (long)i * 4;
                        if (at + 4 > d.Length)
                            return;
                        o.Append(' ').AppendUInt(U32(d, (int)at));
                    }
                }
                if (record.Version < WalVersion.Pg16)
                {
                    if (d[8] != 0)
                        o.Append("; subxid ovf"u8);
                    break;
                }
                // 16 and later: the overflow spelled out, then the subtransactions after the xids.
                if (d[8] != 0)
                    o.Append("; subxid overflowed"u8);
                int subxcnt = I32(d, 4);
                if (subxcnt > 0)
                {
                    o.Append("; "u8).AppendInt(subxcnt).Append(" subxacts:"u8);
                    for (int i = 0; i < subxcnt; i++)
                    {
                        long at = 24 + ((long)xcnt + i) * 4;
                        if (xcnt < 0 || at + 4 > d.Length)
                            return;
                        o.Append(' ').AppendUInt(U32(d, (int)at));
                    }
                }
                break;
            }
            case Invalidations:
                // xl_invalidations: 0 dbId | 4 tsId | 8 bool relcacheInitFileInval | 12 int nmsgs | 16 msgs[]
                if (d.Length < 16)
                    return;
                AppendInvalidations(o, d, 16, I32(d, 12), U32(d, 0), U32(d, 4), d[8] != 0);
                break;
        }
    }
}
