// ControlFileData: PostgreSQL 15's global/pg_control (catalog/pg_control.h, PG_CONTROL_VERSION 1300).
// Owns every byte offset of the file; pure Span functions, no I/O. Layout (x86-64, LP64; "pad" = zero):
//   0 system_identifier u64 | 8 pg_control_version u32 | 12 catalog_version_no u32 | 16 state u32 (DBState)
//   20 pad | 24 time i64 (pg_time_t) | 32 checkPoint u64 | 40 checkPointCopy (CheckPoint, 88 bytes)
//   128 unloggedLSN u64 | 136 minRecoveryPoint u64 | 144 minRecoveryPointTLI u32 | 148 pad
//   152 backupStartPoint u64 | 160 backupEndPoint u64 | 168 backupEndRequired bool | 169-171 pad
//   172 wal_level i32 | 176 wal_log_hints bool | 180 MaxConnections i32 | 184 max_worker_processes i32
//   188 max_wal_senders i32 | 192 max_prepared_xacts i32 | 196 max_locks_per_xact i32
//   200 track_commit_timestamp bool | 204 maxAlign u32 | 208 floatFormat f64 | 216 blcksz u32
//   220 relseg_size u32 | 224 xlog_blcksz u32 | 228 xlog_seg_size u32 | 232 nameDataLen u32
//   236 indexMaxKeys u32 | 240 toast_max_chunk_size u32 | 244 loblksize u32 | 248 float8ByVal bool
//   252 data_checksum_version u32 | 256 mock_authentication_nonce[32] | 288 crc u32 (CRC-32C of 0..287)
//   292 pad; sizeof(ControlFileData) = 296. The file is 8192 bytes, zeros after the struct.
// Readers (PostgreSQL and pg_controldata) read sizeof(ControlFileData) bytes and ignore the rest.
using System.Buffers.Binary;

namespace PgWal.Format;

/// <summary>The cluster state stored in pg_control (PostgreSQL's <c>DBState</c>).</summary>
public enum DatabaseState : uint
{
    /// <summary><c>DB_STARTUP</c>: "starting up".</summary>
    StartingUp = 0,
    /// <summary><c>DB_SHUTDOWNED</c>: "shut down" (clean shutdown).</summary>
    ShutDown = 1,
    /// <summary><c>DB_SHUTDOWNED_IN_RECOVERY</c>: "shut down in recovery".</summary>
    ShutDownInRecovery = 2,
    /// <summary><c>DB_SHUTDOWNING</c>: "shutting down".</summary>
    ShuttingDown = 3,
    /// <summary><c>DB_IN_CRASH_RECOVERY</c>: "in crash recovery".</summary>
    InCrashRecovery = 4,
    /// <summary><c>DB_IN_ARCHIVE_RECOVERY</c>: "in archive recovery".</summary>
    InArchiveRecovery = 5,
    /// <summary><c>DB_IN_PRODUCTION</c>: "in production".</summary>
    InProduction = 6,
}

/// <summary>
/// The contents of PostgreSQL 15's <c>global/pg_control</c> (<c>ControlFileData</c>). Defaults are
/// the settings of a fresh <c>initdb</c> cluster on x86-64; identifiers, positions and times default to 0.
/// </summary>
public sealed record ControlFileData
{
    /// <summary>Physical size of the file (<c>PG_CONTROL_FILE_SIZE</c>).</summary>
    public const int FileSize = 8192;
    /// <summary>Bytes that carry data: <c>offsetof(ControlFileData, crc) + 4</c>.</summary>
    public const int DataSize = CrcOffset + 4;
    /// <summary><c>sizeof(ControlFileData)</c> (includes 4 bytes of trailing padding); what PostgreSQL reads.</summary>
    public const int StructSize = 296;
    /// <summary><c>PG_CONTROL_VERSION</c> of PostgreSQL 15.</summary>
    public const uint Version = 1300;
    /// <summary><c>CATALOG_VERSION_NO</c> of PostgreSQL 15.</summary>
    public const uint CatalogVersion = 202209061;
    /// <summary><c>FLOATFORMAT_VALUE</c>.</summary>
    public const double FloatFormatValue = 1234567.0;
    /// <summary><c>MOCK_AUTH_NONCE_LEN</c>.</summary>
    public const int MockAuthNonceLength = MockAuthNonce.Length;

