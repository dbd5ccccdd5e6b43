// WalInstanceOptions: settings of a WalInstance beyond the engine's, named after PostgreSQL's
// (shared_buffers, checkpoint_timeout, checkpoint_completion_target, max_wal_size, min_wal_size,
// wal_keep_size, full_page_writes). Segment size, timeline and system identifier come from the
// data directory's control file, not from here.
using PgWal.Recovery;
using PgWal.Write;

namespace PgWal;

/// <summary>Settings for opening a data directory.</summary>
public sealed record WalInstanceOptions
{
    /// <summary>Engine settings (segment size, timeline and system identifier are taken from the control file).</summary>
    public WalOptions Wal { get; init; } = new();

    /// <summary>Most buffers a pool may have: PostgreSQL's shared_buffers limit (INT_MAX / 2, about 8 TB).</summary>
    public const int MaxSharedBuffers = int.MaxValue / 2;

    /// <summary>Buffers (8 kB pages) in the buffer pool (<c>shared_buffers</c>), 16 to <see cref="MaxSharedBuffers"/>. Default 16384 (128 MB).</summary>
    public int SharedBuffers { get; init; } = 16384;

    /// <summary><c>checkpoint_timeout</c>. Default 5 minutes.</summary>
    public TimeSpan CheckpointTimeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary><c>checkpoint_completion_target</c>: fraction of the interval to spread writes over. Default 0.9.</summary>
    public double CheckpointCompletionTarget { get; init; } = 0.9;

    /// <summary><c>max_wal_size</c> in bytes: WAL that triggers a checkpoint and caps recycling. Default 1 GB.</summary>
    public long MaxWalSize { get; init; } = 1L << 30;

    /// <summary><c>min_wal_size</c> in bytes: WAL kept for recycling at least. Default 80 MB.</summary>
    public long MinWalSize { get; init; } = 80L << 20;

    /// <summary><c>wal_keep_size</c> in bytes: extra WAL kept behind the redo point. Default 0.</summary>
    public long WalKeepSize { get; init; }

    /// <summary><c>full_page_writes</c>. Default on.</summary>
    public bool FullPageWrites { get; init; } = true;

    /// <summary>
    /// What crash recovery does with damaged WAL. Default <see cref="WalRecoveryMode.TolerateTornTail"/>:
    /// a torn last write is the end of the WAL, but damage followed by later WAL (or in WAL proven
    /// durable) stops the open with a <see cref="WalDamagedException"/> and changes nothing.
    /// <see cref="WalRecoveryMode.PointInTime"/> accepts the loss and sets the rest aside.
    /// </summary>
    public WalRecoveryMode RecoveryMode { get; init; } = WalRecoveryMode.TolerateTornTail;

    /// <summary>Run the background checkpointer (timed and size-triggered checkpoints). Default on.</summary>
    public bool BackgroundCheckpointer { get; init; } = true;

    /// <summary>The application resource managers whose records the WAL may contain.</summary>
    public ResourceManagerRegistry ResourceManagers { get; init; } = new();

    /// <summary>
    /// <c>archive_mode</c>. Default off. When on, every completed segment gets a
    /// <c>pg_wal/archive_status/&lt;name&gt;.ready</c>, the archiver sends it to
    /// <see cref="ArchiveModule"/> (or runs <see cref="ArchiveCommand"/>), and no segment is removed
    /// or recycled before it is archived.
    /// </summary>
    public Archive.ArchiveMode ArchiveMode { get; init; }

    /// <summary>
    /// <c>archive_command</c>: a shell command run once per file in the data directory, with
    /// <c>%p</c> = the file's path (<c>pg_wal/&lt;name&gt;</c>), <c>%f</c> = its name, <c>%%</c> = a
    /// percent sign. Exit 0 means archived. Ignored when <see cref="ArchiveModule"/> is set.
    /// </summary>
    public string? ArchiveCommand { get; init; }

    /// <summary>
    /// An in-process archive module (PostgreSQL 15's <c>archive_library</c>), such as
    /// <see cref="Archive.RepositoryArchiveModule"/>; takes precedence over <see cref="ArchiveCommand"/>.
    /// </summary>
    public Archive.IArchiveModule? ArchiveModule { get; init; }

    /// <summary>
    /// <c>archive_timeout</c>: switch to a new segment when this long has passed since the last
    /// switch and WAL was written since, so it is archived in time. Zero (the default) disables it.
    /// </summary>
    public TimeSpan ArchiveTimeout { get; init; }

    /// <summary>
    /// Archive recovery settings, used when the data directory holds <c>recovery.signal</c>. Null
    /// (the default): read from the directory's postgresql.conf and postgresql.auto.conf, as
    /// PostgreSQL does.
    /// </summary>
    public ArchiveRecoveryOptions? ArchiveRecovery { get; init; }

