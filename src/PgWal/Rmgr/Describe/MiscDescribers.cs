// ReplicationOriginDescriber / GenericDescriber / LogicalMessageDescriber (replorigindesc.c,
// genericdesc.c, logicalmsgdesc.c, PostgreSQL 15). Quirks kept: replorigin_identify switches on
// the unmasked xl_info; generic_identify names every record "Generic"; a logical message prints
// its prefix as a C string and its payload as space-separated %02X bytes.
using PgWal.Diagnostics.Text;
using PgWal.Format;
using PgWal.Read;
using static PgWal.Rmgr.Describe.DescribeText;

namespace PgWal.Rmgr.Describe;

internal sealed class ReplicationOriginDescriber : IRecordDescriber
{
    private const byte Set = 0x00;
    private const byte Drop = 0x10;

    public string Name => "ReplicationOrigin";

    public string? Identify(byte info) => info switch
    {
        Set => "SET",
        Drop => "DROP",
        _ => null,
    };

    public void Describe(DecodedRecord record, TextBuffer o)
    {
        var d = record.MainData;
        switch (record.Info & RecordHeader.RmgrInfoMask)
        {
            case Set:
                // xl_replorigin_set: 0 remote_lsn | 8 u16 node_id | 10 bool force
                if (d.Length >= 11)
                {
                    o.Append("set "u8).AppendUInt(U16(d, 8))
                        .Append("; lsn "u8).AppendLsn(new Lsn(U64(d, 0)))
                        .Append("; force: "u8).AppendInt(d[10]);
                }
                break;
            case Drop:
                // xl_replorigin_drop: 0 u16 node_id
                if (d.Length >= 2)
                    o.Append("drop "u8).AppendUInt(U16(d, 0));
                break;
        }
    }
}

internal sealed class GenericDescriber : IRecordDescriber
{
    public string Name => "Generic";

    public string? Identify(byte info) => "Generic";

    public void Describe(DecodedRecord record, TextBuffer o)
    {
        // A sequence of { u16 offset; u16 length; byte data[length] } page deltas.
        var d = record.MainData;
        int pos = 0;
        while (pos < d.Length)
        {
            if (pos + 4 > d.Length)
                return;
            ushort offset = U16(d, pos), length = U16(d, pos + 2);
            pos += 4 + length;
            o.Append("offset "u8).AppendUInt(offset).Append(", length "u8).AppendUInt(length);
            if (pos < d.Length)
                o.Append("; "u8);
        }
    }
}

internal sealed class LogicalMessageDescriber : IRecordDescriber
{
    private const byte Message = 0x00;

    /// <summary><c>offsetof(xl_logical_message, message)</c>.</summary>
    private const int HeaderSize = 24;

    public string Name => "LogicalMessage";

    public string? Identify(byte info) => (info & RecordHeader.RmgrInfoMask) == Message ? "MESSAGE" : null;

    public void Describe(DecodedRecord record, TextBuffer o)
    {
        // xl_logical_message: 0 dbId | 4 bool transactional | 8 u64 prefix_size | 16 u64 message_size | 24 message
        var d = record.MainData;
        if ((record.Info & RecordHeader.RmgrInfoMask) != Message || d.Length < HeaderSize)
            return;
        ulong prefixSize = U64(d, 8), messageSize = U64(d, 16);
        var text = d[HeaderSize..];
        o.Append(d[4] != 0 ? "transactional"u8 : "non-transactional"u8)
            .Append(", prefix \""u8).AppendCString(text)
            .Append("\"; payload ("u8).AppendUInt(messageSize).Append(" bytes): "u8);
        if (prefixSize > (ulong)text.Length)
            return;
        var payload = text[(int)prefixSize..];
        int count = (int)Math.Min(messageSize, (ulong)payload.Length);
        for (int i = 0; i < count; i++)
        {
            if (i > 0)
                o.Append(' ');
            o.AppendHex(payload[i], 2);
        }
    }
}
