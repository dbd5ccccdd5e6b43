namespace PgWal.Archive;

/// <summary>PostgreSQL's <c>archive_mode</c>.</summary>
public enum ArchiveMode
{
    /// <summary>No archiving: no .ready files, segments are removed or recycled after checkpoints.</summary>
    Off,

    /// <summary>Completed segments are archived while the instance runs (not during recovery).</summary>
    On,

    /// <summary>As <see cref="On"/>, and files restored or received during recovery are archived again.</summary>
    Always,
}
