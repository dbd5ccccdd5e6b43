// DeferredRedo: replay of transactional resource managers (IResourceManager.RedoAtCommit). Their
// records that carry an xid are kept (cloned) until the transaction's XACT COMMIT is read, then
// replayed in WAL order; an XACT ABORT, or the end of WAL without a commit, discards them. Pages
// such a transaction changed never reached disk before its commit was durable (the writer's
// no-steal rule), so discarding leaves no trace of it. Used by the startup thread only.
using PgWal.Format;
using PgWal.Read;

namespace PgWal.Recovery;

internal sealed class DeferredRedo(ResourceManagerRegistry managers, RedoContext context)
{
    private readonly Dictionary<uint, List<DecodedRecord>> _pending = [];

    public long Committed { get; private set; }

    public long Discarded { get; private set; }

    /// <summary>Records kept, waiting for their commit.</summary>
    public int PendingRecords { get; private set; }

    /// <summary>Keeps the record when its manager defers redo to commit; false when it must be replayed now.</summary>
    public bool TryDefer(IResourceManager manager, DecodedRecord record)
    {
        if (!manager.RedoAtCommit || record.Xid == 0)
            return false;
        if (!_pending.TryGetValue(record.Xid, out var list))
            _pending[record.Xid] = list = [];
        list.Add(record.Clone());
        PendingRecords++;
        return true;
    }

    /// <summary>Applies or discards the kept records of the transaction an XACT record ends.</summary>
    public void ObserveTransactionEnd(DecodedRecord xact)
    {
        byte info = (byte)(xact.Info & XactInfo.OpMask);
        bool commit = info == XactInfo.Commit;
        if (!commit && info != XactInfo.Abort)
            return;
        if (!_pending.Remove(xact.Xid, out var list))
        {
            if (commit)
                Committed++;
            return;
        }
        PendingRecords -= list.Count;
        if (!commit)
        {
            Discarded++;
            return;
        }
        foreach (var record in list)
        {
            context.Begin(record);
            managers[record.RmgrId]!.Redo(context, record);
            context.RestoreRemainingImages(record);
        }
        Committed++;
    }

    /// <summary>End of WAL: transactions still pending never committed.</summary>
    public void DiscardIncomplete()
    {
        Discarded += _pending.Count;
        _pending.Clear();
        PendingRecords = 0;
    }
}
