// IResourceManager: an application's redo and description routines for its WAL records
// (PostgreSQL's RmgrData: rm_name, rm_redo, rm_desc, rm_identify, rm_startup, rm_cleanup,
// rm_mask). Ids 128–255 are the custom range; an id, once used in WAL, keeps its meaning forever.
using PgWal.Diagnostics.Text;
using PgWal.Read;
using PgWal.Rmgr;

namespace PgWal.Recovery;

/// <summary>Replays and describes the records of one resource manager.</summary>
public interface IResourceManager : IRecordDescriber
{
    /// <summary>The resource manager id, 128–255.</summary>
    byte Id { get; }

    /// <summary>
    /// rm_redo: applies <paramref name="record"/>. Read each referenced page with
    /// <see cref="RedoContext.ReadBufferForRedo"/> (which restores full-page images and skips pages
    /// already newer than the record); change it only when that returns <see cref="RedoAction.NeedsRedo"/>,
    /// then SetLsn(<see cref="RedoContext.RecordEnd"/>) and MarkDirty.
    /// </summary>
    void Redo(RedoContext context, DecodedRecord record);

    /// <summary>
    /// When true, this manager's records that carry a transaction id are replayed only when that
    /// transaction's XACT COMMIT is replayed (in their WAL order, each with its own end LSN), and
    /// discarded when it aborts or never commits before the end of WAL. Together with the no-steal
    /// rule on the writing side — keep every page a transaction changed locked until its commit
    /// record is inserted, then stamp them with the commit's end LSN, so none reaches disk before the
    /// commit is durable — this makes a multi-record transaction all-or-nothing across crashes.
    /// </summary>
    bool RedoAtCommit => false;

    /// <summary>rm_startup: called before the first record is replayed.</summary>
    void Startup()
    {
    }

    /// <summary>rm_cleanup: called after the last record is replayed.</summary>
    void Cleanup()
    {
    }

    /// <summary>rm_mask: blanks parts of a page that may legitimately differ between primary and replay (for consistency checks).</summary>
    void Mask(Span<byte> page, BlockNumber block)
    {
    }
}

/// <summary>What <see cref="RedoContext.ReadBufferForRedo"/> found (XLogRedoAction).</summary>
public enum RedoAction
{
    /// <summary>BLK_NEEDS_REDO: the page is older than the record; apply the change. The buffer is locked exclusively.</summary>
    NeedsRedo,
    /// <summary>BLK_DONE: the page already contains the change. The buffer is locked exclusively.</summary>
    Done,
    /// <summary>BLK_RESTORED: the page was restored from the record's full-page image. The buffer is locked exclusively.</summary>
    Restored,
    /// <summary>BLK_NOTFOUND: the page does not exist (beyond the end of its file); there is no buffer.</summary>
    NotFound,
}
