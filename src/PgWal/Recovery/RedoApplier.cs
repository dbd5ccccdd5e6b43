// RedoApplier: replays one record at a time (ApplyWalRecord) for crash and archive recovery alike:
// builtin XLOG records advance the counters, application resource managers redo their records
// (those of transactions not yet committed are held back by DeferredRedo until the commit), and
// full-page images left over are restored. Start, Apply each record in order, then Finish.
using PgWal.Format;
using PgWal.Pages;
using PgWal.Read;

namespace PgWal.Recovery;

internal sealed class RedoApplier
{
    private readonly ResourceManagerRegistry _managers;
    private readonly RedoContext _context;
    private readonly DeferredRedo _deferred;

    public RedoApplier(ResourceManagerRegistry managers, BufferManager buffers, CheckPoint start)
    {
        _managers = managers;
        _context = new RedoContext(buffers);
        Xlog = new XlogRedo(start);
        _deferred = new DeferredRedo(managers, _context);
        foreach (var manager in managers.All)
            manager.Startup();
    }

    /// <summary>Counters (next xid, next oid) as replayed so far.</summary>
    public XlogRedo Xlog { get; }

    public long ImagesRestored => _context.ImagesRestored;

    public DeferredRedo Deferred => _deferred;

    /// <exception cref="RecoveryException">The record's resource manager is not registered, or is one of PostgreSQL's own that PgWal does not replay.</exception>
    public void Apply(DecodedRecord record)
    {
        _context.Begin(record);
        Xlog.Observe(record);
        bool kept = false;
        if (record.RmgrId >= 128)
        {
            var manager = _managers[record.RmgrId]
                ?? throw new RecoveryException($"resource manager with ID {record.RmgrId} not registered (WAL record at {record.Lsn}); register the resource manager that wrote it before opening the data directory");
            kept = _deferred.TryDefer(manager, record);
            if (!kept)
                manager.Redo(_context, record);
        }
        else if (record.RmgrId == RmgrIds.Transaction)
        {
            _deferred.ObserveTransactionEnd(record);
            _context.Begin(record);
        }
        else if (record.RmgrId != RmgrIds.Xlog && !XlogRedo.IsIgnorable(record.RmgrId))
        {
            throw new RecoveryException($"cannot replay WAL record at {record.Lsn}: resource manager {RmgrIds.BuiltinNames[record.RmgrId]} is PostgreSQL's own and PgWal does not replay it");
        }
        if (!kept)
            _context.RestoreRemainingImages(record);    // a kept record's images wait for its commit too
    }

    /// <summary>Drops the records of transactions that never committed and ends the managers' replay.</summary>
    public long Finish()
    {
        long pending = _deferred.PendingRecords;
        _deferred.DiscardIncomplete();
        foreach (var manager in _managers.All)
            manager.Cleanup();
        return pending;
    }

    public void CheckInvalidPages() => _context.CheckInvalidPages();
}
