// XlogDescriber: the XLOG resource manager's names and descriptions (xlogdesc.c), PostgreSQL 15
// text, with the PostgreSQL 17 additions (wal_level in checkpoints and end-of-recovery,
// CHECKPOINT_REDO) when the record was read from 17's pages.
using System.Buffers.Binary;
using PgWal.Diagnostics.Text;
using PgWal.Format;
using PgWal.Read;

namespace PgWal.Rmgr.Describe;

internal sealed class XlogDescriber : IRecordDescriber
{
    public string Name => "XLOG";

    public string? Identify(byte info) => (info & RecordHeader.RmgrInfoMask) switch
    {
        XlogInfo.CheckpointShutdown => "CHECKPOINT_SHUTDOWN",
        XlogInfo.CheckpointOnline => "CHECKPOINT_ONLINE",
        XlogInfo.Noop => "NOOP",
        XlogInfo.NextOid => "NEXTOID",
        XlogInfo.Switch => "SWITCH",
        XlogInfo.BackupEnd => "BACKUP_END",
        XlogInfo.ParameterChange => "PARAMETER_CHANGE",
        XlogInfo.RestorePoint => "RESTORE_POINT",
        XlogInfo.FpwChange => "FPW_CHANGE",
        XlogInfo.EndOfRecovery => "END_OF_RECOVERY",
        XlogInfo.OverwriteContRecord => "OVERWRITE_CONTRECORD",
        XlogInfo.Fpi => "FPI",
        XlogInfo.FpiForHint => "FPI_FOR_HINT",
        XlogInfo.CheckpointRedo => "CHECKPOINT_REDO",
        _ => null,
    };

    // xlogdesc.c's wal_level_options: the first entry with a value wins ("archive"/"hot_standby" alias replica).
    internal static string WalLevelName(int level) => level switch
    {
        0 => "minimal",
        1 => "replica",
        2 => "logical",
        _ => "?",
    };

    public void Describe(DecodedRecord record, TextBuffer o)
    {
        var data = record.MainData;
        byte info = (byte)(record.Info & RecordHeader.RmgrInfoMask);
        bool pg17 = record.Version >= WalVersion.Pg17;
        switch (info)
        {
            case XlogInfo.CheckpointShutdown:
            case XlogInfo.CheckpointOnline:
                if (data.Length < CheckPoint.Size)
                    return;
                var cp = CheckPoint.Read(data);
                o.Append("redo "u8).AppendLsn(cp.Redo)
                    .Append("; tli "u8).AppendUInt(cp.ThisTimeline.Value)
                    .Append("; prev tli "u8).AppendUInt(cp.PrevTimeline.Value)
                    .Append("; fpw "u8).Append(cp.FullPageWrites ? "true"u8 : "false"u8);
                if (pg17)
                    o.Append("; wal_level "u8).Append(WalLevelName(cp.WalLevel));
                o.Append("; xid "u8).AppendUInt(cp.NextXid >> 32).Append(':').AppendUInt((uint)cp.NextXid)
                    .Append("; oid "u8).AppendUInt(cp.NextOid)
                    .Append("; multi "u8).AppendUInt(cp.NextMulti)
                    .Append("; offset "u8).AppendUInt(cp.NextMultiOffset)
                    .Append("; oldest xid "u8).AppendUInt(cp.OldestXid)
                    .Append(" in DB "u8).AppendUInt(cp.OldestXidDb)
                    .Append("; oldest multi "u8).AppendUInt(cp.OldestMulti)
                    .Append(" in DB "u8).AppendUInt(cp.OldestMultiDb)
                    .Append("; oldest/newest commit timestamp xid: "u8).AppendUInt(cp.OldestCommitTsXid)
                    .Append('/').AppendUInt(cp.NewestCommitTsXid)
                    .Append("; oldest running xid "u8).AppendUInt(cp.OldestActiveXid)
                    .Append(info == XlogInfo.CheckpointShutdown ? "; shutdown"u8 : "; online"u8);
                break;
            case XlogInfo.NextOid:
                if (data.Length >= 4)
                    o.AppendUInt(BinaryPrimitives.ReadUInt32LittleEndian(data));
                break;
            case XlogInfo.RestorePoint:
                if (data.Length >= 8)
                    o.AppendCString(data[8..Math.Min(data.Length, SmallXlogPayloads.RestorePointSize)]);
                break;
            case XlogInfo.BackupEnd:
                if (data.Length >= 8)
                    o.AppendLsn(new Lsn(BinaryPrimitives.ReadUInt64LittleEndian(data)));
                break;
            case XlogInfo.ParameterChange:
                if (data.Length < 26)
                    return;
                o.Append("max_connections="u8).AppendInt(BinaryPrimitives.ReadInt32LittleEndian(data))
                    .Append(" max_worker_processes="u8).AppendInt(BinaryPrimitives.ReadInt32LittleEndian(data[4..]))
                    .Append(" max_wal_senders="u8).AppendInt(BinaryPrimitives.ReadInt32LittleEndian(data[8..]))
                    .Append(" max_prepared_xacts="u8).AppendInt(BinaryPrimitives.ReadInt32LittleEndian(data[12..]))
                    .Append(" max_locks_per_xact="u8).AppendInt(BinaryPrimitives.ReadInt32LittleEndian(data[16..]))
                    .Append(" wal_level="u8).Append(WalLevelName(BinaryPrimitives.ReadInt32LittleEndian(data[20..])))
                    .Append(" wal_log_hints="u8).Append(data[24] != 0 ? "on"u8 : "off"u8)
                    .Append(" track_commit_timestamp="u8).Append(data[25] != 0 ? "on"u8 : "off"u8);
                break;
            case XlogInfo.FpwChange:
                if (data.Length >= 1)
                    o.Append(data[0] != 0 ? "true"u8 : "false"u8);
                break;
            case XlogInfo.EndOfRecovery:
                if (data.Length < 16)
                    return;
                o.Append("tli "u8).AppendUInt(BinaryPrimitives.ReadUInt32LittleEndian(data[8..]))
                    .Append("; prev tli "u8).AppendUInt(BinaryPrimitives.ReadUInt32LittleEndian(data[12..]))
                    .Append("; time "u8).AppendTimestamp(BinaryPrimitives.ReadInt64LittleEndian(data));
                if (pg17 && data.Length >= 20)
                    o.Append("; wal_level "u8).Append(WalLevelName(BinaryPrimitives.ReadInt32LittleEndian(data[16..])));
                break;
            case XlogInfo.OverwriteContRecord:
                if (data.Length < SmallXlogPayloads.OverwriteContRecordSize)
                    return;
                o.Append("lsn "u8).AppendLsn(new Lsn(BinaryPrimitives.ReadUInt64LittleEndian(data)))
                    .Append("; time "u8).AppendTimestamp(BinaryPrimitives.ReadInt64LittleEndian(data[8..]));
                break;
            case XlogInfo.CheckpointRedo when pg17:
                if (data.Length >= 4)
                    o.Append("wal_level "u8).Append(WalLevelName(BinaryPrimitives.ReadInt32LittleEndian(data)));
                break;
        }
    }
}
