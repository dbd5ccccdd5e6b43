// SyncFailedException: an fsync (of a file or of a directory) failed. After that the kernel may
// have dropped the dirty pages or the directory entry and reports success on a retry, so nothing
// that depended on the sync may be trusted: PostgreSQL PANICs (data_sync_retry = off) and every
// PgWal component that sees this faults its instance. Custom storages throw it from Sync and from
// the directory sync of Create, Rename and Delete.
namespace PgWal.Storage;

/// <summary>An fsync failed; the operation's durability is unknown and must not be retried.</summary>
public sealed class SyncFailedException : IOException
{
    /// <summary>Creates the exception (message in PostgreSQL's form: could not fsync file "…": …).</summary>
    public SyncFailedException(string message, Exception? inner = null) : base(message, inner)
    {
    }
}