    /// <summary>Offset of <c>system_identifier</c>.</summary>
    public const int SystemIdentifierOffset = 0;
    /// <summary>Offset of <c>pg_control_version</c>.</summary>
    public const int ControlVersionOffset = 8;
    /// <summary>Offset of <c>catalog_version_no</c>.</summary>
    public const int CatalogVersionOffset = 12;
    /// <summary>Offset of <c>state</c>.</summary>
    public const int StateOffset = 16;
    /// <summary>Offset of <c>time</c>.</summary>
    public const int TimeOffset = 24;
    /// <summary>Offset of <c>checkPoint</c>.</summary>
    public const int CheckPointLocationOffset = 32;
    /// <summary>Offset of <c>checkPointCopy</c>.</summary>
    public const int CheckPointCopyOffset = 40;
    /// <summary>Offset of <c>unloggedLSN</c>.</summary>
    public const int UnloggedLsnOffset = CheckPointCopyOffset + CheckPoint.Size; // 128
    /// <summary>Offset of <c>minRecoveryPoint</c>.</summary>
    public const int MinRecoveryPointOffset = 136;
    /// <summary>Offset of <c>minRecoveryPointTLI</c>.</summary>
    public const int MinRecoveryPointTimelineOffset = 144;
    /// <summary>Offset of <c>backupStartPoint</c>.</summary>
    public const int BackupStartPointOffset = 152;
    /// <summary>Offset of <c>backupEndPoint</c>.</summary>
    public const int BackupEndPointOffset = 160;
    /// <summary>Offset of <c>backupEndRequired</c>.</summary>
    public const int BackupEndRequiredOffset = 168;
    /// <summary>Offset of <c>wal_level</c>.</summary>
    public const int WalLevelOffset = 172;
    /// <summary>Offset of <c>wal_log_hints</c>.</summary>
    public const int WalLogHintsOffset = 176;
    /// <summary>Offset of <c>MaxConnections</c>.</summary>
    public const int MaxConnectionsOffset = 180;
    /// <summary>Offset of <c>max_worker_processes</c>.</summary>
    public const int MaxWorkerProcessesOffset = 184;
    /// <summary>Offset of <c>max_wal_senders</c>.</summary>
    public const int MaxWalSendersOffset = 188;
    /// <summary>Offset of <c>max_prepared_xacts</c>.</summary>
    public const int MaxPreparedXactsOffset = 192;
    /// <summary>Offset of <c>max_locks_per_xact</c>.</summary>
    public const int MaxLocksPerXactOffset = 196;
    /// <summary>Offset of <c>track_commit_timestamp</c>.</summary>
    public const int TrackCommitTimestampOffset = 200;
    /// <summary>Offset of <c>maxAlign</c>.</summary>
    public const int MaxAlignOffset = 204;
    /// <summary>Offset of <c>floatFormat</c>.</summary>
    public const int FloatFormatOffset = 208;
    /// <summary>Offset of <c>blcksz</c>.</summary>
    public const int BlockSizeOffset = 216;
    /// <summary>Offset of <c>relseg_size</c>.</summary>
    public const int RelSegSizeOffset = 220;
    /// <summary>Offset of <c>xlog_blcksz</c>.</summary>
    public const int WalBlockSizeOffset = 224;
    /// <summary>Offset of <c>xlog_seg_size</c>.</summary>
    public const int WalSegmentSizeOffset = 228;
    /// <summary>Offset of <c>nameDataLen</c>.</summary>
    public const int NameDataLenOffset = 232;
    /// <summary>Offset of <c>indexMaxKeys</c>.</summary>
    public const int IndexMaxKeysOffset = 236;
    /// <summary>Offset of <c>toast_max_chunk_size</c>.</summary>
    public const int ToastMaxChunkSizeOffset = 240;
    /// <summary>Offset of <c>loblksize</c>.</summary>
    public const int LargeObjectBlockSizeOffset = 244;
    /// <summary>Offset of <c>float8ByVal</c>.</summary>
    public const int Float8ByValOffset = 248;
    /// <summary>Offset of <c>data_checksum_version</c>.</summary>
    public const int DataChecksumVersionOffset = 252;
    /// <summary>Offset of <c>mock_authentication_nonce</c>.</summary>
    public const int MockAuthNonceOffset = 256;
    /// <summary>Offset of <c>crc</c>; the CRC covers bytes [0, CrcOffset).</summary>
    public const int CrcOffset = MockAuthNonceOffset + MockAuthNonceLength; // 288

