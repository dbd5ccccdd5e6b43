// KvResourceManager: PgWal.Kv's resource manager (custom id 140, "kv"). Redo is one generic step
// for every record type: each block's data is the list of page operations the writer applied, so
// replay applies them to the page when it is older than the record. Its records carry their
// transaction's xid and are replayed at that transaction's XACT COMMIT (RedoAtCommit), which with
// KvTransaction's no-steal rule makes a WriteBatch all-or-nothing across crashes.
using System.Buffers.Binary;
using PgWal.Diagnostics.Text;
using PgWal.Format;
using PgWal.Kv.Tree;
using PgWal.Read;
using PgWal.Recovery;

namespace PgWal.Kv;

/// <summary>Replays and describes PgWal.Kv's WAL records. Register it with the instance (KvStore does).</summary>
public sealed class KvResourceManager : IResourceManager
{
    /// <summary>The resource manager id PgWal.Kv writes (custom range; pg_waldump shows "custom140").</summary>
    public const byte RmgrId = 140;

    /// <summary>The one instance.</summary>
    public static KvResourceManager Instance { get; } = new();

    private KvResourceManager()
    {
    }

    /// <inheritdoc/>
    public byte Id => RmgrId;

    /// <inheritdoc/>
    public string Name => "kv";

    /// <inheritdoc/>
    public bool RedoAtCommit => true;

    /// <inheritdoc/>
    public string? Identify(byte info) => KvRecords.Name((byte)(info & RecordHeader.RmgrInfoMask));

    /// <inheritdoc/>
    public void Redo(RedoContext context, DecodedRecord record)
    {
        for (int id = 0; id <= record.MaxBlockId; id++)
        {
            if (!record.HasBlock(id))
                continue;
            var action = context.ReadBufferForRedo(record, id, out var buffer);
            if (action == RedoAction.NotFound)   // every kv page exists once committed: it was lost
                throw new InvalidDataException($"kv redo of the record at {record.Lsn}: block {record.Block(id).Block.Value} of relation {record.Block(id).Rel.RelNumber} is missing (beyond the end of its file, or never written), though the record changes it");
            using (buffer)
            {
                if (action != RedoAction.NeedsRedo)
                    continue;
                try
                {
                    PageOps.Apply(buffer.Page, record.BlockData(id));
                }
                catch (InvalidDataException e)
                {
                    throw new InvalidDataException($"kv redo of the record at {record.Lsn}, block {id} ({record.Block(id).Block.Value}): {e.Message}", e);
                }
                buffer.SetLsn(context.RecordEnd);
                buffer.MarkDirty();
            }
        }
    }

    /// <inheritdoc/>
    public void Describe(DecodedRecord record, TextBuffer output)
    {
        var d = record.MainData;
        byte info = (byte)(record.Info & RecordHeader.RmgrInfoMask);
        switch (info)
        {
            case KvRecords.Insert or KvRecords.Update or KvRecords.Delete when d.Length >= 2:
            {
                int keyLength = BinaryPrimitives.ReadUInt16LittleEndian(d);
                if (d.Length < 2 + keyLength)
                    break;
                output.Append("key "u8);
                AppendKey(output, d.Slice(2, keyLength));
                if (info != KvRecords.Delete && d.Length >= 6 + keyLength)
                    output.Append(", value "u8).AppendInt(BinaryPrimitives.ReadInt32LittleEndian(d[(2 + keyLength)..])).Append(" bytes"u8);
                return;
            }
            case KvRecords.Split or KvRecords.NewRoot when d.Length >= KvRecords.SplitDataSize:
                output.Append("level "u8).AppendUInt(BinaryPrimitives.ReadUInt16LittleEndian(d))
                    .Append(", left "u8).AppendUInt(BinaryPrimitives.ReadUInt32LittleEndian(d[2..]))
                    .Append(", right "u8).AppendUInt(BinaryPrimitives.ReadUInt32LittleEndian(d[6..]))
                    .Append(", first right slot "u8).AppendUInt(BinaryPrimitives.ReadUInt16LittleEndian(d[10..]))
                    .Append(info == KvRecords.Split ? ", parent "u8 : ", new root "u8).AppendUInt(BinaryPrimitives.ReadUInt32LittleEndian(d[12..]));
                return;
            case KvRecords.Unlink when d.Length >= KvRecords.UnlinkDataSize:
                output.Append("pages "u8).AppendUInt(BinaryPrimitives.ReadUInt16LittleEndian(d))
                    .Append(", top "u8).AppendUInt(BinaryPrimitives.ReadUInt32LittleEndian(d[2..]))
                    .Append(", parent "u8).AppendUInt(BinaryPrimitives.ReadUInt32LittleEndian(d[6..]));
                return;
            case KvRecords.Collapse when d.Length >= KvRecords.CollapseDataSize:
                output.Append("old root "u8).AppendUInt(BinaryPrimitives.ReadUInt32LittleEndian(d))
                    .Append(", new root "u8).AppendUInt(BinaryPrimitives.ReadUInt32LittleEndian(d[4..]))
                    .Append(", level "u8).AppendUInt(BinaryPrimitives.ReadUInt16LittleEndian(d[8..]));
                return;
            case KvRecords.OverflowWrite or KvRecords.OverflowFree when d.Length >= KvRecords.ChainDataSize:
                output.Append("first "u8).AppendUInt(BinaryPrimitives.ReadUInt32LittleEndian(d))
                    .Append(", pages "u8).AppendUInt(BinaryPrimitives.ReadUInt16LittleEndian(d[4..]));
                output.Append(", bytes "u8).AppendInt(BinaryPrimitives.ReadInt32LittleEndian(d[6..]));
                return;
            case KvRecords.Create when d.Length >= 4:
                output.Append("root "u8).AppendUInt(BinaryPrimitives.ReadUInt32LittleEndian(d));
                return;
        }
        output.Append("malformed main data ("u8).AppendInt(d.Length).Append(" bytes)"u8);
    }

    // Printable ASCII as is (quotes and backslashes escaped), other bytes as \xNN; long keys cut at 64.
    private static void AppendKey(TextBuffer output, ReadOnlySpan<byte> key)
    {
        output.Append('"');
        foreach (byte b in key[..Math.Min(key.Length, 64)])
        {
            if (b is >= 0x20 and < 0x7F and not (byte)'"' and not (byte)'\\')
                output.Append((char)b);
            else
                output.Append("\\x"u8).AppendHex(b, 2, upper: false);
        }
        output.Append('"');
        if (key.Length > 64)
            output.Append("... ("u8).AppendInt(key.Length).Append(" bytes)"u8);
    }
}
