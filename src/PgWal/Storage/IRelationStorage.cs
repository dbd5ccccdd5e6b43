// IRelationStorage / IRelationFile: where data pages live — one file per relation fork, addressed
// like PostgreSQL's relpath (base/<db>/<rel>[_fsm|_vm|_init]). The buffer manager is the only
// writer. A page write may be torn by a crash; only Sync() promises durability, and a failed Sync
// is never retried (the caller stops). Files are not split at 1 GB as PostgreSQL's are.
namespace PgWal.Storage;

/// <summary>The relation files of a data directory.</summary>
public interface IRelationStorage
{
    /// <summary>Opens a relation fork's file, creating it empty (durably) when missing.</summary>
    IRelationFile Open(RelFileLocator rel, ForkNumber fork);

    /// <summary>True when the relation fork's file exists.</summary>
    bool Exists(RelFileLocator rel, ForkNumber fork);

    /// <summary>Every relation fork file present (for the sync at the start of crash recovery).</summary>
    IReadOnlyList<(RelFileLocator Rel, ForkNumber Fork)> List();
}

/// <summary>An open relation fork file of 8 kB blocks.</summary>
public interface IRelationFile : IDisposable
{
    /// <summary>The path relative to the data directory, as PostgreSQL prints it (base/5/16384).</summary>
    string Path { get; }

    /// <summary>Blocks in the file (its size / 8 kB).</summary>
    uint BlockCount { get; }

    /// <summary>Reads a block; false (and nothing read) when it is beyond the end of the file.</summary>
    bool Read(BlockNumber block, Span<byte> page);

    /// <summary>Writes a block, extending the file (with zero blocks) when needed.</summary>
    void Write(BlockNumber block, ReadOnlySpan<byte> page);

    /// <summary>Makes every completed write durable (fsync). A failure must not be retried.</summary>
    void Sync();
}

/// <summary>PostgreSQL's relpath naming.</summary>
public static class RelationPath
{
    /// <summary>The default tablespace (pg_default).</summary>
    public const uint DefaultTablespace = 1663;

    /// <summary>The shared tablespace (pg_global).</summary>
    public const uint GlobalTablespace = 1664;

    /// <summary>The path of a relation fork relative to the data directory, with '/' separators.</summary>
    public static string Of(RelFileLocator rel, ForkNumber fork)
    {
        string suffix = fork switch
        {
            ForkNumber.Main => "",
            ForkNumber.FreeSpaceMap => "_fsm",
            ForkNumber.VisibilityMap => "_vm",
            _ => "_init",
        };
        return rel.SpcOid switch
        {
            GlobalTablespace => $"global/{rel.RelNumber}{suffix}",
            DefaultTablespace => $"base/{rel.DbOid}/{rel.RelNumber}{suffix}",
            _ => $"pg_tblspc/{rel.SpcOid}/PG_15_202209061/{rel.DbOid}/{rel.RelNumber}{suffix}",
        };
    }
}