    // PostgreSQL 18 (PG_CONTROL_VERSION 1800) put default_char_signedness before the nonce, which
    // moves the nonce and the CRC; 16 and 17 (1300, 1700) read as 15 does (17's checkpoint wal_level
    // sits in what was padding). Decode and the CRC helpers follow the version stored in the file:
    // exactly 1800 selects 18's layout; anything else (damage included) is read as 15's, which is
    // what pg_controldata 15 does with every file.
    /// <summary><c>PG_CONTROL_VERSION</c> of PostgreSQL 18.</summary>
    public const uint Version18 = 1800;
    /// <summary>PostgreSQL 18: offset of <c>default_char_signedness</c>.</summary>
    public const int DefaultCharSignednessOffset18 = 256;
    /// <summary>PostgreSQL 18: offset of <c>mock_authentication_nonce</c>.</summary>
    public const int MockAuthNonceOffset18 = 257;
    /// <summary>PostgreSQL 18: offset of <c>crc</c>.</summary>
    public const int CrcOffset18 = 292;

    private static bool IsLayout18(ReadOnlySpan<byte> file)
        => file.Length >= CrcOffset18 + 4 && BinaryPrimitives.ReadUInt32LittleEndian(file[ControlVersionOffset..]) == Version18;

    private static int CrcOffsetOf(ReadOnlySpan<byte> file) => IsLayout18(file) ? CrcOffset18 : CrcOffset;

