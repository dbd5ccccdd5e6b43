// RmgrIds: resource manager ids and names (rmgrlist.h). Builtin ids 0..21 are identical in
// PostgreSQL 13..18; custom resource managers (PostgreSQL 15+) use 128..255, the range PgWal's
// applications use for their own records.
namespace PgWal.Format;

/// <summary>Resource manager ids: PostgreSQL's builtin list and the custom range.</summary>
public static class RmgrIds
{
    /// <summary>RM_XLOG_ID.</summary>
    public const byte Xlog = 0;
    /// <summary>RM_XACT_ID.</summary>
    public const byte Transaction = 1;
    /// <summary>RM_SMGR_ID.</summary>
    public const byte Storage = 2;
    /// <summary>RM_CLOG_ID.</summary>
    public const byte Clog = 3;
    /// <summary>RM_DBASE_ID.</summary>
    public const byte Database = 4;
    /// <summary>RM_TBLSPC_ID.</summary>
    public const byte Tablespace = 5;
    /// <summary>RM_MULTIXACT_ID.</summary>
    public const byte MultiXact = 6;
    /// <summary>RM_RELMAP_ID.</summary>
    public const byte RelMap = 7;
    /// <summary>RM_STANDBY_ID.</summary>
    public const byte Standby = 8;
    /// <summary>RM_HEAP2_ID.</summary>
    public const byte Heap2 = 9;
    /// <summary>RM_HEAP_ID.</summary>
    public const byte Heap = 10;
    /// <summary>RM_BTREE_ID.</summary>
    public const byte Btree = 11;
    /// <summary>RM_HASH_ID.</summary>
    public const byte Hash = 12;
    /// <summary>RM_GIN_ID.</summary>
    public const byte Gin = 13;
    /// <summary>RM_GIST_ID.</summary>
    public const byte Gist = 14;
    /// <summary>RM_SEQ_ID.</summary>
    public const byte Sequence = 15;
    /// <summary>RM_SPGIST_ID.</summary>
    public const byte SpGist = 16;
    /// <summary>RM_BRIN_ID.</summary>
    public const byte Brin = 17;
    /// <summary>RM_COMMIT_TS_ID.</summary>
    public const byte CommitTs = 18;
    /// <summary>RM_REPLORIGIN_ID.</summary>
    public const byte ReplicationOrigin = 19;
    /// <summary>RM_GENERIC_ID.</summary>
    public const byte Generic = 20;
    /// <summary>RM_LOGICALMSG_ID.</summary>
    public const byte LogicalMessage = 21;

    /// <summary>Highest builtin id (<c>RM_MAX_BUILTIN_ID</c>).</summary>
    public const byte MaxBuiltin = 21;

    /// <summary>First custom id (<c>RM_MIN_CUSTOM_ID</c>, also <c>RM_EXPERIMENTAL_ID</c>).</summary>
    public const byte MinCustom = 128;

    /// <summary>Builtin names, indexed by id, as pg_waldump prints them.</summary>
    public static IReadOnlyList<string> BuiltinNames { get; } =
    [
        "XLOG", "Transaction", "Storage", "CLOG", "Database", "Tablespace", "MultiXact", "RelMap",
        "Standby", "Heap2", "Heap", "Btree", "Hash", "Gin", "Gist", "Sequence", "SPGist", "BRIN",
        "CommitTs", "ReplicationOrigin", "Generic", "LogicalMessage",
    ];

    /// <summary>True for a builtin id.</summary>
    public static bool IsBuiltin(byte id) => id <= MaxBuiltin;

    /// <summary>True for a custom id (128..255).</summary>
    public static bool IsCustom(byte id) => id >= MinCustom;

    /// <summary>True for any id a PostgreSQL 15 reader accepts (<c>RmgrIdIsValid</c>).</summary>
    public static bool IsValid(byte id) => id <= MaxBuiltin || id >= MinCustom;
}
