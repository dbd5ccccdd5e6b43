// BuiltinDescribers: one describer per PostgreSQL builtin resource manager (rmgrlist.h order).
// Resource managers whose descriptions are not implemented yet still identify their record types
// (needed for --stats=record) and describe nothing.
using PgWal.Format;

namespace PgWal.Rmgr.Describe;

internal static class BuiltinDescribers
{
    public static IRecordDescriber Create(byte id) => id switch
    {
        RmgrIds.Xlog => new XlogDescriber(),
        _ => new IdentifyOnlyDescriber(RmgrIds.BuiltinNames[id], IdentifyTables.For(id)),
    };
}
