// StorageDescriber / DatabaseDescriber / TablespaceDescriber / RelMapDescriber / SequenceDescriber:
// resource managers that create, drop or remap files (smgrdesc.c, dbasedesc.c, tblspcdesc.c,
// relmapdesc.c, seqdesc.c, PostgreSQL 15). Storage prints relpathperm() paths.
using PgWal.Diagnostics.Text;
using PgWal.Format;
using PgWal.Read;
using static PgWal.Rmgr.Describe.DescribeText;

namespace PgWal.Rmgr.Describe;

internal sealed class StorageDescriber : IRecordDescriber
{
    private const byte Create = 0x10;
    private const byte Truncate = 0x20;

    public string Name => "Storage";

    public string? Identify(byte info) => (info & RecordHeader.RmgrInfoMask) switch
    {
        Create => "CREATE",
        Truncate => "TRUNCATE",
        _ => null,
    };

    public void Describe(DecodedRecord record, TextBuffer o)
    {
        var d = record.MainData;
        switch (record.Info & RecordHeader.RmgrInfoMask)
        {
            case Create:
                // xl_smgr_create: 0 rnode | 12 int forkNum
                if (d.Length >= 16)
                    o.AppendRelPath(d, 0, I32(d, 12), record.Version);
                break;
            case Truncate:
                // xl_smgr_truncate: 0 blkno | 4 rnode | 16 int flags
                if (d.Length >= 20)
                {
                    o.AppendRelPath(d, 4, 0, record.Version).Append(" to "u8).AppendUInt(U32(d, 0))
                        .Append(" blocks flags "u8).AppendInt(I32(d, 16));
                }
                break;
        }
    }
}

internal sealed class DatabaseDescriber : IRecordDescriber
{
    private const byte CreateFileCopy = 0x00;
    private const byte CreateWalLog = 0x10;
    private const byte Drop = 0x20;

    public string Name => "Database";

    public string? Identify(byte info) => (info & RecordHeader.RmgrInfoMask) switch
    {
        CreateFileCopy => "CREATE_FILE_COPY",
        CreateWalLog => "CREATE_WAL_LOG",
        Drop => "DROP",
        _ => null,
    };

    public void Describe(DecodedRecord record, TextBuffer o)
    {
        var d = record.MainData;
        switch (record.Info & RecordHeader.RmgrInfoMask)
        {
            case CreateFileCopy:
                // xl_dbase_create_file_copy_rec: 0 db_id | 4 tablespace_id | 8 src_db_id | 12 src_tablespace_id
                if (d.Length >= 16)
                {
                    o.Append("copy dir "u8).AppendUInt(U32(d, 12)).Append('/').AppendUInt(U32(d, 8))
                        .Append(" to "u8).AppendUInt(U32(d, 4)).Append('/').AppendUInt(U32(d, 0));
                }
                break;
            case CreateWalLog:
                // xl_dbase_create_wal_log_rec: 0 db_id | 4 tablespace_id
                if (d.Length >= 8)
                    o.Append("create dir "u8).AppendUInt(U32(d, 4)).Append('/').AppendUInt(U32(d, 0));
                break;
            case Drop:
            {
                // xl_dbase_drop_rec: 0 db_id | 4 int ntablespaces | 8 tablespace_ids[]
                if (d.Length < 8)
                    return;
                o.Append("dir"u8);
                int n = I32(d, 4);
                for (int i = 0; i < n; i++)
                {
                    long at = 8 + (long)i * 4;
                    if (at + 4 > d.Length)
                        return;
                    o.Append(' ').AppendUInt(U32(d, (int)at)).Append('/').AppendUInt(U32(d, 0));
                }
                break;
            }
        }
    }
}

internal sealed class TablespaceDescriber : IRecordDescriber
{
    private const byte Create = 0x00;
    private const byte Drop = 0x10;

    public string Name => "Tablespace";

    public string? Identify(byte info) => (info & RecordHeader.RmgrInfoMask) switch
    {
        Create => "CREATE",
        Drop => "DROP",
        _ => null,
    };

    public void Describe(DecodedRecord record, TextBuffer o)
    {
        var d = record.MainData;
        if (d.Length < 4)
            return;
        switch (record.Info & RecordHeader.RmgrInfoMask)
        {
            case Create:
                // xl_tblspc_create_rec: 0 ts_id | 4 NUL-terminated ts_path
                o.AppendUInt(U32(d, 0)).Append(" \""u8).AppendCString(d[4..]).Append('"');
                break;
            case Drop:
                // xl_tblspc_drop_rec: 0 ts_id
                o.AppendUInt(U32(d, 0));
                break;
        }
    }
}

internal sealed class RelMapDescriber : IRecordDescriber
{
    private const byte Update = 0x00;

    public string Name => "RelMap";

    public string? Identify(byte info) => (info & RecordHeader.RmgrInfoMask) == Update ? "UPDATE" : null;

    public void Describe(DecodedRecord record, TextBuffer o)
    {
        // xl_relmap_update: 0 dbid | 4 tsid | 8 int32 nbytes | 12 data[]
        var d = record.MainData;
        if ((record.Info & RecordHeader.RmgrInfoMask) == Update && d.Length >= 12)
        {
            o.Append("database "u8).AppendUInt(U32(d, 0)).Append(" tablespace "u8).AppendUInt(U32(d, 4))
                .Append(" size "u8).AppendInt(I32(d, 8));
        }
    }
}

internal sealed class SequenceDescriber : IRecordDescriber
{
    private const byte Log = 0x00;

    public string Name => "Sequence";

    public string? Identify(byte info) => (info & RecordHeader.RmgrInfoMask) == Log ? "LOG" : null;

    public void Describe(DecodedRecord record, TextBuffer o)
    {
        // xl_seq_rec: 0 node; then the sequence tuple
        var d = record.MainData;
        if ((record.Info & RecordHeader.RmgrInfoMask) == Log && d.Length >= RelFileNodeSize)
            o.Append("rel "u8).AppendRelTriple(d, 0);
    }
}
