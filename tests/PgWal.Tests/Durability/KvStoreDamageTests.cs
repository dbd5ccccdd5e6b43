// KvStoreDamageTests: damage to a kv store's data file in a directory shut down cleanly (so no WAL
// repairs it) is reported, never papered over: a zeroed meta page, a missing, empty or truncated
// relation file refuse the open (read-only and writable, library and CLI) with every file as it
// was, instead of a new empty tree; a zeroed interior page and a page with a bad checksum are named
// by the tree check and by the read that meets them.
using System.Security.Cryptography;
using PgWal.Kv;
using PgWal.Pages;
using PgWal.Tests.Cli;
using PgWal.Tests.Infrastructure;

namespace PgWal.Tests.Durability;

public sealed class KvStoreDamageTests
{
    private const string Relation = "base/5/16384";

    private static byte[] K(string s) => System.Text.Encoding.UTF8.GetBytes(s);

    private static KvOptions Options() => new()
    {
        Instance = new WalInstanceOptions { BackgroundCheckpointer = false, SharedBuffers = 1024 },
        Init = new WalInitOptions { SegmentSize = 1 << 20, DataChecksums = true },
    };

    // A store of 3,000 keys (a tree of two levels over many leaves), shut down cleanly.
    private static string MakeStore(TempDirectory dir)
    {
        string data = dir.Combine("data");
        using var store = KvStore.Open(data, Options());
        var batch = new WriteBatch();
        for (int i = 0; i < 3000; i++)
        {
            batch.Put(K($"key{i:D5}"), K($"value of key {i} " + new string('x', 40)));
            if (batch.Count == 20)
            {
                store.Write(batch);
                batch = new WriteBatch();
            }
        }
        Assert.True(store.CheckTree().Levels >= 2);
        return data;
    }

    [Theory]
    [InlineData("zeroed meta page", "its meta page (block 0 of base/5/16384) is all zeros")]
    [InlineData("missing relation file", "its relation file base/5/16384 is missing")]
    [InlineData("empty relation file", "its relation file base/5/16384 is empty")]
    [InlineData("truncated relation file", "the file was truncated")]
    public void DamagedStore_RefusesToOpen_NamingTheDamage_AndChangesNothing(string damage, string expected)
    {
        using var dir = new TempDirectory("kvdamage");
        string data = MakeStore(dir);
        string file = Path.Combine(data, Relation);
        switch (damage)
        {
            case "zeroed meta page":
                using (var f = new FileStream(file, FileMode.Open, FileAccess.Write))
                    f.Write(new byte[8192]);
                break;
            case "missing relation file":
                File.Delete(file);
                break;
            case "empty relation file":
                File.WriteAllBytes(file, []);
                break;
            default:
                using (var f = new FileStream(file, FileMode.Open, FileAccess.Write))
                    f.SetLength(f.Length / 2 / 8192 * 8192);
                break;
        }
        var before = ReadOnlyOpenTests.Snapshot(data);
        Assert.Contains(expected, Assert.Throws<InvalidDataException>(() => KvStore.Open(data, Options())).Message);
        Assert.Contains(expected, Assert.Throws<InvalidDataException>(() => KvStore.OpenReadOnly(data, Options())).Message);
        foreach (var command in new[] { new[] { "put", "new", "x" }, ["get", "key00042"], ["stats"], ["scan"] })
            CliAssert.CleanError(PgTools.Pgwal(["kv", "-D", data, .. command]), 3, expected, $"kv {command[0]} on a store with a {damage}");
        Assert.Equal(before, ReadOnlyOpenTests.Snapshot(data));
    }

    [Fact]
    public void ZeroedInteriorPage_IsNamedByTheTreeCheck_AndByTheReadThatMeetsIt()
    {
        using var dir = new TempDirectory("kvinterior");
        string data = MakeStore(dir);
        uint leaf = LeafHolding(data, K("key01500"));
        using (var f = new FileStream(Path.Combine(data, Relation), FileMode.Open, FileAccess.Write))
        {
            f.Position = leaf * 8192L;
            f.Write(new byte[8192]);
        }
        var before = ReadOnlyOpenTests.Snapshot(data);
        using (var store = KvStore.OpenReadOnly(data, Options()))
        {
            var report = store.CheckTree();
            Assert.Contains(report.Problems, p => p.Contains($"block {leaf} (level 0) of {Relation} is all zeros", StringComparison.Ordinal));
            var error = Assert.Throws<InvalidDataException>(() => store.Get(K("key01500")));
            Assert.Contains($"block {leaf} should be a Leaf page at level 0 but is uninitialised", error.Message);
            Assert.Equal(K($"value of key 10 " + new string('x', 40)), store.Get(K("key00010")));   // elsewhere the tree reads on
        }
        var stats = PgTools.Pgwal(["kv", "-D", data, "stats"]);
        Assert.Equal(3, stats.ExitCode);
        Assert.Contains("is all zeros", stats.Stderr);
        Assert.Equal(before, ReadOnlyOpenTests.Snapshot(data));
    }

    [Fact]
    public void PageWithABadChecksum_IsNamed_AndNeverUsed()
    {
        using var dir = new TempDirectory("kvchecksum");
        string data = MakeStore(dir);
        uint leaf = LeafHolding(data, K("key02000"));
        using (var f = new FileStream(Path.Combine(data, Relation), FileMode.Open, FileAccess.ReadWrite))
        {
            f.Position = leaf * 8192L + 5000;
            int b = f.ReadByte();
            f.Position--;
            f.WriteByte((byte)(b ^ 0x40));
        }
        var before = ReadOnlyOpenTests.Snapshot(data);
        using (var store = KvStore.OpenReadOnly(data, Options()))
        {
            var error = Assert.Throws<PageCorruptedException>(() => store.Get(K("key02000")));
            Assert.Contains($"invalid page in block {leaf} of relation {Relation}", error.Message);
            Assert.Contains(store.CheckTree().Problems, p => p.Contains($"block {leaf} (level 0) cannot be read: invalid page in block {leaf}", StringComparison.Ordinal));
        }
        using (var writable = KvStore.Open(data, Options()))
            Assert.Throws<PageCorruptedException>(() => writable.Put(K("key02000"), K("new")));
        var get = PgTools.Pgwal(["kv", "-D", data, "get", "key02000"]);
        CliAssert.CleanError(get, 3, $"invalid page in block {leaf} of relation {Relation}", "kv get of a key on a page with a bad checksum");
        Assert.Equal(before.Keys.Order(), ReadOnlyOpenTests.Snapshot(data).Keys.Order());
        Assert.Equal(Hash(data, Relation), before[Relation].Split(' ')[0]);   // the damaged page was not rewritten
    }

    // The leaf that holds `key` (descending from the root through the pool, read-only).
    private static uint LeafHolding(string data, byte[] key)
    {
        using var store = KvStore.OpenReadOnly(data, Options());
        return store.LeafBlockOf(key);
    }

    private static string Hash(string data, string relative) => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(Path.Combine(data, relative))));
}
