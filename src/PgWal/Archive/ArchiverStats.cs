namespace PgWal.Archive;

/// <summary>
/// The archiver's state, as PostgreSQL's <c>pg_stat_archiver</c> (counted per attempt, since the
/// instance opened) plus what is still waiting.
/// </summary>
/// <param name="ArchivedCount">Files archived.</param>
/// <param name="LastArchivedWal">The last file archived.</param>
/// <param name="LastArchivedTime">When it was archived.</param>
/// <param name="FailedCount">Failed attempts (each of the three tries of a file counts).</param>
/// <param name="LastFailedWal">The file of the last failed attempt.</param>
/// <param name="LastFailedTime">When it failed.</param>
/// <param name="LastFailure">Why it failed.</param>
/// <param name="Pending">Files waiting (.ready) at the last pass.</param>
/// <param name="OldestPending">The first of them in archiving order.</param>
/// <param name="OldestPendingAge">How long the archiver has seen it waiting.</param>
public sealed record ArchiverStats(
    long ArchivedCount, string? LastArchivedWal, DateTimeOffset? LastArchivedTime,
    long FailedCount, string? LastFailedWal, DateTimeOffset? LastFailedTime, string? LastFailure,
    int Pending, string? OldestPending, TimeSpan OldestPendingAge);