    /// <summary>max_replication_slots: physical slots this instance keeps (pg_replslot). Default 10.</summary>
    public int MaxReplicationSlots { get; init; } = 10;

    /// <summary>
    /// max_slot_wal_keep_size in bytes: the most WAL a slot may keep behind the current position;
    /// a slot further behind is invalidated ("lost") at a checkpoint. -1 (default): no limit.
    /// </summary>
    public long MaxSlotWalKeepSize { get; init; } = -1;

    /// <summary>Serve PostgreSQL's streaming replication protocol (a walsender server) while open; null (default): none.</summary>
    public Replication.Server.WalSenderOptions? WalSender { get; init; }

    /// <summary>
    /// Standby settings (primary_conninfo, primary_slot_name, restore_command, ...), used when the
    /// data directory holds standby.signal; null: read from its postgresql.conf / postgresql.auto.conf.
    /// </summary>
    public Standby.StandbyOptions? Standby { get; init; }

    /// <summary>
    /// <c>synchronous_standby_names</c>: the standbys whose confirmation commits wait for
    /// (<c>FIRST N (a, b)</c>, <c>ANY N (...)</c>, a plain list, <c>*</c>), matched against each
    /// walsender's application_name. Empty (the default): no synchronous replication. Changeable at
    /// run time through <see cref="WalInstance.SynchronousStandbyNames"/>; checked when the instance opens.
    /// </summary>
    public string SynchronousStandbyNames { get; init; } = "";

    /// <summary>
    /// <c>synchronous_commit</c>: how far <see cref="WalInstance.WaitForCommit"/> confirms a commit
    /// when the caller names no level. Default <see cref="Replication.Sync.SynchronousCommitLevel.On"/>
    /// (flushed locally and, with synchronous standbys, flushed by them).
    /// </summary>
    public Replication.Sync.SynchronousCommitLevel SynchronousCommit { get; init; } = Replication.Sync.SynchronousCommitLevel.On;

    /// <summary>Pause between the three attempts at archiving a file. Default 1 s, as PostgreSQL's archiver.</summary>
    public TimeSpan ArchiveRetryDelay { get; init; } = TimeSpan.FromSeconds(1);

    internal void Validate()
    {
        if (SharedBuffers is < 16 or > MaxSharedBuffers)
            throw new ArgumentOutOfRangeException(nameof(SharedBuffers), SharedBuffers, $"shared_buffers must be 16 to {MaxSharedBuffers} buffers");
        if (CheckpointTimeout < TimeSpan.FromMilliseconds(10))
            throw new ArgumentOutOfRangeException(nameof(CheckpointTimeout), CheckpointTimeout, "checkpoint_timeout is too small");
        if (CheckpointCompletionTarget is < 0 or > 1)
            throw new ArgumentOutOfRangeException(nameof(CheckpointCompletionTarget), CheckpointCompletionTarget, "checkpoint_completion_target must be between 0 and 1");
        if (!Enum.IsDefined(ArchiveMode))
            throw new ArgumentOutOfRangeException(nameof(ArchiveMode), ArchiveMode, "archive_mode must be off, on or always");
        if (ArchiveTimeout < TimeSpan.Zero || ArchiveRetryDelay < TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(ArchiveTimeout), "archive_timeout and the archive retry delay must not be negative");
        if (MaxWalSize <= 0 || MinWalSize <= 0 || WalKeepSize < 0)
            throw new ArgumentOutOfRangeException(nameof(MaxWalSize), "max_wal_size and min_wal_size must be positive, wal_keep_size non-negative");
        if (MaxReplicationSlots < 0 || MaxSlotWalKeepSize < -1)
            throw new ArgumentOutOfRangeException(nameof(MaxReplicationSlots), "max_replication_slots must not be negative, max_slot_wal_keep_size at least -1");
        if (!Enum.IsDefined(SynchronousCommit))
            throw new ArgumentOutOfRangeException(nameof(SynchronousCommit), SynchronousCommit, "synchronous_commit must be off, local, remote_write, on or remote_apply");
        if (!Replication.Sync.SynchronousStandbyNames.TryParse(SynchronousStandbyNames, out _, out string? error))
            throw new ArgumentException(error, nameof(SynchronousStandbyNames));
    }
}

/// <summary>Settings for creating a data directory (<c>pgwal init</c>, initdb).</summary>
public sealed record WalInitOptions
{
    /// <summary>WAL segment size. Default 16 MB.</summary>
    public int SegmentSize { get; init; } = Format.WalGeometry.DefaultSegmentSize;

    /// <summary>Data page checksums (initdb --data-checksums).</summary>
    public bool DataChecksums { get; init; }

    /// <summary>System identifier; 0 = generate one from the clock and process id, as initdb does.</summary>
    public ulong SystemIdentifier { get; init; }
}