    /// <summary>Unique cluster identifier, also stored in every WAL segment's long page header.</summary>
    public ulong SystemIdentifier { get; init; }
    /// <summary><c>pg_control_version</c>: the format of this file.</summary>
    public uint ControlVersion { get; init; } = Version;
    /// <summary><c>catalog_version_no</c>: the format of the system catalogs.</summary>
    public uint CatalogVersionNo { get; init; } = CatalogVersion;
    /// <summary>Cluster state.</summary>
    public DatabaseState State { get; init; } = DatabaseState.ShutDown;
    /// <summary>Time of the last pg_control update, Unix seconds (<c>pg_time_t</c>).</summary>
    public long Time { get; init; }
    /// <summary>Location of the last checkpoint record (<c>checkPoint</c>).</summary>
    public Lsn CheckPointLocation { get; init; }
    /// <summary>Copy of the last checkpoint record's payload (<c>checkPointCopy</c>).</summary>
    public CheckPoint CheckPointCopy { get; init; }
    /// <summary>Fake LSN counter for unlogged relations (<c>unloggedLSN</c>).</summary>
    public Lsn UnloggedLsn { get; init; }
    /// <summary>Replay must reach this point before the cluster may start (archive recovery).</summary>
    public Lsn MinRecoveryPoint { get; init; }
    /// <summary>Timeline of <see cref="MinRecoveryPoint"/>.</summary>
    public TimelineId MinRecoveryPointTimeline { get; init; }
    /// <summary>REDO point of the backup being restored, until its end is reached.</summary>
    public Lsn BackupStartPoint { get; init; }
    /// <summary>End of a backup taken from a standby, until it is reached.</summary>
    public Lsn BackupEndPoint { get; init; }
    /// <summary>True when an end-of-backup record must be seen before startup.</summary>
    public bool BackupEndRequired { get; init; }
    /// <summary><c>wal_level</c>: 0 minimal, 1 replica, 2 logical.</summary>
    public int WalLevel { get; init; } = 1;
    /// <summary><c>wal_log_hints</c>.</summary>
    public bool WalLogHints { get; init; }
    /// <summary><c>max_connections</c>.</summary>
    public int MaxConnections { get; init; } = 100;
    /// <summary><c>max_worker_processes</c>.</summary>
    public int MaxWorkerProcesses { get; init; } = 8;
    /// <summary><c>max_wal_senders</c>.</summary>
    public int MaxWalSenders { get; init; } = 10;
    /// <summary><c>max_prepared_transactions</c>.</summary>
    public int MaxPreparedXacts { get; init; }
    /// <summary><c>max_locks_per_transaction</c>.</summary>
    public int MaxLocksPerXact { get; init; } = 64;
    /// <summary><c>track_commit_timestamp</c>.</summary>
    public bool TrackCommitTimestamp { get; init; }
    /// <summary><c>MAXIMUM_ALIGNOF</c> of the server build.</summary>
    public uint MaxAlign { get; init; } = 8;
    /// <summary>Floating-point format check value, normally <see cref="FloatFormatValue"/>.</summary>
    public double FloatFormat { get; init; } = FloatFormatValue;
    /// <summary>Data page size (<c>BLCKSZ</c>).</summary>
    public uint BlockSize { get; init; } = 8192;
    /// <summary>Blocks per segment of a large relation (<c>RELSEG_SIZE</c>).</summary>
    public uint RelSegSize { get; init; } = 131072;
    /// <summary>WAL page size (<c>XLOG_BLCKSZ</c>).</summary>
    public uint WalBlockSize { get; init; } = WalGeometry.PageSize;
    /// <summary>Bytes per WAL segment file.</summary>
    public uint WalSegmentSize { get; init; } = WalGeometry.DefaultSegmentSize;
    /// <summary>Width of catalog names (<c>NAMEDATALEN</c>).</summary>
    public uint NameDataLen { get; init; } = 64;
    /// <summary>Maximum number of index columns (<c>INDEX_MAX_KEYS</c>).</summary>
    public uint IndexMaxKeys { get; init; } = 32;
    /// <summary>Size of a TOAST chunk (<c>TOAST_MAX_CHUNK_SIZE</c>).</summary>
    public uint ToastMaxChunkSize { get; init; } = 1996;
    /// <summary>Size of a pg_largeobject chunk (<c>LOBLKSIZE</c>).</summary>
    public uint LargeObjectBlockSize { get; init; } = 2048;
    /// <summary>True when float8/int8 are passed by value (<c>FLOAT8PASSBYVAL</c>).</summary>
    public bool Float8ByVal { get; init; } = true;
    /// <summary>Data page checksum version; 0 when data checksums are off.</summary>
    public uint DataChecksumVersion { get; init; }
    /// <summary>Cluster-unique random nonce for mock authentication.</summary>
    public MockAuthNonce MockAuthenticationNonce { get; init; }

    /// <summary>PostgreSQL 18's <c>default_char_signedness</c>; null for the versions before it.</summary>
    public bool? DefaultCharSignedness { get; init; }

