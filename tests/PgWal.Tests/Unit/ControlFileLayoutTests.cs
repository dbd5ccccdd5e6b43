using System.Buffers.Binary;
using PgWal.Diagnostics;
using PgWal.Format;
using PgWal.Tests.Interop;

namespace PgWal.Tests.Unit;

// pg_control's layout asserted against pg_control.h laid out by the x86-64 C rules (each member at
// the next multiple of its alignment, the struct padded to its largest alignment), plus TryRead's
// rejections and the C-locale "%c" times. ControlFileInteropTests checks the same against real files.
public class ControlFileLayoutTests
{
    // ControlFileData's members in declaration order: name, size, alignment (CheckPoint aligns to 8).
    private static readonly (string Name, int Size, int Align)[] s_members =
    [
        ("system_identifier", 8, 8), ("pg_control_version", 4, 4), ("catalog_version_no", 4, 4),
        ("state", 4, 4), ("time", 8, 8), ("checkPoint", 8, 8), ("checkPointCopy", 88, 8),
        ("unloggedLSN", 8, 8), ("minRecoveryPoint", 8, 8), ("minRecoveryPointTLI", 4, 4),
        ("backupStartPoint", 8, 8), ("backupEndPoint", 8, 8), ("backupEndRequired", 1, 1),
        ("wal_level", 4, 4), ("wal_log_hints", 1, 1), ("MaxConnections", 4, 4),
        ("max_worker_processes", 4, 4), ("max_wal_senders", 4, 4), ("max_prepared_xacts", 4, 4),
        ("max_locks_per_xact", 4, 4), ("track_commit_timestamp", 1, 1), ("maxAlign", 4, 4),
        ("floatFormat", 8, 8), ("blcksz", 4, 4), ("relseg_size", 4, 4), ("xlog_blcksz", 4, 4),
        ("xlog_seg_size", 4, 4), ("nameDataLen", 4, 4), ("indexMaxKeys", 4, 4),
        ("toast_max_chunk_size", 4, 4), ("loblksize", 4, 4), ("float8ByVal", 1, 1),
        ("data_checksum_version", 4, 4), ("mock_authentication_nonce", 32, 1), ("crc", 4, 4),
    ];

    private static readonly Dictionary<string, int> s_offsets = new()
    {
        ["system_identifier"] = ControlFileData.SystemIdentifierOffset,
        ["pg_control_version"] = ControlFileData.ControlVersionOffset,
        ["catalog_version_no"] = ControlFileData.CatalogVersionOffset,
        ["state"] = ControlFileData.StateOffset,
        ["time"] = ControlFileData.TimeOffset,
        ["checkPoint"] = ControlFileData.CheckPointLocationOffset,
        ["checkPointCopy"] = ControlFileData.CheckPointCopyOffset,
        ["unloggedLSN"] = ControlFileData.UnloggedLsnOffset,
        ["minRecoveryPoint"] = ControlFileData.MinRecoveryPointOffset,
        ["minRecoveryPointTLI"] = ControlFileData.MinRecoveryPointTimelineOffset,
        ["backupStartPoint"] = ControlFileData.BackupStartPointOffset,
        ["backupEndPoint"] = ControlFileData.BackupEndPointOffset,
        ["backupEndRequired"] = ControlFileData.BackupEndRequiredOffset,
        ["wal_level"] = ControlFileData.WalLevelOffset,
        ["wal_log_hints"] = ControlFileData.WalLogHintsOffset,
        ["MaxConnections"] = ControlFileData.MaxConnectionsOffset,
        ["max_worker_processes"] = ControlFileData.MaxWorkerProcessesOffset,
        ["max_wal_senders"] = ControlFileData.MaxWalSendersOffset,
        ["max_prepared_xacts"] = ControlFileData.MaxPreparedXactsOffset,
        ["max_locks_per_xact"] = ControlFileData.MaxLocksPerXactOffset,
        ["track_commit_timestamp"] = ControlFileData.TrackCommitTimestampOffset,
        ["maxAlign"] = ControlFileData.MaxAlignOffset,
        ["floatFormat"] = ControlFileData.FloatFormatOffset,
        ["blcksz"] = ControlFileData.BlockSizeOffset,
        ["relseg_size"] = ControlFileData.RelSegSizeOffset,
        ["xlog_blcksz"] = ControlFileData.WalBlockSizeOffset,
        ["xlog_seg_size"] = ControlFileData.WalSegmentSizeOffset,
        ["nameDataLen"] = ControlFileData.NameDataLenOffset,
        ["indexMaxKeys"] = ControlFileData.IndexMaxKeysOffset,
        ["toast_max_chunk_size"] = ControlFileData.ToastMaxChunkSizeOffset,
        ["loblksize"] = ControlFileData.LargeObjectBlockSizeOffset,
        ["float8ByVal"] = ControlFileData.Float8ByValOffset,
        ["data_checksum_version"] = ControlFileData.DataChecksumVersionOffset,
        ["mock_authentication_nonce"] = ControlFileData.MockAuthNonceOffset,
        ["crc"] = ControlFileData.CrcOffset,
    };

