// DamageOracle: what the damage matrix runs and checks — `pgwal recover` (with and without
// --accept-wal-loss, --json) and each workload's own check of acknowledged work: the kv store's
// acknowledgement log replayed through the torture model (every acknowledged batch there, none
// half there, the tree sound), or `pgwal pagetest --verify`.
using System.Security.Cryptography;
using System.Text.Json;
using PgWal.Cli.Kv;
using PgWal.Kv;
using PgWal.Tests.Infrastructure;

namespace PgWal.Tests.Durability;

// Its baselines and cases start many pgwal processes: run by itself, after the parallel tests, so
// it does not starve timing-sensitive ones (group commit's grouping) of the cores.
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class DamageMatrixCollection : ICollectionFixture<DamageBaseline>
{
    public const string Name = "damage matrix";
}

internal static class DamageOracle
{
    public sealed record RecoverRun(ToolResult Tool, JsonElement? Json)
    {
        public JsonElement? Damage => Json is { } j && j.TryGetProperty("damage", out var d) && d.ValueKind == JsonValueKind.Object ? d : null;
    }

    public static RecoverRun Recover(string data, bool acceptLoss)
    {
        string[] args = acceptLoss ? ["recover", "-D", data, "--json", "-q", "--accept-wal-loss"] : ["recover", "-D", data, "--json", "-q"];
        var r = PgTools.Pgwal(args);
        string line = r.StdoutText.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault() ?? "";
        JsonElement? json = line.StartsWith('{') ? JsonDocument.Parse(line).RootElement.Clone() : null;
        return new RecoverRun(r, json);
    }

    /// <summary>Every file under <paramref name="root"/> (relative path → SHA-256).</summary>
    public static Dictionary<string, string> Hashes(string root)
        => Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories)
            .ToDictionary(f => Path.GetRelativePath(root, f), f => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(f))));

    /// <summary>
    /// The workload's own check after recovery: null when everything acknowledged is there (and,
    /// for kv, the tree is sound), else what is wrong.
    /// </summary>
    public static string? Check(string workload, DamageBaseline.Built b)
    {
        if (workload == "pagetest")
        {
            var verify = PgTools.Pgwal(["pagetest", "-D", b.Data, "--workers", "2", "--pages", "64", "--seed", "3", "--ack-file", b.Acks, "--verify"]);
            return verify.ExitCode == 0 ? null : verify.Stderr.Trim();
        }
        try
        {
            return KvAcknowledgedWork(b.Data, b.Acks);
        }
        catch (Exception e) when (e is IOException or InvalidDataException or InvalidOperationException)
        {
            return e.Message;
        }
    }

    // The torture verifier's rules (KvKillLoop.Verify) on a read-only open.
    private static string? KvAcknowledgedWork(string data, string acks)
    {
        const int clients = 4, seed = 3;
        var acked = PgWal.Cli.PageTest.AckFile.Read(acks, clients);
        var options = KvWorker.Options(data);
        using var store = KvStore.OpenReadOnly(data, options with { Instance = options.Instance with { BackgroundCheckpointer = false } });
        for (int c = 0; c < clients; c++)
        {
            ulong applied = KvTortureWorkload.LastApplied(store, c);
            if (applied < acked[c])
                return $"client {c}: op {acked[c]} was acknowledged but the store holds only up to op {applied}";
            if (applied > acked[c] + 1)
                return $"client {c}: the store holds op {applied}, beyond the acknowledged {acked[c]} and one in flight";
            var model = new KvTortureWorkload.ClientModel(seed, c);
            model.AdvanceTo(applied);
            if (model.Compare(store) is { } difference)
                return difference;
        }
        var tree = store.CheckTree();
        return tree.Problems.Count > 0 ? "tree: " + string.Join("; ", tree.Problems) : null;
    }
}