    /// <summary>
    /// Encodes the whole file: the struct, its CRC-32C at <see cref="CrcOffset"/>, and zeros up to
    /// <see cref="FileSize"/> (padding included).
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is shorter than <see cref="FileSize"/>.</exception>
    public void Write(Span<byte> destination)
    {
        if (destination.Length < FileSize)
            throw new ArgumentException($"pg_control needs {FileSize} bytes, got {destination.Length}", nameof(destination));
        Span<byte> b = destination[..FileSize];
        b.Clear();
        BinaryPrimitives.WriteUInt64LittleEndian(b[SystemIdentifierOffset..], SystemIdentifier);
        BinaryPrimitives.WriteUInt32LittleEndian(b[ControlVersionOffset..], ControlVersion);
        BinaryPrimitives.WriteUInt32LittleEndian(b[CatalogVersionOffset..], CatalogVersionNo);
        BinaryPrimitives.WriteUInt32LittleEndian(b[StateOffset..], (uint)State);
        BinaryPrimitives.WriteInt64LittleEndian(b[TimeOffset..], Time);
        BinaryPrimitives.WriteUInt64LittleEndian(b[CheckPointLocationOffset..], CheckPointLocation.Value);
        CheckPointCopy.Write(b.Slice(CheckPointCopyOffset, CheckPoint.Size));
        BinaryPrimitives.WriteUInt64LittleEndian(b[UnloggedLsnOffset..], UnloggedLsn.Value);
        BinaryPrimitives.WriteUInt64LittleEndian(b[MinRecoveryPointOffset..], MinRecoveryPoint.Value);
        BinaryPrimitives.WriteUInt32LittleEndian(b[MinRecoveryPointTimelineOffset..], MinRecoveryPointTimeline.Value);
        BinaryPrimitives.WriteUInt64LittleEndian(b[BackupStartPointOffset..], BackupStartPoint.Value);
        BinaryPrimitives.WriteUInt64LittleEndian(b[BackupEndPointOffset..], BackupEndPoint.Value);
        b[BackupEndRequiredOffset] = ToByte(BackupEndRequired);
        BinaryPrimitives.WriteInt32LittleEndian(b[WalLevelOffset..], WalLevel);
        b[WalLogHintsOffset] = ToByte(WalLogHints);
        BinaryPrimitives.WriteInt32LittleEndian(b[MaxConnectionsOffset..], MaxConnections);
        BinaryPrimitives.WriteInt32LittleEndian(b[MaxWorkerProcessesOffset..], MaxWorkerProcesses);
        BinaryPrimitives.WriteInt32LittleEndian(b[MaxWalSendersOffset..], MaxWalSenders);
        BinaryPrimitives.WriteInt32LittleEndian(b[MaxPreparedXactsOffset..], MaxPreparedXacts);
        BinaryPrimitives.WriteInt32LittleEndian(b[MaxLocksPerXactOffset..], MaxLocksPerXact);
        b[TrackCommitTimestampOffset] = ToByte(TrackCommitTimestamp);
        BinaryPrimitives.WriteUInt32LittleEndian(b[MaxAlignOffset..], MaxAlign);
        BinaryPrimitives.WriteDoubleLittleEndian(b[FloatFormatOffset..], FloatFormat);
        BinaryPrimitives.WriteUInt32LittleEndian(b[BlockSizeOffset..], BlockSize);
        BinaryPrimitives.WriteUInt32LittleEndian(b[RelSegSizeOffset..], RelSegSize);
        BinaryPrimitives.WriteUInt32LittleEndian(b[WalBlockSizeOffset..], WalBlockSize);
        BinaryPrimitives.WriteUInt32LittleEndian(b[WalSegmentSizeOffset..], WalSegmentSize);
        BinaryPrimitives.WriteUInt32LittleEndian(b[NameDataLenOffset..], NameDataLen);
        BinaryPrimitives.WriteUInt32LittleEndian(b[IndexMaxKeysOffset..], IndexMaxKeys);
        BinaryPrimitives.WriteUInt32LittleEndian(b[ToastMaxChunkSizeOffset..], ToastMaxChunkSize);
        BinaryPrimitives.WriteUInt32LittleEndian(b[LargeObjectBlockSizeOffset..], LargeObjectBlockSize);
        b[Float8ByValOffset] = ToByte(Float8ByVal);
        BinaryPrimitives.WriteUInt32LittleEndian(b[DataChecksumVersionOffset..], DataChecksumVersion);
        MockAuthenticationNonce.CopyTo(b.Slice(MockAuthNonceOffset, MockAuthNonceLength));
        BinaryPrimitives.WriteUInt32LittleEndian(b[CrcOffset..], ComputeCrc(b));
    }

