// InsertResult: where an inserted record landed.
namespace PgWal.Write;

/// <summary>Where an inserted record landed.</summary>
/// <param name="Start">The record's LSN.</param>
/// <param name="End">Its end: where the next record starts, or a page start when it ends on a page boundary.</param>
public readonly record struct InsertResult(Lsn Start, Lsn End);
