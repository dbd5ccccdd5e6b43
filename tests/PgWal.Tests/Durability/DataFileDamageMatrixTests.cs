// DataFileDamageMatrixTests: damaged data files in a directory left by a SIGKILL (DamageBaseline),
// for both workloads. Crash recovery replays the WAL since the last checkpoint, whose first change
// of each page carries a full-page image: pages it touches are rebuilt whatever the file held, and
// redo that needs a block that is missing or all zeros stops recovery ("WAL contains references to
// invalid pages", as PostgreSQL's). Pages it does not touch keep their damage, which must then be
// reported — by the open (kv: a zeroed meta page, a missing, empty or truncated relation file), by
// the tree check, or by the read that meets the page (a bad checksum). The rule checked for every
// case: when PgWal reports nothing, every acknowledged commit is there (no silent loss).
using PgWal.Kv;
using PgWal.Tests.Infrastructure;
using Xunit.Abstractions;

namespace PgWal.Tests.Durability;

[Collection(DamageMatrixCollection.Name)]
public sealed class DataFileDamageMatrixTests(DamageBaseline baseline, ITestOutputHelper output)
{
    private const string Relation = "base/5/16384";   // the kv store's relation, and page-test worker 0's

    public static TheoryData<string, string> Cases => new()
    {
        { "kv", "zeroed meta page" }, { "kv", "missing relation file" }, { "kv", "empty relation file" }, { "kv", "truncated relation file" },
        { "kv", "zeroed root page" }, { "kv", "bad checksum" },
        { "pagetest", "missing relation file" }, { "pagetest", "empty relation file" }, { "pagetest", "truncated relation file" },
        { "pagetest", "zeroed page" }, { "pagetest", "bad checksum" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void DamagedDataFile_AfterAKill_IsRepairedFromTheWal_OrReported_NeverLostSilently(string workload, string damage)
    {
        using var dir = new TempDirectory("datamatrix");
        var b = DamageBaseline.CopyTo(baseline.Get(workload), dir.Path);
        string file = Path.Combine(b.Data, Relation);
        uint target = workload == "kv" && damage is "zeroed root page" or "bad checksum" ? KvBlock(b, damage, dir) : 5;
        switch (damage)
        {
            case "missing relation file":
                File.Delete(file);
                break;
            case "empty relation file":
                File.WriteAllBytes(file, []);
                break;
            case "truncated relation file":
                using (var f = new FileStream(file, FileMode.Open)) f.SetLength(f.Length / 2 / 8192 * 8192);
                break;
            case "bad checksum":
                WalDamageMatrixTests.FlipByte(file, target * 8192L + 6000);
                break;
            default:
                using (var f = new FileStream(file, FileMode.Open, FileAccess.Write))
                {
                    f.Position = (damage == "zeroed meta page" ? 0 : target) * 8192L;
                    f.Write(new byte[8192]);
                }
                break;
        }

        var recover = DamageOracle.Recover(b.Data, acceptLoss: false);
        string context = $"{workload}, {damage}: recover exit {recover.Tool.ExitCode}\n{recover.Tool.Stderr}";
        string? reported = recover.Tool.ExitCode == 0 ? ReportedByPgWal(workload, b) : recover.Tool.Stderr;
        output.WriteLine($"{workload}, {damage}: recover exit {recover.Tool.ExitCode}; {(reported == null ? "repaired from the WAL, every acknowledged commit there" : "reported: " + reported.Trim())}");
        if (reported != null)
        {
            // Reported: one clean line naming the relation or the page.
            Assert.True(recover.Tool.ExitCode is 0 or 3, context);
            Assert.True(reported.Contains(Relation, StringComparison.Ordinal) || reported.Contains("invalid pages", StringComparison.Ordinal)
                        || reported.Contains("block ", StringComparison.Ordinal), $"{context}\nreported: {reported}");
            return;
        }
        // PgWal reports nothing: then nothing acknowledged may be missing (the WAL rebuilt the page).
        Assert.True(recover.Tool.ExitCode == 0, context);
        Assert.Null(DamageOracle.Check(workload, b));
    }

    // What PgWal itself says about the store after recovery (null: nothing wrong).
    private static string? ReportedByPgWal(string workload, DamageBaseline.Built b)
    {
        if (workload == "pagetest")
        {
            // The page test's own check is its users' only check of page contents.
            var verify = PgTools.Pgwal(["pagetest", "-D", b.Data, "--workers", "2", "--pages", "64", "--seed", "3", "--ack-file", b.Acks, "--verify"]);
            return verify.ExitCode == 0 ? null : verify.Stderr;
        }
        try
        {
            using var store = KvStore.OpenReadOnly(b.Data);
            var problems = store.CheckTree().Problems;
            return problems.Count > 0 ? string.Join("; ", problems) : null;
        }
        catch (Exception e) when (e is IOException or InvalidDataException or InvalidOperationException)
        {
            return e.Message;
        }
    }

    // The kv store's root page, or the leaf holding client 0's sequence key, as recovery of the
    // undamaged baseline lays them out (recovery rebuilds the same tree from the same WAL).
    private uint KvBlock(DamageBaseline.Built b, string damage, TempDirectory dir)
    {
        var reference = DamageBaseline.CopyTo(baseline.Get("kv"), dir.Combine("reference"));
        Assert.Equal(0, DamageOracle.Recover(reference.Data, acceptLoss: false).Tool.ExitCode);
        using var store = KvStore.OpenReadOnly(reference.Data);
        return damage == "zeroed root page" ? store.RootBlock : store.LeafBlockOf(PgWal.Cli.Kv.KvTortureWorkload.SeqKey(0));
    }
}