    /// <summary>
    /// Decodes the struct without checking anything (pg_controldata's view: it prints whatever is
    /// there). Booleans are true for any non-zero byte; padding is ignored.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="file"/> is shorter than <see cref="DataSize"/>.</exception>
    public static ControlFileData Decode(ReadOnlySpan<byte> file)
    {
        if (file.Length < DataSize)
            throw new ArgumentException($"pg_control data needs {DataSize} bytes, got {file.Length}", nameof(file));
        return new ControlFileData
        {
            SystemIdentifier = BinaryPrimitives.ReadUInt64LittleEndian(file[SystemIdentifierOffset..]),
            ControlVersion = BinaryPrimitives.ReadUInt32LittleEndian(file[ControlVersionOffset..]),
            CatalogVersionNo = BinaryPrimitives.ReadUInt32LittleEndian(file[CatalogVersionOffset..]),
            State = (DatabaseState)BinaryPrimitives.ReadUInt32LittleEndian(file[StateOffset..]),
            Time = BinaryPrimitives.ReadInt64LittleEndian(file[TimeOffset..]),
            CheckPointLocation = new Lsn(BinaryPrimitives.ReadUInt64LittleEndian(file[CheckPointLocationOffset..])),
            CheckPointCopy = CheckPoint.Read(file.Slice(CheckPointCopyOffset, CheckPoint.Size)) with { WalLevel = 0 },
            UnloggedLsn = new Lsn(BinaryPrimitives.ReadUInt64LittleEndian(file[UnloggedLsnOffset..])),
            MinRecoveryPoint = new Lsn(BinaryPrimitives.ReadUInt64LittleEndian(file[MinRecoveryPointOffset..])),
            MinRecoveryPointTimeline = new TimelineId(BinaryPrimitives.ReadUInt32LittleEndian(file[MinRecoveryPointTimelineOffset..])),
            BackupStartPoint = new Lsn(BinaryPrimitives.ReadUInt64LittleEndian(file[BackupStartPointOffset..])),
            BackupEndPoint = new Lsn(BinaryPrimitives.ReadUInt64LittleEndian(file[BackupEndPointOffset..])),
            BackupEndRequired = file[BackupEndRequiredOffset] != 0,
            WalLevel = BinaryPrimitives.ReadInt32LittleEndian(file[WalLevelOffset..]),
            WalLogHints = file[WalLogHintsOffset] != 0,
            MaxConnections = BinaryPrimitives.ReadInt32LittleEndian(file[MaxConnectionsOffset..]),
            MaxWorkerProcesses = BinaryPrimitives.ReadInt32LittleEndian(file[MaxWorkerProcessesOffset..]),
            MaxWalSenders = BinaryPrimitives.ReadInt32LittleEndian(file[MaxWalSendersOffset..]),
            MaxPreparedXacts = BinaryPrimitives.ReadInt32LittleEndian(file[MaxPreparedXactsOffset..]),
            MaxLocksPerXact = BinaryPrimitives.ReadInt32LittleEndian(file[MaxLocksPerXactOffset..]),
            TrackCommitTimestamp = file[TrackCommitTimestampOffset] != 0,
            MaxAlign = BinaryPrimitives.ReadUInt32LittleEndian(file[MaxAlignOffset..]),
            FloatFormat = BinaryPrimitives.ReadDoubleLittleEndian(file[FloatFormatOffset..]),
            BlockSize = BinaryPrimitives.ReadUInt32LittleEndian(file[BlockSizeOffset..]),
            RelSegSize = BinaryPrimitives.ReadUInt32LittleEndian(file[RelSegSizeOffset..]),
            WalBlockSize = BinaryPrimitives.ReadUInt32LittleEndian(file[WalBlockSizeOffset..]),
            WalSegmentSize = BinaryPrimitives.ReadUInt32LittleEndian(file[WalSegmentSizeOffset..]),
            NameDataLen = BinaryPrimitives.ReadUInt32LittleEndian(file[NameDataLenOffset..]),
            IndexMaxKeys = BinaryPrimitives.ReadUInt32LittleEndian(file[IndexMaxKeysOffset..]),
            ToastMaxChunkSize = BinaryPrimitives.ReadUInt32LittleEndian(file[ToastMaxChunkSizeOffset..]),
            LargeObjectBlockSize = BinaryPrimitives.ReadUInt32LittleEndian(file[LargeObjectBlockSizeOffset..]),
            Float8ByVal = file[Float8ByValOffset] != 0,
            DataChecksumVersion = BinaryPrimitives.ReadUInt32LittleEndian(file[DataChecksumVersionOffset..]),
            MockAuthenticationNonce = new MockAuthNonce(file.Slice(IsLayout18(file) ? MockAuthNonceOffset18 : MockAuthNonceOffset, MockAuthNonceLength)),
            DefaultCharSignedness = IsLayout18(file) ? file[DefaultCharSignednessOffset18] != 0 : null,
        };
    }

