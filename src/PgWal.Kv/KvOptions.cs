// KvOptions: how a store is opened — the instance underneath, durability of commits and reads.
using PgWal.Format;
using PgWal.Replication.Sync;

namespace PgWal.Kv;

/// <summary>Settings for <see cref="KvStore.Open(string, KvOptions?)"/>.</summary>
public sealed record KvOptions
{
    /// <summary>The WAL instance's settings (buffer pool, checkpoints, WAL). The kv resource manager is added to its registry.</summary>
    public WalInstanceOptions Instance { get; init; } = new();

    /// <summary>Settings for creating the data directory when it does not exist yet.</summary>
    public WalInitOptions Init { get; init; } = new();

    /// <summary>Create the data directory and the tree when missing (default true).</summary>
    public bool CreateIfMissing { get; init; } = true;

    /// <summary>
    /// PostgreSQL's synchronous_commit for writes that name no level.
    /// <see cref="SynchronousCommitLevel.On"/> (default): a commit returns once its WAL is durable
    /// (fdatasync; concurrent commits share one) and, when the instance has synchronous standbys
    /// (<see cref="WalInstance.SynchronousStandbyNames"/>), once they have flushed it too;
    /// <see cref="SynchronousCommitLevel.RemoteWrite"/> and <see cref="SynchronousCommitLevel.RemoteApply"/>
    /// wait for them to write or apply it instead; <see cref="SynchronousCommitLevel.Local"/> waits for
    /// the local flush only. <see cref="SynchronousCommitLevel.Off"/>: asynchronous commit — it returns
    /// at once and the WAL writer makes it durable within three times
    /// <see cref="PgWal.Write.WalOptions.WalWriterDelay"/>; a crash may lose it.
    /// </summary>
    public SynchronousCommitLevel SynchronousCommit { get; init; } = SynchronousCommitLevel.On;

    /// <summary>
    /// True (default): a read never returns data a crash could take back — when the leaf it read
    /// holds a commit that is not durable yet, the read waits for it (PostgreSQL shows a synchronous
    /// commit to others only after its flush, too). With asynchronous commit you will usually turn
    /// this off, or reads of fresh data wait for the flushes the commits skipped.
    /// </summary>
    public bool DurableReads { get; init; } = true;

    /// <summary>The relation file holding the tree (base/5/16384 by default).</summary>
    public RelFileLocator Relation { get; init; } = new(1663, 5, 16384);
}
