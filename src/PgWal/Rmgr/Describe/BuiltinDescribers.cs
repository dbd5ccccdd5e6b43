// BuiltinDescribers: one describer per PostgreSQL builtin resource manager (rmgrlist.h order),
// each a port of the matching src/backend/access/rmgrdesc/*desc.c of PostgreSQL 15.
using PgWal.Format;

namespace PgWal.Rmgr.Describe;

internal static class BuiltinDescribers
{
    public static IRecordDescriber Create(byte id) => id switch
    {
        RmgrIds.Xlog => new XlogDescriber(),
        RmgrIds.Transaction => new TransactionDescriber(),
        RmgrIds.Storage => new StorageDescriber(),
        RmgrIds.Clog => new ClogDescriber(),
        RmgrIds.Database => new DatabaseDescriber(),
        RmgrIds.Tablespace => new TablespaceDescriber(),
        RmgrIds.MultiXact => new MultiXactDescriber(),
        RmgrIds.RelMap => new RelMapDescriber(),
        RmgrIds.Standby => new StandbyDescriber(),
        RmgrIds.Heap2 => new Heap2Describer(),
        RmgrIds.Heap => new HeapDescriber(),
        RmgrIds.Btree => new BtreeDescriber(),
        RmgrIds.Hash => new HashDescriber(),
        RmgrIds.Gin => new GinDescriber(),
        RmgrIds.Gist => new GistDescriber(),
        RmgrIds.Sequence => new SequenceDescriber(),
        RmgrIds.SpGist => new SpGistDescriber(),
        RmgrIds.Brin => new BrinDescriber(),
        RmgrIds.CommitTs => new CommitTsDescriber(),
        RmgrIds.ReplicationOrigin => new ReplicationOriginDescriber(),
        RmgrIds.Generic => new GenericDescriber(),
        RmgrIds.LogicalMessage => new LogicalMessageDescriber(),
        _ => throw new ArgumentOutOfRangeException(nameof(id), id, "not a builtin resource manager id"),
    };
}
