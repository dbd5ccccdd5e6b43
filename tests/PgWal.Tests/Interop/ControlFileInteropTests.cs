using System.Buffers.Binary;
using PgWal.Diagnostics;
using PgWal.Format;
using PgWal.Tests.Infrastructure;

namespace PgWal.Tests.Interop;

// pg_control written by PgWal must read back in PostgreSQL 15's pg_controldata exactly as
// ControlDataText prints it (values, warnings, times, file names), and a real initdb's pg_control
// must decode to what pg_controldata prints for it.
public class ControlFileInteropTests
{
    private static readonly Dictionary<string, ControlFileData> s_cases = new()
    {
        ["defaults"] = new ControlFileData(),
        ["distinctive"] = Distinctive(),
        ["unknown-enums-and-odd-times"] = Distinctive() with
        {
            State = (DatabaseState)99,
            WalLevel = 7,
            Time = -62_198_755_200,                                             // year -1
            CheckPointCopy = Distinctive().CheckPointCopy with { Time = 67_768_036_191_676_800 }, // localtime fails
        },
        ["far-times"] = Distinctive() with
        {
            Time = 253_402_300_800,                                             // year 10000
            CheckPointCopy = Distinctive().CheckPointCopy with { Time = -62_135_596_801 }, // year 0
        },
        ["year-wraps"] = Distinctive() with
        {
            Time = 67_767_976_233_532_800,                                       // %Y prints -2147483648
            CheckPointCopy = Distinctive().CheckPointCopy with { Time = long.MinValue },
        },
        ["segment-size-zero"] = Distinctive() with { WalSegmentSize = 0 },
        ["segment-size-one"] = Distinctive() with { WalSegmentSize = 1 },
        ["segment-size-odd"] = Distinctive() with { WalSegmentSize = 3_000_000 },
        ["segment-size-negative-int"] = Distinctive() with { WalSegmentSize = 0x8000_0000 },
        ["segment-size-1gb"] = Distinctive() with { WalSegmentSize = 1u << 30 },
        ["byte-swapped-version"] = Distinctive() with { ControlVersion = 0x1405_0000 },
    };

    // Times before standard time (local mean time) are exact in UTC only: TimeZoneInfo rounds LMT offsets.
    private static readonly HashSet<string> s_historicalTimes = ["unknown-enums-and-odd-times", "far-times", "year-wraps"];

    public static TheoryData<string> Cases => new(s_cases.Keys);

    [Theory]
    [MemberData(nameof(Cases))]
    public void WrittenFile_PrintsLikePgControldata(string name)
    {
        var data = s_cases[name];
        using var dir = new TempDirectory("ctl");
        var file = new byte[ControlFileData.FileSize];
        data.Write(file);
        if (s_historicalTimes.Contains(name))
        {
            var utc = Controldata(dir, file, "UTC");
            Assert.Equal(0, utc.ExitCode);
            AssertSameText(utc.StdoutText, ControlDataText.Format(data, crcMatches: true, TimeZoneInfo.Utc), name);
            return;
        }
        var pg = Controldata(dir, file);
        Assert.Equal(0, pg.ExitCode);
        AssertSameText(pg.StdoutText, ControlDataText.Format(data, crcMatches: true), name);
        Assert.True(ControlFileData.CrcMatches(file));
        Assert.Equal(data, ControlFileData.Decode(file));
    }

