// RecordLineFormatter: one record as pg_waldump prints it (pg_waldump.c XLogDumpDisplayRecord and
// xlogdesc.c XLogRecGetBlockRefInfo), appended to a TextBuffer:
//   rmgr: %-11s len (rec/tot): %6u/%6u, tx: %10u, lsn: %X/%08X, prev %X/%08X, desc: TYPE <desc><blkrefs>\n
// With detailed block references (-b) each block goes on its own tab-indented line.
using PgWal.Diagnostics.Text;
using PgWal.Format;
using PgWal.Read;
using PgWal.Rmgr;

namespace PgWal.Diagnostics.Dump;

/// <summary>Formats records exactly like pg_waldump 15.</summary>
public sealed class RecordLineFormatter(RecordDescribers describers)
{
    private static readonly string[] s_forkNames = ["main", "fsm", "vm", "init"];

    // UTF-8 of "rmgr: <name padded to 11> len (rec/tot): " per rmgr, and of "desc: <TYPE> " per
    // (rmgr, info): built on first use, so each line copies bytes instead of formatting names.
    private readonly byte[]?[] _prefixes = new byte[]?[256];
    private readonly byte[]?[] _typeNames = new byte[]?[256 * 256];
    private WalVersion _typeNamesVersion;   // the version _typeNames were named for (names differ between versions)

    /// <summary>Appends the record's line(s), ending with a newline.</summary>
    public void Append(DecodedRecord record, TextBuffer o, bool detailedBlocks)
    {
        var describer = describers[record.RmgrId];
        o.Append(_prefixes[record.RmgrId] ??= Prefix(describer))
            .AppendUInt(record.RecordLength, 6)
            .Append('/').AppendUInt(record.TotalLength, 6)
            .Append(", tx: "u8).AppendUInt(record.Xid, 10)
            .Append(", lsn: "u8).AppendLsn(record.Lsn, padded: true)
            .Append(", prev "u8).AppendLsn(record.Prev, padded: true)
            .Append(", "u8);
        if (record.Version != _typeNamesVersion)
        {
            Array.Clear(_typeNames);
            _typeNamesVersion = record.Version;
        }
        o.Append(_typeNames[record.RmgrId * 256 + record.Info] ??= TypeName(describer, record.Info, record.Version));
        describer.Describe(record, o);
        AppendBlockReferences(record, o, detailedBlocks);
    }

    private static byte[] Prefix(IRecordDescriber describer)
    {
        var t = new TextBuffer(64);
        t.Append("rmgr: "u8).AppendPadded(describer.Name, -11).Append(" len (rec/tot): "u8);
        return t.Written.ToArray();
    }

    private static byte[] TypeName(IRecordDescriber describer, byte info, WalVersion version)
    {
        var t = new TextBuffer(64);
        string? id = describer.Identify(info, version);
        if (id is null)
            t.Append("desc: UNKNOWN ("u8).AppendHex((uint)(info & ~RecordHeader.InfoMask), upper: false).Append(") "u8);
        else
            t.Append("desc: "u8).Append(id).Append(' ');
        return t.Written.ToArray();
    }

    private static void AppendBlockReferences(DecodedRecord record, TextBuffer o, bool detailed)
    {
        if (detailed)
            o.Append('\n');
        for (int id = 0; id <= record.MaxBlockId; id++)
        {
            if (!record.HasBlock(id))
                continue;
            ref readonly var b = ref record.Block(id);
            string fork = (int)b.Fork < s_forkNames.Length ? s_forkNames[(int)b.Fork] : "?";
            if (detailed)
            {
                o.Append("\tblkref #"u8).AppendInt(id).Append(": rel "u8).AppendUInt(b.Rel.SpcOid).Append('/')
                    .AppendUInt(b.Rel.DbOid).Append('/').AppendUInt(b.Rel.RelNumber)
                    .Append(" fork "u8).Append(fork).Append(" blk "u8).AppendUInt(b.Block.Value);
                if (b.HasImage)
                {
                    o.Append(" (FPW"u8).Append(b.ApplyImage ? ""u8 : " for WAL verification"u8)
                        .Append("); hole: offset: "u8).AppendUInt(b.HoleOffset)
                        .Append(", length: "u8).AppendUInt(b.HoleLength);
                    if (b.IsImageCompressed)
                    {
                        var f = b.ImageFlags;
                        var method = (f & ImageFlags.CompressPglz) != 0 ? "pglz"u8
                            : (f & ImageFlags.CompressLz4) != 0 ? "lz4"u8
                            : (f & ImageFlags.CompressZstd) != 0 ? "zstd"u8 : "unknown"u8;
                        // uint arithmetic as in C (%u of an int expression).
                        uint saved = unchecked((uint)(BlockReferenceFormat.DataPageSize - b.HoleLength - b.ImageLength));
                        o.Append(", compression saved: "u8).AppendUInt(saved).Append(", method: "u8).Append(method);
                    }
                }
                o.Append('\n');
            }
            else
            {
                o.Append(", blkref #"u8).AppendInt(id).Append(": rel "u8).AppendUInt(b.Rel.SpcOid).Append('/')
                    .AppendUInt(b.Rel.DbOid).Append('/').AppendUInt(b.Rel.RelNumber);
                if (b.Fork != ForkNumber.Main)
                    o.Append(" fork "u8).Append(fork);
                o.Append(" blk "u8).AppendUInt(b.Block.Value);
                if (b.HasImage)
                    o.Append(b.ApplyImage ? " FPW"u8 : " FPW for WAL verification"u8);
            }
        }
        if (!detailed)
            o.Append('\n');
    }
}
