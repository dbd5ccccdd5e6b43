// WalDamageMatrixTests: damaged WAL at the data-directory level, each case on a copy of a kv store
// and of a page-test workload left by a SIGKILL (DamageBaseline). docs/recovery.md has the table
// (with what PostgreSQL 15 does in each case). Damage followed by WAL written later stops
// recovery naming the file, offset, LSN and what lies beyond, and leaves every file byte-identical;
// `--accept-wal-loss` then recovers up to the damage and sets the rest aside byte for byte, where
// waldump still reads it. A damaged record in the last segment stops only when the WAL after it is
// proven durable; otherwise recovery ends there, as PostgreSQL's does, keeping a copy.
using System.Text.Json;
using PgWal.Format;
using PgWal.Read;
using PgWal.Storage;
using PgWal.Tests.Infrastructure;
using Xunit.Abstractions;

namespace PgWal.Tests.Durability;

[Collection(DamageMatrixCollection.Name)]
public sealed class WalDamageMatrixTests(DamageBaseline baseline, ITestOutputHelper output)
{
    public static TheoryData<string, string> Middle => new()
    {
        { "kv", "flipped byte" }, { "kv", "garbage" }, { "kv", "truncated" }, { "kv", "empty" }, { "kv", "missing" },
        { "pagetest", "flipped byte" }, { "pagetest", "garbage" }, { "pagetest", "truncated" }, { "pagetest", "empty" }, { "pagetest", "missing" },
    };