    /// <summary>Padding inside the struct, CheckPoint's included (start, length).</summary>
    internal static readonly (int Start, int Length)[] Padding =
    [
        (20, 4), (40 + 17, 3), (40 + 20, 4), (40 + 60, 4), (40 + 84, 4), (148, 4), (169, 3),
        (177, 3), (201, 3), (249, 3), (292, 4),
    ];

    [Fact]
    public void Offsets_MatchPgControlH_LaidOutForX86_64()
    {
        int offset = 0, maxAlign = 1;
        var padding = new List<(int, int)>();
        foreach (var (name, size, align) in s_members)
        {
            int aligned = (offset + align - 1) / align * align;
            if (aligned != offset)
                padding.Add((offset, aligned - offset));
            Assert.True(aligned == s_offsets[name], $"{name}: C offset {aligned}, constant {s_offsets[name]}");
            offset = aligned + size;
            maxAlign = Math.Max(maxAlign, align);
        }
        Assert.Equal(ControlFileData.DataSize, offset);
        int sizeOf = (offset + maxAlign - 1) / maxAlign * maxAlign;
        padding.Add((offset, sizeOf - offset));
        Assert.Equal(ControlFileData.StructSize, sizeOf);
        Assert.Equal(s_members.Length, s_offsets.Count);
        Assert.Equal(Padding.Where(p => p.Start < 40 || p.Start >= 128), padding);
    }

    [Fact]
    public void Constants_MatchPostgreSql15()
    {
        Assert.Equal(8192, ControlFileData.FileSize);
        Assert.Equal(292, ControlFileData.DataSize);
        Assert.Equal(296, ControlFileData.StructSize);
        Assert.Equal(1300u, ControlFileData.Version);
        Assert.Equal(202209061u, ControlFileData.CatalogVersion);
        Assert.Equal(40, ControlFileData.CheckPointCopyOffset);
        Assert.Equal(288, ControlFileData.CrcOffset);
    }

