// GistDescriber: the Gist resource manager (gistdesc.c, PostgreSQL 15). PAGE_UPDATE and
// ASSIGN_LSN have no description.
using PgWal.Diagnostics.Text;
using PgWal.Format;
using PgWal.Read;
using static PgWal.Rmgr.Describe.DescribeText;

namespace PgWal.Rmgr.Describe;

internal sealed class GistDescriber : IRecordDescriber
{
    private const byte PageUpdate = 0x00;
    private const byte Delete = 0x10;
    private const byte PageReuse = 0x20;
    private const byte PageSplit = 0x30;
    private const byte PageDelete = 0x60;
    private const byte AssignLsn = 0x70;

    public string Name => "Gist";

    public string? Identify(byte info) => (info & RecordHeader.RmgrInfoMask) switch
    {
        PageUpdate => "PAGE_UPDATE",
        Delete => "DELETE",
        PageReuse => "PAGE_REUSE",
        PageSplit => "PAGE_SPLIT",
        PageDelete => "PAGE_DELETE",
        AssignLsn => "ASSIGN_LSN",
        _ => null,
    };

    public void Describe(DecodedRecord record, TextBuffer o)
    {
        var d = record.MainData;
        switch (record.Info & RecordHeader.RmgrInfoMask)
        {
            case PageReuse:
                // gistxlogPageReuse: 0 node | 12 block | 16 u64 latestRemovedFullXid
                // (16: snapshotConflictHorizon, then 24 isCatalogRel, printed from 17 on)
                if (d.Length < (record.Version >= WalVersion.Pg17 ? 25 : 24))
                    return;
                o.Append("rel "u8).AppendRelTriple(d, 0)
                    .Append("; blk "u8).AppendUInt(U32(d, 12))
                    .Append(record.Version >= WalVersion.Pg16 ? "; snapshotConflictHorizon "u8 : "; latestRemovedXid "u8).AppendFullXid(U64(d, 16));
                if (record.Version >= WalVersion.Pg17)
                    o.Append(", isCatalogRel "u8).Append(TF(d[24] != 0));
                break;
            case Delete:
                // gistxlogDelete: 0 latestRemovedXid | 4 u16 ntodelete (16: 6 isCatalogRel, printed from 17 on)
                if (d.Length < (record.Version >= WalVersion.Pg17 ? 7 : 6))
                    return;
                o.Append(record.Version >= WalVersion.Pg16 ? "delete: snapshotConflictHorizon "u8 : "delete: latestRemovedXid "u8).AppendUInt(U32(d, 0))
                    .Append(", nitems: "u8).AppendUInt(U16(d, 4));
                if (record.Version >= WalVersion.Pg17)
                    o.Append(", isCatalogRel "u8).Append(TF(d[6] != 0));
                break;
            case PageSplit:
                // gistxlogPageSplit: 0 origrlink | 8 u64 orignsn | 16 bool origleaf | 18 u16 npage
                // | 20 bool markfollowright
                if (d.Length < 20)
                    return;
                o.Append("page_split: splits to "u8).AppendInt(U16(d, 18)).Append(" pages"u8);
                break;
            case PageDelete:
                // gistxlogPageDelete: 0 u64 deleteXid | 8 u16 downlinkOffset
                if (d.Length < 10)
                    return;
                o.Append("deleteXid "u8).AppendFullXid(U64(d, 0))
                    .Append("; downlink "u8).AppendUInt(U16(d, 8));
                break;
        }
    }
}