    [Theory]
    [MemberData(nameof(Middle))]
    public void MiddleSegmentDamage_StopsRecovery_ChangesNothing_AndAcceptingTheLossQuarantinesTheRest(string workload, string damage)
    {
        using var dir = new TempDirectory("walmatrix");
        var b = DamageBaseline.CopyTo(baseline.Get(workload), dir.Path);
        string middle = b.WalPath(b.Middle);
        switch (damage)
        {
            case "flipped byte":
                FlipByte(middle, 5 * 8192 + 4000);
                break;
            case "garbage":
                File.WriteAllBytes(middle, Garbage(DamageBaseline.Geometry.SegmentSize));
                break;
            case "truncated":
                using (var f = new FileStream(middle, FileMode.Open)) f.SetLength(f.Length / 2);
                break;
            case "empty":
                File.WriteAllBytes(middle, []);
                break;
            default:
                File.Delete(middle);
                break;
        }
        var before = DamageOracle.Hashes(b.Data);

        var stopped = DamageOracle.Recover(b.Data, acceptLoss: false);
        string context = $"{workload}, {damage}: exit {stopped.Tool.ExitCode}\n{stopped.Tool.Stderr}\n{stopped.Tool.StdoutText}";
        Assert.True(stopped.Tool.ExitCode == 3, context);
        Assert.StartsWith("pgwal recover: error: crash recovery stopped: WAL damage at ", stopped.Tool.Stderr);
        Assert.Single(stopped.Tool.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        var report = stopped.Damage ?? throw new Xunit.Sdk.XunitException("no damage in the JSON: " + context);
        Assert.True(report.GetProperty("certain").GetBoolean(), context);
        Assert.Equal(ExpectedKind(damage), report.GetProperty("kind").GetString());
        // The damaged record, or the first page of the damaged segment (a flipped byte may hit a
        // record that started in the segment before).
        Lsn at = Lsn.Parse(report.GetProperty("lsn").GetString()!, null);
        var geometry = DamageBaseline.Geometry;
        Assert.True(geometry.SegmentOf(at) == b.Middle || (damage == "flipped byte" && geometry.SegmentOf(at).Next == b.Middle), context);
        Assert.Equal(b.Name(geometry.SegmentOf(at)), report.GetProperty("file").GetString());
        var beyond = report.GetProperty("beyond");
        Assert.True(beyond.GetProperty("segments").GetArrayLength() >= 1, context);
        Assert.True(beyond.GetProperty("records").GetInt64() > 100, context);
        if (workload == "kv")
            Assert.True(beyond.GetProperty("commits").GetInt64() > 10, context);   // the page test commits no transactions
        if (damage == "missing")
            Assert.Equal(b.Name(b.Middle), beyond.GetProperty("missing_segments")[0].GetString());
        Assert.Equal(before, DamageOracle.Hashes(b.Data));                        // a stop changes nothing
        output.WriteLine($"{workload}, {damage}: {stopped.Tool.Stderr.Trim()}");

        AcceptTheLoss(b, before, context);
    }

    [Theory]
    [InlineData("kv")]
    [InlineData("pagetest")]
    public void DamagedRecordInTheLastSegment_StopsWhenTheWalAfterItIsProvenDurable_ElseEndsThereKeepingACopy(string workload)
    {
        using var dir = new TempDirectory("walmatrixlast");
        var b = DamageBaseline.CopyTo(baseline.Get(workload), dir.Path);
        // A record in the last segment with valid records after it, past the checkpoint record.
        var records = RecordsIn(b, b.Last);
        var target = records[records.Count / 2];
        Assert.True(records.Count - records.Count / 2 > 5, $"only {records.Count} records in the last segment");
        FlipByte(b.WalPath(b.Last), DamageBaseline.Geometry.OffsetInSegment(target) + 20);   // inside the record header's CRC
        var before = DamageOracle.Hashes(b.Data);

        var run = DamageOracle.Recover(b.Data, acceptLoss: false);
        string context = $"{workload}: exit {run.Tool.ExitCode}\n{run.Tool.Stderr}\n{run.Tool.StdoutText}";
        var report = run.Damage ?? throw new Xunit.Sdk.XunitException("no damage reported: " + context);
        output.WriteLine($"{workload}, damaged record in the last segment: exit {run.Tool.ExitCode}, certain {report.GetProperty("certain")}: {report.GetProperty("evidence")}");
        Assert.Equal(target.ToString(), report.GetProperty("lsn").GetString());
        Assert.True(report.GetProperty("beyond").GetProperty("records").GetInt64() >= 5, context);
        if (run.Tool.ExitCode == 3)
        {
            // Proven: data pages were written with LSNs beyond the damage (the WAL rule flushed the WAL there first).
            Assert.True(report.GetProperty("certain").GetBoolean(), context);
            Assert.Contains("data page", report.GetProperty("evidence").GetString());
            Assert.True(report.GetProperty("data_pages_ahead").GetInt64() > 0, context);
            Assert.Equal(before, DamageOracle.Hashes(b.Data));
            AcceptTheLoss(b, before, context);
            return;
        }
        Assert.True(run.Tool.ExitCode == 0, context);
        Assert.False(report.GetProperty("certain").GetBoolean(), context);
        Assert.Equal(0, report.GetProperty("data_pages_ahead").GetInt64());
        AssertQuarantinedAsTheyWere(b, report, before, context);
    }

    // --accept-wal-loss: recovery ends at the damage, the WAL after it is set aside byte for byte,
    // pg_waldump-compatible; the store reopens (what was lost is what the report says lies beyond).
    private static void AcceptTheLoss(DamageBaseline.Built b, Dictionary<string, string> before, string context)
    {
        var accepted = DamageOracle.Recover(b.Data, acceptLoss: true);
        context += $"\n--accept-wal-loss: exit {accepted.Tool.ExitCode}\n{accepted.Tool.Stderr}\n{accepted.Tool.StdoutText}";
        Assert.True(accepted.Tool.ExitCode == 0, context);
        var report = accepted.Damage ?? throw new Xunit.Sdk.XunitException("no damage reported: " + context);
        Assert.True(report.GetProperty("certain").GetBoolean(), context);
        AssertQuarantinedAsTheyWere(b, report, before, context);
        var again = DamageOracle.Recover(b.Data, acceptLoss: false);
        Assert.True(again.Tool.ExitCode == 0, context + "\nreopened: " + again.Tool.Stderr);
        Assert.False(again.Json!.Value.GetProperty("crash_recovery").GetBoolean());
    }

    private static void AssertQuarantinedAsTheyWere(DamageBaseline.Built b, JsonElement report, Dictionary<string, string> before, string context)
    {
        string folder = report.GetProperty("quarantine_directory").GetString() ?? throw new Xunit.Sdk.XunitException("nothing quarantined: " + context);
        Assert.StartsWith("pg_wal/quarantine/", folder);
        var files = report.GetProperty("quarantined").EnumerateArray().Select(e => e.GetString()!).ToList();
        Assert.NotEmpty(files);
        foreach (var name in files)
        {
            var quarantined = DamageOracle.Hashes(Path.Combine(b.Data, folder));
            Assert.Equal(before[Path.Combine("pg_wal", name)], quarantined[name]);   // byte-identical to the original
        }
        // waldump reads what was set aside.
        var dump = PgTools.Pgwal(["waldump", "-p", Path.Combine(b.Data, folder), files[^1]]);
        Assert.Contains("rmgr: ", dump.StdoutText);
    }

    private static string ExpectedKind(string damage) => damage switch
    {
        "flipped byte" => "BadRecord",
        "garbage" => "BadPage",
        "missing" => "MissingSegment",
        _ => "ShortSegment",
    };

    internal static void FlipByte(string file, long offset)
    {
        using var f = new FileStream(file, FileMode.Open, FileAccess.ReadWrite);
        f.Position = offset;
        int b = f.ReadByte();
        f.Position = offset;
        f.WriteByte((byte)(b ^ 0x5A));
    }

    private static byte[] Garbage(int size)
    {
        var bytes = new byte[size];
        new Random(11).NextBytes(bytes);
        return bytes;
    }

    // Record starts in `segment`, read from the checkpoint's redo point.
    private static List<Lsn> RecordsIn(DamageBaseline.Built b, SegmentNumber segment)
    {
        var geometry = DamageBaseline.Geometry;
        using var reader = new WalReader(new SegmentDirectorySource(Path.Combine(b.Data, "pg_wal"), geometry.SegmentSize),
            new WalReaderOptions { SegmentSize = geometry.SegmentSize });
        reader.BeginRead(b.Control.CheckPointCopy.Redo);
        var starts = new List<Lsn>();
        ReadOutcome outcome;
        while ((outcome = reader.ReadRecord()).IsRecord)
        {
            var r = outcome.Record!;
            if (geometry.SegmentOf(r.Lsn) == segment && geometry.SegmentOf(r.NextLsn) == segment && r.Lsn > b.Control.CheckPointLocation)
                starts.Add(r.Lsn);
        }
        return starts;
    }
}
