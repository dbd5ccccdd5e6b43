// Small fixed payloads of XLOG and Transaction records (pg_control.h, xlog_internal.h, xact.h):
//   xl_restore_point (72 B): 0 TimestampTz rp_time | 8 char rp_name[64] (NUL-terminated)
//   xl_end_of_recovery (16 B in 15/16): 0 TimestampTz end_time | 8 u32 ThisTimeLineID | 12 u32 PrevTimeLineID
//   xl_overwrite_contrecord (16 B): 0 u64 overwritten_lsn | 8 TimestampTz overwrite_time
//   xl_xact_commit / xl_xact_abort minimal form (8 B): 0 TimestampTz xact_time
//   xl_logical_message header (24 B): 0 Oid dbId | 4 bool transactional | 8 u64 prefix_size | 16 u64 message_size
using System.Buffers.Binary;
using System.Text;

namespace PgWal.Format;

/// <summary>Layouts of the small XLOG/XACT payloads PgWal writes and describes.</summary>
public static class SmallXlogPayloads
{
    /// <summary><c>sizeof(xl_restore_point)</c>.</summary>
    public const int RestorePointSize = 72;

    /// <summary><c>MAXFNAMELEN</c>: restore point names are at most 63 bytes plus NUL.</summary>
    public const int RestorePointNameSize = 64;

    /// <summary><c>MinSizeOfXactCommit</c> / <c>MinSizeOfXactAbort</c>: the timestamp.</summary>
    public const int XactMinimalSize = 8;

    /// <summary><c>sizeof(xl_overwrite_contrecord)</c>.</summary>
    public const int OverwriteContRecordSize = 16;

    /// <summary>Encodes <c>xl_overwrite_contrecord</c>: overwritten_lsn, overwrite_time.</summary>
    public static void WriteOverwriteContRecord(Span<byte> destination, Lsn overwritten, long timestampTz)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(destination, overwritten.Value);
        BinaryPrimitives.WriteInt64LittleEndian(destination[8..], timestampTz);
    }

    /// <summary><c>SizeOfLogicalMessage</c>: the header before the prefix and message.</summary>
    public const int LogicalMessageHeaderSize = 24;

    /// <summary>Encodes the <c>xl_logical_message</c> header.</summary>
    public static void WriteLogicalMessageHeader(Span<byte> destination, uint databaseId, bool transactional, ulong prefixSize, ulong messageSize)
    {
        destination[..LogicalMessageHeaderSize].Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(destination, databaseId);
        destination[4] = transactional ? (byte)1 : (byte)0;
        BinaryPrimitives.WriteUInt64LittleEndian(destination[8..], prefixSize);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[16..], messageSize);
    }

    /// <summary>Encodes <c>xl_restore_point</c>; the name must fit in 63 UTF-8 bytes.</summary>
    public static void WriteRestorePoint(Span<byte> destination, long timestampTz, string name)
    {
        int nameBytes = Encoding.UTF8.GetByteCount(name);
        if (nameBytes >= RestorePointNameSize)
            throw new ArgumentException($"value too long for restore point (maximum {RestorePointNameSize - 1} characters)", nameof(name));
        destination[..RestorePointSize].Clear();
        BinaryPrimitives.WriteInt64LittleEndian(destination, timestampTz);
        Encoding.UTF8.GetBytes(name, destination[8..]);
    }

    /// <summary>Decodes <c>xl_restore_point</c> (its time and NUL-terminated name); false when too short.</summary>
    public static bool TryReadRestorePoint(ReadOnlySpan<byte> data, out long timestampTz, out string name)
    {
        timestampTz = 0;
        name = "";
        if (data.Length < RestorePointSize)
            return false;
        timestampTz = BinaryPrimitives.ReadInt64LittleEndian(data);
        var raw = data.Slice(8, RestorePointNameSize);
        int nul = raw.IndexOf((byte)0);
        name = Encoding.UTF8.GetString(nul < 0 ? raw : raw[..nul]);
        return true;
    }

    /// <summary><c>sizeof(xl_end_of_recovery)</c> in 15.</summary>
    public const int EndOfRecoverySize = 16;

    /// <summary>Decodes <c>xl_end_of_recovery</c>; false when too short.</summary>
    public static bool TryReadEndOfRecovery(ReadOnlySpan<byte> data, out long timestampTz, out uint thisTimeline, out uint prevTimeline)
    {
        (timestampTz, thisTimeline, prevTimeline) = (0, 0, 0);
        if (data.Length < EndOfRecoverySize)
            return false;
        timestampTz = BinaryPrimitives.ReadInt64LittleEndian(data);
        thisTimeline = BinaryPrimitives.ReadUInt32LittleEndian(data[8..]);
        prevTimeline = BinaryPrimitives.ReadUInt32LittleEndian(data[12..]);
        return true;
    }

    /// <summary>Encodes the minimal commit/abort body: just the timestamp.</summary>
    public static void WriteXactTime(Span<byte> destination, long timestampTz)
        => BinaryPrimitives.WriteInt64LittleEndian(destination, timestampTz);
}
