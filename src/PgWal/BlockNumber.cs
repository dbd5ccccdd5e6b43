// BlockNumber / RelFileLocator / ForkNumber: how a WAL record names the data page it changes
// (PostgreSQL's BlockNumber, RelFileNode (<=15) / RelFileLocator (16+), ForkNumber).
namespace PgWal;

/// <summary>A block (page) number within one fork of a relation (PostgreSQL's <c>BlockNumber</c>).</summary>
/// <param name="Value">The block index; <see cref="Invalid"/> is 0xFFFFFFFF.</param>
public readonly record struct BlockNumber(uint Value)
{
    /// <summary>PostgreSQL's <c>InvalidBlockNumber</c> (0xFFFFFFFF).</summary>
    public static readonly BlockNumber Invalid = new(uint.MaxValue);

    /// <inheritdoc/>
    public override string ToString() => Value.ToString(System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>
/// Identifies a relation's files: tablespace, database and relation file number
/// (PostgreSQL's <c>RelFileNode</c> / <c>RelFileLocator</c>, 12 bytes in WAL).
/// </summary>
/// <param name="SpcOid">Tablespace OID (1663 = pg_default, 1664 = pg_global).</param>
/// <param name="DbOid">Database OID (0 for shared relations).</param>
/// <param name="RelNumber">Relation file number.</param>
public readonly record struct RelFileLocator(uint SpcOid, uint DbOid, uint RelNumber)
{
    /// <summary>Formats as PostgreSQL does: <c>spc/db/rel</c>.</summary>
    public override string ToString() => $"{SpcOid}/{DbOid}/{RelNumber}";
}

/// <summary>A relation fork (PostgreSQL's <c>ForkNumber</c>); stored in the low nibble of <c>fork_flags</c>.</summary>
public enum ForkNumber : byte
{
    /// <summary>The main data fork.</summary>
    Main = 0,
    /// <summary>Free space map.</summary>
    FreeSpaceMap = 1,
    /// <summary>Visibility map.</summary>
    VisibilityMap = 2,
    /// <summary>Init fork of an unlogged relation.</summary>
    Init = 3,
}
