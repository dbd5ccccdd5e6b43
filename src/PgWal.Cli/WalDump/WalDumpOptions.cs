// WalDumpOptions: pg_waldump's XLogDumpConfig + XLogDumpPrivate, filled by WalDumpArguments.
namespace PgWal.Cli.WalDump;

internal sealed class WalDumpOptions
{
    public bool Quiet;
    public bool BlockDetails;
    public int StopAfterRecords = -1;
    public bool Follow;
    public bool Stats;
    public bool StatsPerRecord;

    public readonly bool[] RmgrFilter = new bool[256];
    public bool RmgrFilterEnabled;
    public uint XidFilter;
    public bool XidFilterEnabled;
    public RelFileLocator RelationFilter;
    public bool RelationFilterEnabled;
    public uint BlockFilter = uint.MaxValue;
    public bool BlockFilterEnabled;
    public int ForkFilter = -1;
    public bool ExtendedFilter;
    public bool FullPageFilter;

    public TimelineId Timeline = TimelineId.First;
    public Lsn Start;
    public Lsn End;
    public string? WalDirectory;
    public int SegmentSize;
}
