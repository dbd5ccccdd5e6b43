// ClogDescriber / CommitTsDescriber / MultiXactDescriber: the SLRU-backed resource managers
// (clogdesc.c, committsdesc.c, mxactdesc.c, PostgreSQL 15). Quirk kept: commit_ts_identify switches
// on the unmasked xl_info, so a CommitTs record with any low info bit set is "UNKNOWN".
using PgWal.Diagnostics.Text;
using PgWal.Format;
using PgWal.Read;
using static PgWal.Rmgr.Describe.DescribeText;

namespace PgWal.Rmgr.Describe;

internal sealed class ClogDescriber : IRecordDescriber
{
    private const byte ZeroPage = 0x00;
    private const byte Truncate = 0x10;

    public string Name => "CLOG";

    public string? Identify(byte info) => (info & RecordHeader.RmgrInfoMask) switch
    {
        ZeroPage => "ZEROPAGE",
        Truncate => "TRUNCATE",
        _ => null,
    };

    public void Describe(DecodedRecord record, TextBuffer o)
    {
        var d = record.MainData;
        switch (record.Info & RecordHeader.RmgrInfoMask)
        {
            case ZeroPage:
                // int pageno
                if (d.Length >= 4)
                    o.Append("page "u8).AppendInt(I32(d, 0));
                break;
            case Truncate:
                // xl_clog_truncate: 0 int pageno | 4 oldestXact | 8 oldestXactDb
                if (d.Length >= 8)
                    o.Append("page "u8).AppendInt(I32(d, 0)).Append("; oldestXact "u8).AppendUInt(U32(d, 4));
                break;
        }
    }
}

internal sealed class CommitTsDescriber : IRecordDescriber
{
    private const byte ZeroPage = 0x00;
    private const byte Truncate = 0x10;

    public string Name => "CommitTs";

    public string? Identify(byte info) => info switch
    {
        ZeroPage => "ZEROPAGE",
        Truncate => "TRUNCATE",
        _ => null,
    };

    public void Describe(DecodedRecord record, TextBuffer o)
    {
        var d = record.MainData;
        switch (record.Info & RecordHeader.RmgrInfoMask)
        {
            case ZeroPage:
                // int pageno
                if (d.Length >= 4)
                    o.AppendInt(I32(d, 0));
                break;
            case Truncate:
                // xl_commit_ts_truncate: 0 int pageno | 4 oldestXid
                if (d.Length >= 8)
                    o.Append("pageno "u8).AppendInt(I32(d, 0)).Append(", oldestXid "u8).AppendUInt(U32(d, 4));
                break;
        }
    }
}

internal sealed class MultiXactDescriber : IRecordDescriber
{
    private const byte ZeroOffPage = 0x00;
    private const byte ZeroMemPage = 0x10;
    private const byte CreateId = 0x20;
    private const byte TruncateId = 0x30;

    public string Name => "MultiXact";

    public string? Identify(byte info) => (info & RecordHeader.RmgrInfoMask) switch
    {
        ZeroOffPage => "ZERO_OFF_PAGE",
        ZeroMemPage => "ZERO_MEM_PAGE",
        CreateId => "CREATE_ID",
        TruncateId => "TRUNCATE_ID",
        _ => null,
    };

    public void Describe(DecodedRecord record, TextBuffer o)
    {
        var d = record.MainData;
        switch (record.Info & RecordHeader.RmgrInfoMask)
        {
            case ZeroOffPage:
            case ZeroMemPage:
                // int pageno
                if (d.Length >= 4)
                    o.AppendInt(I32(d, 0));
                break;
            case CreateId:
            {
                // xl_multixact_create: 0 mid | 4 moff | 8 int32 nmembers | 12 members[] { xid; int status }
                if (d.Length < 12)
                    return;
                int nmembers = I32(d, 8);
                o.AppendUInt(U32(d, 0)).Append(" offset "u8).AppendUInt(U32(d, 4))
                    .Append(" nmembers "u8).AppendInt(nmembers).Append(": "u8);
                for (int i = 0; i < nmembers; i++)
                {
                    long at = 12 + (long)i * 8;
                    if (at + 8 > d.Length)
                        return;
                    AppendMember(o, U32(d, (int)at), I32(d, (int)at + 4));
                }
                break;
            }
            case TruncateId:
                // xl_multixact_truncate: 0 oldestMultiDB | 4 startTruncOff | 8 endTruncOff
                // | 12 startTruncMemb | 16 endTruncMemb
                if (d.Length < 20)
                    return;
                o.Append("offsets ["u8).AppendUInt(U32(d, 4)).Append(", "u8).AppendUInt(U32(d, 8))
                    .Append("), members ["u8).AppendUInt(U32(d, 12)).Append(", "u8).AppendUInt(U32(d, 16))
                    .Append(')');
                break;
        }
    }

    /// <summary>out_member(): "XID (status) ".</summary>
    private static void AppendMember(TextBuffer o, uint xid, int status)
    {
        o.AppendUInt(xid).Append(' ');
        o.Append(status switch
        {
            0 => "(keysh) "u8,
            1 => "(sh) "u8,
            2 => "(fornokeyupd) "u8,
            3 => "(forupd) "u8,
            4 => "(nokeyupd) "u8,
            5 => "(upd) "u8,
            _ => "(unk) "u8,
        });
    }
}
