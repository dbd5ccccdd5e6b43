// BuiltinRecords: PostgreSQL 15 XLOG and Transaction records PgWal writes, built exactly as the
// server builds them (xlog.c CreateCheckPoint / XLogPutNextOid / XLogRestorePoint, xloginsert.c
// log_newpage, xact.c XactLogCommitRecord / XactLogAbortRecord in their minimal timestamp form).
using PgWal.Format;

namespace PgWal.Insert;

/// <summary>Fills a <see cref="RecordBuilder"/> with one of PostgreSQL's own record types.</summary>
public static class BuiltinRecords
{
    /// <summary>XLOG CHECKPOINT_SHUTDOWN or CHECKPOINT_ONLINE carrying <paramref name="checkPoint"/>.</summary>
    public static RecordBuilder Checkpoint(RecordBuilder builder, in CheckPoint checkPoint, bool shutdown)
    {
        Span<byte> payload = stackalloc byte[CheckPoint.Size];
        checkPoint.Write(payload);
        return builder.Begin(RmgrIds.Xlog, shutdown ? XlogInfo.CheckpointShutdown : XlogInfo.CheckpointOnline)
            .RegisterData(payload);
    }

    /// <summary>
    /// LogicalMessage MESSAGE, as <c>pg_logical_emit_message(transactional, prefix, message)</c>
    /// writes it: header, NUL-terminated prefix, message.
    /// </summary>
    public static RecordBuilder LogicalMessage(RecordBuilder builder, uint databaseId, bool transactional, ReadOnlySpan<byte> prefix, ReadOnlySpan<byte> message, uint xid = 0)
    {
        Span<byte> header = stackalloc byte[SmallXlogPayloads.LogicalMessageHeaderSize];
        SmallXlogPayloads.WriteLogicalMessageHeader(header, databaseId, transactional, (ulong)prefix.Length + 1, (ulong)message.Length);
        return builder.Begin(RmgrIds.LogicalMessage, 0x00, xid)
            .RegisterData(header).RegisterData(prefix).RegisterData([0]).RegisterData(message);
    }

    /// <summary>XLOG NOOP with arbitrary payload (may be empty).</summary>
    public static RecordBuilder Noop(RecordBuilder builder, ReadOnlySpan<byte> payload)
        => builder.Begin(RmgrIds.Xlog, XlogInfo.Noop).RegisterData(payload);

    /// <summary>XLOG RESTORE_POINT named <paramref name="name"/> (at most 63 bytes).</summary>
    public static RecordBuilder RestorePoint(RecordBuilder builder, long timestampTz, string name)
    {
        Span<byte> payload = stackalloc byte[SmallXlogPayloads.RestorePointSize];
        SmallXlogPayloads.WriteRestorePoint(payload, timestampTz, name);
        return builder.Begin(RmgrIds.Xlog, XlogInfo.RestorePoint).RegisterData(payload);
    }

    /// <summary>XLOG BACKUP_END: the end of the base backup that started at <paramref name="backupStart"/> (its redo point).</summary>
    public static RecordBuilder BackupEnd(RecordBuilder builder, Lsn backupStart)
    {
        Span<byte> payload = stackalloc byte[8];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(payload, backupStart.Value);
        return builder.Begin(RmgrIds.Xlog, XlogInfo.BackupEnd).RegisterData(payload);
    }

    /// <summary>XLOG NEXTOID.</summary>
    public static RecordBuilder NextOid(RecordBuilder builder, uint nextOid)
    {
        Span<byte> payload = stackalloc byte[4];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(payload, nextOid);
        return builder.Begin(RmgrIds.Xlog, XlogInfo.NextOid).RegisterData(payload);
    }

    /// <summary>
    /// Starts an XLOG FPI record (PostgreSQL's log_newpage); add the pages with <see cref="AddFpiPage"/>
    /// (block ids 0..32).
    /// </summary>
    public static RecordBuilder Fpi(RecordBuilder builder, uint xid = 0)
        => builder.Begin(RmgrIds.Xlog, XlogInfo.Fpi, xid);

    /// <summary>Adds one page image to an FPI record (forced image; hole removed for standard pages).</summary>
    public static RecordBuilder AddFpiPage(RecordBuilder builder, int blockId, RelFileLocator rel, ForkNumber fork,
        BlockNumber block, ReadOnlyMemory<byte> page, bool standardPage)
        => builder.RegisterBlock(blockId, rel, fork, block,
            BlockRegistration.ForceImage | (standardPage ? BlockRegistration.Standard : BlockRegistration.None), page);

    /// <summary>Transaction COMMIT in the minimal form: just the commit timestamp.</summary>
    public static RecordBuilder Commit(RecordBuilder builder, uint xid, long timestampTz)
        => XactRecord(builder, XactInfo.Commit, xid, timestampTz);

    /// <summary>Transaction ABORT in the minimal form: just the abort timestamp.</summary>
    public static RecordBuilder Abort(RecordBuilder builder, uint xid, long timestampTz)
        => XactRecord(builder, XactInfo.Abort, xid, timestampTz);

    private static RecordBuilder XactRecord(RecordBuilder builder, byte info, uint xid, long timestampTz)
    {
        Span<byte> payload = stackalloc byte[SmallXlogPayloads.XactMinimalSize];
        SmallXlogPayloads.WriteXactTime(payload, timestampTz);
        return builder.Begin(RmgrIds.Transaction, info, xid).RegisterData(payload);
    }
}