    [Fact]
    public void CorruptCrc_PrintsWarningThenValues()
    {
        var data = Distinctive();
        using var dir = new TempDirectory("ctl");
        var file = new byte[ControlFileData.FileSize];
        data.Write(file);
        file[ControlFileData.CrcOffset] ^= 0x5A;
        Assert.False(ControlFileData.CrcMatches(file));
        var pg = Controldata(dir, file);
        Assert.Equal(0, pg.ExitCode);
        string ours = ControlDataText.Format(ControlFileData.Decode(file), ControlFileData.CrcMatches(file));
        Assert.StartsWith("WARNING: Calculated CRC checksum does not match value stored in file.\n", ours);
        AssertSameText(pg.StdoutText, ours, "bad crc");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void RandomBytes_PrintLikePgControldata(int seed)
    {
        // Garbage in every field: unknown enums, invalid sizes, times localtime() rejects, bad CRC,
        // booleans other than 0/1 (pg_controldata 15's build tests them for non-zero, as Decode does).
        var rng = new Random(seed);
        var file = new byte[ControlFileData.FileSize];
        rng.NextBytes(file.AsSpan(0, ControlFileData.StructSize));
        if (seed % 2 == 0)
        {
            // Plausible times so the strftime path is exercised as well as "???".
            BinaryPrimitives.WriteInt64LittleEndian(file.AsSpan(ControlFileData.TimeOffset), rng.NextInt64(-70_000_000_000, 300_000_000_000));
            BinaryPrimitives.WriteInt64LittleEndian(file.AsSpan(ControlFileData.CheckPointCopyOffset + 64), rng.NextInt64(-5_000_000_000, 5_000_000_000));
        }
        using var dir = new TempDirectory("ctl");
        var pg = Controldata(dir, file, "UTC"); // random times reach back to local mean time
        Assert.Equal(0, pg.ExitCode);
        var data = ControlFileData.Decode(file);
        AssertSameText(pg.StdoutText, ControlDataText.Format(data, ControlFileData.CrcMatches(file), TimeZoneInfo.Utc), $"seed {seed}");
    }

    [Theory]
    [InlineData("America/New_York")]
    [InlineData("Asia/Kolkata")]
    [InlineData("Australia/Lord_Howe")]
    public void Times_FollowTheTimeZone(string zoneId)
    {
        var zone = TimeZoneInfo.FindSystemTimeZoneById(zoneId);
        using var dir = new TempDirectory("ctl");
        foreach (long time in new long[] { 1_783_000_000, 1_795_000_000, 0, -1, 1_699_999_999, 253_402_300_800, 400_000_000_000 })
        {
            var data = Distinctive() with { Time = time, CheckPointCopy = Distinctive().CheckPointCopy with { Time = time + 3_600 * 7 } };
            var file = new byte[ControlFileData.FileSize];
            data.Write(file);
            var pg = Controldata(dir, file, zoneId);
            Assert.Equal(0, pg.ExitCode);
            AssertSameText(pg.StdoutText, ControlDataText.Format(data, crcMatches: true, zone), $"{zoneId} {time}");
        }
    }

    [Fact]
    public void InitdbControlFile_DecodesToWhatPgControldataPrints()
    {
        using var dir = new TempDirectory("initdb");
        string dataDir = InitDb(dir);
        byte[] file = File.ReadAllBytes(Path.Combine(dataDir, "global", "pg_control"));
        Assert.Equal(ControlFileData.FileSize, file.Length);
        Assert.True(ControlFileData.TryRead(file, out var data, out string? error), error);

        var pg = PgTools.Run(PgTools.Require("pg_controldata"), ["-D", dataDir], LocalZone);
        Assert.Equal(0, pg.ExitCode);
        AssertSameText(pg.StdoutText, ControlDataText.Format(data!, crcMatches: true), "initdb");

        Assert.Equal(DatabaseState.ShutDown, data!.State);
        Assert.Equal(new TimelineId(1), data.CheckPointCopy.ThisTimeline);
        Assert.Equal(data.CheckPointLocation, data.CheckPointCopy.Redo);
        Assert.Equal(data with
        {
            SystemIdentifier = 0, Time = 0, CheckPointLocation = default, CheckPointCopy = default,
            UnloggedLsn = default, MockAuthenticationNonce = default,
        }, new ControlFileData()); // every setting default is initdb's

        // Re-encoding gives initdb's bytes, padding aside (initdb copies its CheckPoint with stack padding).
        var written = new byte[ControlFileData.FileSize];
        data.Write(written);
        byte[] expected = (byte[])file.Clone();
        foreach (var (start, length) in Unit.ControlFileLayoutTests.Padding)
            expected.AsSpan(start, length).Clear();
        Assert.Equal(expected.AsSpan(0, ControlFileData.CrcOffset).ToArray(), written.AsSpan(0, ControlFileData.CrcOffset).ToArray());
        Assert.Equal(expected.AsSpan(ControlFileData.StructSize).ToArray(), written.AsSpan(ControlFileData.StructSize).ToArray());
    }

    internal static ControlFileData Distinctive()
    {
        var nonce = new byte[MockAuthNonce.Length];
        for (int i = 0; i < nonce.Length; i++)
            nonce[i] = (byte)(0xF0 - i * 7);
        return new ControlFileData
        {
            SystemIdentifier = 0xFEDC_BA98_7654_3210,
            State = DatabaseState.InArchiveRecovery,
            Time = 1_700_000_123,
            CheckPointLocation = Lsn.Parse("1A/2B3C4D58"),
            CheckPointCopy = new CheckPoint
            {
                Redo = Lsn.Parse("1A/2B000028"),
                ThisTimeline = new TimelineId(7),
                PrevTimeline = new TimelineId(6),
                FullPageWrites = false,
                NextXid = (3UL << 32) | 4_000_000_000,
                NextOid = 123_456,
                NextMulti = 77,
                NextMultiOffset = 4_294_967_295,
                OldestXid = 3_999_000_000,
                OldestXidDb = 16_384,
                OldestMulti = 5,
                OldestMultiDb = 16_385,
                Time = 1_699_990_000,
                OldestCommitTsXid = 1_234,
                NewestCommitTsXid = 5_678,
                OldestActiveXid = 3_999_999_999,
            },
            UnloggedLsn = Lsn.Parse("0/3E8"),
            MinRecoveryPoint = Lsn.Parse("1A/2C000000"),
            MinRecoveryPointTimeline = new TimelineId(7),
            BackupStartPoint = Lsn.Parse("19/FF000028"),
            BackupEndPoint = Lsn.Parse("1A/10"),
            BackupEndRequired = true,
            WalLevel = 2,
            WalLogHints = true,
            MaxConnections = -5,
            MaxWorkerProcesses = 17,
            MaxWalSenders = 0,
            MaxPreparedXacts = int.MaxValue,
            MaxLocksPerXact = int.MinValue,
            TrackCommitTimestamp = true,
            MaxAlign = 4,
            BlockSize = 32_768,
            RelSegSize = 1,
            WalBlockSize = 65_536,
            WalSegmentSize = 64u << 20,
            NameDataLen = 128,
            IndexMaxKeys = 64,
            ToastMaxChunkSize = 8_140,
            LargeObjectBlockSize = 8_192,
            Float8ByVal = false,
            DataChecksumVersion = 1,
            MockAuthenticationNonce = new MockAuthNonce(nonce),
        };
    }

    // ControlDataText.Format(data, crc) formats in TimeZoneInfo.Local, so pg_controldata gets this
    // process's zone: TZ=UTC in the test runs (LC_ALL=C is set by PgTools.Run).
    private static string LocalZone
        => Environment.GetEnvironmentVariable("TZ") is { Length: > 0 } tz ? tz : TimeZoneInfo.Local.Id;

    private static ToolResult Controldata(TempDirectory dir, byte[] file, string? timeZone = null)
    {
        Directory.CreateDirectory(dir.Combine("global"));
        File.WriteAllBytes(dir.Combine("global", "pg_control"), file);
        return PgTools.Run(PgTools.Require("pg_controldata"), ["-D", dir.Path], timeZone ?? LocalZone);
    }

    private static void AssertSameText(string pg, string ours, string what)
    {
        if (pg == ours)
            return;
        var p = pg.Split('\n');
        var o = ours.Split('\n');
        for (int i = 0; i < Math.Max(p.Length, o.Length); i++)
        {
            string pl = i < p.Length ? p[i] : "<missing>", ol = i < o.Length ? o[i] : "<missing>";
            if (pl != ol)
                Assert.Fail($"{what}: line {i + 1} differs\n  pg:   [{pl}]\n  ours: [{ol}]\n--- pg_controldata:\n{pg}");
        }
        Assert.Fail($"{what}: outputs differ");
    }

    // initdb refuses to run as root: then it runs as the `postgres` user in a world-writable directory.
    private static string InitDb(TempDirectory dir)
    {
        string dataDir = dir.Combine("data");
        string initdb = PgTools.Require("initdb");
        string[] args = [initdb, "-D", dataDir, "-N", "-A", "trust", "-U", "postgres", "--no-instructions"];
        ToolResult result;
        if (!OperatingSystem.IsWindows() && Environment.UserName == "root")
        {
            File.SetUnixFileMode(dir.Path, (UnixFileMode)0x1FF); // 0777
            result = PgTools.Run("runuser", ["-u", "postgres", "--", .. args], LocalZone);
        }
        else
        {
            result = PgTools.Run(args[0], args[1..], LocalZone);
        }
        Assert.True(result.ExitCode == 0, $"initdb failed ({result.ExitCode}): {result.Stderr}");
        return dataDir;
    }
}
