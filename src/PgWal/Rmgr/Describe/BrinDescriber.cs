// BrinDescriber: the BRIN resource manager (brindesc.c, PostgreSQL 15). The info is masked with
// XLOG_BRIN_OPMASK before describing, so INSERT+INIT / UPDATE+INIT describe like INSERT / UPDATE.
using PgWal.Diagnostics.Text;
using PgWal.Format;
using PgWal.Read;
using static PgWal.Rmgr.Describe.DescribeText;

namespace PgWal.Rmgr.Describe;

internal sealed class BrinDescriber : IRecordDescriber
{
    private const byte CreateIndex = 0x00;
    private const byte Insert = 0x10;
    private const byte Update = 0x20;
    private const byte SamePageUpdate = 0x30;
    private const byte RevmapExtend = 0x40;
    private const byte Desummarize = 0x50;
    private const byte OpMask = 0x70;
    private const byte InitPage = 0x80;

    public string Name => "BRIN";

    public string? Identify(byte info) => (info & RecordHeader.RmgrInfoMask) switch
    {
        CreateIndex => "CREATE_INDEX",
        Insert => "INSERT",
        Insert | InitPage => "INSERT+INIT",
        Update => "UPDATE",
        Update | InitPage => "UPDATE+INIT",
        SamePageUpdate => "SAMEPAGE_UPDATE",
        RevmapExtend => "REVMAP_EXTEND",
        Desummarize => "DESUMMARIZE",
        _ => null,
    };

    public void Describe(DecodedRecord record, TextBuffer o)
    {
        var d = record.MainData;
        switch (record.Info & OpMask)
        {
            case CreateIndex:
                // xl_brin_createidx: 0 pagesPerRange | 4 u16 version
                if (d.Length < 6)
                    return;
                o.Append('v').AppendInt(U16(d, 4)).Append(" pagesPerRange "u8).AppendUInt(U32(d, 0));
                break;
            case Insert:
                // xl_brin_insert: 0 heapBlk | 4 pagesPerRange | 8 offnum
                if (d.Length < 10)
                    return;
                o.Append("heapBlk "u8).AppendUInt(U32(d, 0))
                    .Append(" pagesPerRange "u8).AppendUInt(U32(d, 4))
                    .Append(" offnum "u8).AppendUInt(U16(d, 8));
                break;
            case Update:
                // xl_brin_update: 0 oldOffnum | 4 xl_brin_insert { 4 heapBlk | 8 pagesPerRange | 12 offnum }
                if (d.Length < 14)
                    return;
                o.Append("heapBlk "u8).AppendUInt(U32(d, 4))
                    .Append(" pagesPerRange "u8).AppendUInt(U32(d, 8))
                    .Append(" old offnum "u8).AppendUInt(U16(d, 0))
                    .Append(", new offnum "u8).AppendUInt(U16(d, 12));
                break;
            case SamePageUpdate:
                // xl_brin_samepage_update: 0 offnum
                if (d.Length < 2)
                    return;
                o.Append("offnum "u8).AppendUInt(U16(d, 0));
                break;
            case RevmapExtend:
                // xl_brin_revmap_extend: 0 targetBlk
                if (d.Length < 4)
                    return;
                o.Append("targetBlk "u8).AppendUInt(U32(d, 0));
                break;
            case Desummarize:
                // xl_brin_desummarize: 0 pagesPerRange | 4 heapBlk | 8 regOffset
                if (d.Length < 10)
                    return;
                o.Append("pagesPerRange "u8).AppendUInt(U32(d, 0))
                    .Append(", heapBlk "u8).AppendUInt(U32(d, 4))
                    .Append(", page offset "u8).AppendUInt(U16(d, 8));
                break;
        }
    }
}