    [Fact]
    public void Write_FillsFileSize_CrcOverBytesBeforeCrc_ZerosElsewhere()
    {
        var file = new byte[ControlFileData.FileSize + 10];
        file.AsSpan().Fill(0xEE);
        ControlFileInteropTests.Distinctive().Write(file);
        Assert.Equal(Crc32C.Compute(file.AsSpan(0, ControlFileData.CrcOffset)),
            BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(ControlFileData.CrcOffset)));
        Assert.True(file.AsSpan(ControlFileData.DataSize, ControlFileData.FileSize - ControlFileData.DataSize).IndexOfAnyExcept((byte)0) < 0);
        foreach (var (start, length) in Padding)
            Assert.True(file.AsSpan(start, length).IndexOfAnyExcept((byte)0) < 0, $"padding at {start}");
        Assert.True(file.AsSpan(ControlFileData.FileSize).IndexOfAnyExcept((byte)0xEE) < 0);
        Assert.Equal(1234567.0, BinaryPrimitives.ReadDoubleLittleEndian(file.AsSpan(ControlFileData.FloatFormatOffset)));
    }

    [Fact]
    public void Write_ShortDestination_Throws()
        => Assert.Throws<ArgumentException>(() => new ControlFileData().Write(new byte[ControlFileData.FileSize - 1]));

    [Fact]
    public void Decode_OfWrite_RoundTrips()
    {
        var data = ControlFileInteropTests.Distinctive();
        var file = new byte[ControlFileData.FileSize];
        data.Write(file);
        Assert.True(ControlFileData.TryRead(file, out var read, out string? error), error);
        Assert.Equal(data, read);
        Assert.Equal(data, ControlFileData.Decode(file));
    }

    [Fact]
    public void TryRead_TruncatedFile_Fails()
    {
        var file = Written();
        Assert.False(ControlFileData.TryRead(file.AsSpan(0, 295), out var data, out string? error));
        Assert.Null(data);
        Assert.Equal("could not read control file: read 295 of 296 bytes", error);
        Assert.True(ControlFileData.TryRead(file.AsSpan(0, ControlFileData.StructSize), out _, out _));
    }

    [Fact]
    public void TryRead_WrongVersion_Fails()
    {
        var file = Written(new ControlFileData { ControlVersion = 1201 });
        Assert.False(ControlFileData.TryRead(file, out _, out string? error));
        Assert.Equal("database files are incompatible with server: the database cluster was initialized with " +
            "PG_CONTROL_VERSION 1201, but PgWal reads PG_CONTROL_VERSION 1300", error);
    }

    [Fact]
    public void TryRead_ByteSwappedVersion_MentionsByteOrdering()
    {
        var file = Written(new ControlFileData { ControlVersion = 0x1405_0000 });
        Assert.False(ControlFileData.TryRead(file, out _, out string? error));
        Assert.Contains("PG_CONTROL_VERSION 335872000 (0x14050000)", error);
        Assert.EndsWith("this could be a problem of mismatched byte ordering", error);
    }

    [Fact]
    public void TryRead_BadCrc_Fails()
    {
        var file = Written();
        file[ControlFileData.MaxConnectionsOffset]++;
        Assert.False(ControlFileData.TryRead(file, out var data, out string? error));
        Assert.Null(data);
        Assert.StartsWith("incorrect checksum in control file: calculated 0x", error);
        Assert.Contains($"stored 0x{ControlFileData.StoredCrc(file):X8}", error);
        Assert.False(ControlFileData.CrcMatches(file));
        Assert.Equal(101, ControlFileData.Decode(file).MaxConnections); // still decodable, as pg_controldata does
    }

    [Fact]
    public void TryRead_Garbage_NeverThrows()
    {
        var rng = new Random(5);
        foreach (int length in new[] { 0, 1, 8, 12, 100, 291, 292, 295, 296, 297, 8192 })
        {
            var bytes = new byte[length];
            for (int i = 0; i < 50; i++)
            {
                rng.NextBytes(bytes);
                if (length >= 12 && i % 2 == 0)
                    BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(8), ControlFileData.Version);
                Assert.False(ControlFileData.TryRead(bytes, out _, out string? error));
                Assert.NotNull(error);
                Assert.False(ControlFileData.CrcMatches(bytes));
            }
        }
    }

    [Theory]
    [InlineData(0L, "Thu Jan  1 00:00:00 1970")]
    [InlineData(-1L, "Wed Dec 31 23:59:59 1969")]
    [InlineData(1_700_000_000L, "Tue Nov 14 22:13:20 2023")]
    [InlineData(-62_135_596_801L, "Sun Dec 31 23:59:59 0")]
    [InlineData(-80_000_000_000L, "Wed Nov 26 01:46:40 -566")]
    [InlineData(253_402_300_800L, "Sat Jan  1 00:00:00 10000")]
    [InlineData(67_767_976_233_532_800L, "Wed Jan  1 00:00:00 -2147483648")]
    [InlineData(67_768_036_191_676_799L, "Wed Dec 31 23:59:59 -2147481749")]
    [InlineData(67_768_036_191_676_800L, "???")]
    [InlineData(-67_768_040_609_740_800L, "Thu Jan  1 00:00:00 -2147481748")]
    [InlineData(-67_768_040_609_740_801L, "???")]
    [InlineData(long.MaxValue, "???")]
    [InlineData(long.MinValue, "???")]
    public void CTime_MatchesGlibcStrftimeC_InUtc(long unixSeconds, string expected)
        => Assert.Equal(expected, ControlDataText.CTime(unixSeconds, TimeZoneInfo.Utc));

    private static byte[] Written(ControlFileData? data = null)
    {
        var file = new byte[ControlFileData.FileSize];
        (data ?? new ControlFileData()).Write(file);
        return file;
    }
}
