// BenchSettings: the parsed options of `pgwal bench`.
using PgWal.Storage;

namespace PgWal.Cli.Bench;

internal enum FlushMode
{
    None,
    Each,
    Async,
}

internal sealed record BenchSettings
{
    public required string DataDirectory { get; init; }
    public int Workers { get; init; } = 1;
    public int RecordSize { get; init; } = 100;
    public FlushMode Flush { get; init; } = FlushMode.None;
    public long? Records { get; init; }
    public double? Seconds { get; init; }
    public WalSyncMethod SyncMethod { get; init; } = WalSyncMethod.Fdatasync;
    public bool DirectIo { get; init; }
    public int WalBuffersMb { get; init; } = 16;
    public int InsertionLocks { get; init; } = 8;
    public int SegmentSizeMb { get; init; } = 16;
    public int CommitDelayMicroseconds { get; init; }
    public int WalWriterDelayMs { get; init; } = 200;
    public bool Json { get; init; }
    public bool Discard { get; init; }
    public bool InitZero { get; init; } = true;
    public int MaxWalSizeMb { get; init; } = 1024;
    public int MinWalSizeMb { get; init; } = 80;
}
