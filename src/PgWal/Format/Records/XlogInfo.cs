// XlogInfo / XactInfo: record type codes (high nibble of xl_info) of the XLOG and Transaction
// resource managers (pg_control.h, xact.h).
namespace PgWal.Format;

/// <summary>Record types of the XLOG resource manager (<c>xl_info &amp; 0xF0</c>).</summary>
public static class XlogInfo
{
    /// <summary>XLOG_CHECKPOINT_SHUTDOWN.</summary>
    public const byte CheckpointShutdown = 0x00;
    /// <summary>XLOG_CHECKPOINT_ONLINE.</summary>
    public const byte CheckpointOnline = 0x10;
    /// <summary>XLOG_NOOP.</summary>
    public const byte Noop = 0x20;
    /// <summary>XLOG_NEXTOID.</summary>
    public const byte NextOid = 0x30;
    /// <summary>XLOG_SWITCH.</summary>
    public const byte Switch = 0x40;
    /// <summary>XLOG_BACKUP_END.</summary>
    public const byte BackupEnd = 0x50;
    /// <summary>XLOG_PARAMETER_CHANGE.</summary>
    public const byte ParameterChange = 0x60;
    /// <summary>XLOG_RESTORE_POINT.</summary>
    public const byte RestorePoint = 0x70;
    /// <summary>XLOG_FPW_CHANGE.</summary>
    public const byte FpwChange = 0x80;
    /// <summary>XLOG_END_OF_RECOVERY.</summary>
    public const byte EndOfRecovery = 0x90;
    /// <summary>XLOG_FPI_FOR_HINT.</summary>
    public const byte FpiForHint = 0xA0;
    /// <summary>XLOG_FPI.</summary>
    public const byte Fpi = 0xB0;
    /// <summary>XLOG_OVERWRITE_CONTRECORD.</summary>
    public const byte OverwriteContRecord = 0xD0;
    /// <summary>XLOG_CHECKPOINT_REDO (PostgreSQL 17+).</summary>
    public const byte CheckpointRedo = 0xE0;
}

/// <summary>Record types and flags of the Transaction resource manager.</summary>
public static class XactInfo
{
    /// <summary>XLOG_XACT_COMMIT.</summary>
    public const byte Commit = 0x00;
    /// <summary>XLOG_XACT_PREPARE.</summary>
    public const byte Prepare = 0x10;
    /// <summary>XLOG_XACT_ABORT.</summary>
    public const byte Abort = 0x20;
    /// <summary>XLOG_XACT_COMMIT_PREPARED.</summary>
    public const byte CommitPrepared = 0x30;
    /// <summary>XLOG_XACT_ABORT_PREPARED.</summary>
    public const byte AbortPrepared = 0x40;
    /// <summary>XLOG_XACT_ASSIGNMENT.</summary>
    public const byte Assignment = 0x50;
    /// <summary>XLOG_XACT_INVALIDATIONS.</summary>
    public const byte Invalidations = 0x60;
    /// <summary>XLOG_XACT_OPMASK: the opcode bits.</summary>
    public const byte OpMask = 0x70;
    /// <summary>XLOG_XACT_HAS_INFO: an xinfo word follows the timestamp.</summary>
    public const byte HasInfo = 0x80;
}