    /// <summary>
    /// Decodes and validates a control file the way PostgreSQL 15's <c>ReadControlFile</c> does
    /// before its compatibility checks: length, then <c>pg_control_version</c>, then the CRC.
    /// Never throws; on failure <paramref name="data"/> is null and <paramref name="error"/> says why.
    /// </summary>
    public static bool TryRead(ReadOnlySpan<byte> file, out ControlFileData? data, out string? error)
    {
        data = null;
        error = null;
        if (file.Length < StructSize)
        {
            error = $"could not read control file: read {file.Length} of {StructSize} bytes";
            return false;
        }
        uint version = BinaryPrimitives.ReadUInt32LittleEndian(file[ControlVersionOffset..]);
        if (version != Version)
        {
            // PostgreSQL prints the version with %d; a byte-swapped 1300 is a multiple of 65536.
            error = version % 65536 == 0 && version / 65536 != 0
                ? $"database files are incompatible with server: the database cluster was initialized with PG_CONTROL_VERSION {(int)version} (0x{version:x8}), but PgWal reads PG_CONTROL_VERSION {Version} (0x{Version:x8}); this could be a problem of mismatched byte ordering"
                : $"database files are incompatible with server: the database cluster was initialized with PG_CONTROL_VERSION {(int)version}, but PgWal reads PG_CONTROL_VERSION {Version}";
            return false;
        }
        if (!CrcMatches(file))
        {
            error = $"incorrect checksum in control file: calculated 0x{ComputeCrc(file):X8}, stored 0x{StoredCrc(file):X8}";
            return false;
        }
        data = Decode(file);
        return true;
    }

    /// <summary>True when the stored CRC matches the bytes before it (false when the span is too short).</summary>
    public static bool CrcMatches(ReadOnlySpan<byte> file)
        => file.Length >= DataSize && ComputeCrc(file) == StoredCrc(file);

    /// <summary>CRC-32C of the bytes before the CRC (<see cref="CrcOffset"/>; 18's layout: <see cref="CrcOffset18"/>), as PostgreSQL computes it.</summary>
    public static uint ComputeCrc(ReadOnlySpan<byte> file) => Crc32C.Compute(file[..CrcOffsetOf(file)]);

    /// <summary>The CRC stored after the data (<see cref="CrcOffset"/>; 18's layout: <see cref="CrcOffset18"/>).</summary>
    public static uint StoredCrc(ReadOnlySpan<byte> file) => BinaryPrimitives.ReadUInt32LittleEndian(file[CrcOffsetOf(file)..]);

    private static byte ToByte(bool value) => value ? (byte)1 : (byte)0;
}
