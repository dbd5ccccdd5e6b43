// XlogRedo: the builtin records recovery understands without a registered manager (xlog_redo):
// checkpoints and NEXTOID set the counters, FPI records are restored by RedoContext generically,
// switches, no-ops, restore points and overwrite-contrecord records change no page. Transaction
// ids seen in any record advance nextXid, so ids handed out after recovery are never reused.
using System.Buffers.Binary;
using PgWal.Format;
using PgWal.Read;

namespace PgWal.Recovery;

internal sealed class XlogRedo(CheckPoint start)
{
    private const uint FirstNormalXid = 3;

    /// <summary>The next full transaction id (epoch &lt;&lt; 32 | xid).</summary>
    public ulong NextXid { get; private set; } = start.NextXid;

    /// <summary>The next OID.</summary>
    public uint NextOid { get; private set; } = start.NextOid;

    /// <summary>Builtin resource managers whose records touch no pages PgWal manages (transaction status, messages).</summary>
    public static bool IsIgnorable(byte rmgrId)
        => rmgrId is RmgrIds.Transaction or RmgrIds.Standby or RmgrIds.LogicalMessage;

    /// <summary>Whether <paramref name="record"/> is XLOG_BACKUP_END of the backup that started at <paramref name="backupStart"/>.</summary>
    public static bool IsBackupEndOf(DecodedRecord record, Lsn backupStart)
        => record.RmgrId == RmgrIds.Xlog && (record.Info & RecordHeader.RmgrInfoMask) == XlogInfo.BackupEnd
           && record.MainDataLength >= 8 && BinaryPrimitives.ReadUInt64LittleEndian(record.MainData) == backupStart.Value;

    public void Observe(DecodedRecord record)
    {
        AdvanceXid(record.Xid);
        if (record.TopLevelXid != 0)
            AdvanceXid(record.TopLevelXid);
        if (record.RmgrId != RmgrIds.Xlog)
            return;
        byte info = (byte)(record.Info & RecordHeader.RmgrInfoMask);
        if ((info == XlogInfo.CheckpointOnline || info == XlogInfo.CheckpointShutdown) && record.MainDataLength == CheckPoint.Size)
        {
            var cp = CheckPoint.Read(record.MainData);
            if (cp.NextXid > NextXid)
                NextXid = cp.NextXid;
            if (info == XlogInfo.CheckpointShutdown || cp.NextOid > NextOid)
                NextOid = cp.NextOid;
        }
        else if (info == XlogInfo.NextOid && record.MainDataLength >= 4)
        {
            NextOid = BinaryPrimitives.ReadUInt32LittleEndian(record.MainData);
        }
    }

    // TransactionIdAdvance semantics within the current epoch (wraparound is out of scope).
    private void AdvanceXid(uint xid)
    {
        if (xid < FirstNormalXid)
            return;
        ulong full = (NextXid & 0xFFFF_FFFF_0000_0000UL) | xid;
        if (full + 1 > NextXid)
            NextXid = full + 1;
    }
}
