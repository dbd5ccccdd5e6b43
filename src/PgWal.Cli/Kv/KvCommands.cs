// KvCommands: `pgwal kv -D DIR put KEY VALUE | get KEY | delete KEY | scan [FROM [TO]] | stats`,
// plus `kv bench` and `kv worker`. Keys and values on the command line are UTF-8 text; the data
// directory is created on first use; `put` and `delete` return only once durable; `get` exits 1
// when the key is absent.
using System.CommandLine;
using System.Text;
using PgWal.Cli.DataDir;
using PgWal.Kv;

namespace PgWal.Cli.Kv;

internal static class KvCommands
{
    public static Command Create()
    {
        var dir = new Option<string>("--pgdata", "-D") { Description = "data directory (created on first use)", Required = true, Recursive = true };
        var kv = new Command("kv", "PgWal.Kv: a crash-safe ordered key-value store on the WAL engine") { dir };

        var key = new Argument<string>("KEY");
        var value = new Argument<string>("VALUE");
        var put = new Command("put", "Set KEY to VALUE (exits 0 once durable)") { key, value };
        put.SetAction(p => Guard(p.GetValue(dir)!, "put", store =>
        {
            store.Put(Encoding.UTF8.GetBytes(p.GetValue(key)!), Encoding.UTF8.GetBytes(p.GetValue(value)!));
            return 0;
        }));

        var getKey = new Argument<string>("KEY");
        var get = new Command("get", "Print the value of KEY (exit 1 when absent)") { getKey };
        get.SetAction(p => Guard(p.GetValue(dir)!, "get", store =>
        {
            var v = store.Get(Encoding.UTF8.GetBytes(p.GetValue(getKey)!));
            if (v == null)
            {
                Console.Error.WriteLine($"pgwal kv: key \"{p.GetValue(getKey)}\" not found");
                return 1;
            }
            using var stdout = Console.OpenStandardOutput();
            stdout.Write(v);
            stdout.Write("\n"u8);
            return 0;
        }));

        var delKey = new Argument<string>("KEY");
        var delete = new Command("delete", "Remove KEY (exits 0 once durable; 1 when it was absent)") { delKey };
        delete.SetAction(p => Guard(p.GetValue(dir)!, "delete", store => store.Delete(Encoding.UTF8.GetBytes(p.GetValue(delKey)!)) ? 0 : 1));

        var from = new Argument<string?>("FROM") { Arity = ArgumentArity.ZeroOrOne, Description = "first key (inclusive)" };
        var to = new Argument<string?>("TO") { Arity = ArgumentArity.ZeroOrOne, Description = "end key (exclusive)" };
        var reverse = new Option<bool>("--reverse", "-r") { Description = "descending order" };
        var limit = new Option<long>("--limit", "-n") { Description = "print at most this many entries (0 = all)" };
        var scan = new Command("scan", "Print the entries in [FROM, TO) as key<TAB>value (non-printable bytes as \\xNN)") { from, to, reverse, limit };
        scan.SetAction(p => Guard(p.GetValue(dir)!, "scan", store =>
        {
            byte[]? f = p.GetValue(from) is { } fs ? Encoding.UTF8.GetBytes(fs) : null;
            byte[]? t = p.GetValue(to) is { } ts ? Encoding.UTF8.GetBytes(ts) : null;
            long n = 0, max = p.GetValue(limit);
            foreach (var (k, v) in store.Scan(f, t, p.GetValue(reverse)))
            {
                Console.WriteLine($"{Escape(k, 200)}\t{Escape(v, 200)}");
                if (++n == max)
                    break;
            }
            return 0;
        }));

        var stats = new Command("stats", "Check the tree and print its shape, the WAL position and the control file state");
        stats.SetAction(p => Guard(p.GetValue(dir)!, "stats", store =>
        {
            var t = store.CheckTree();
            var c = store.Instance.ControlFile;
            Console.WriteLine($"keys:                {t.Keys:N0}");
            Console.WriteLine($"payload:             {t.PayloadBytes / 1048576.0:F2} MB (keys and values)");
            Console.WriteLine($"levels:              {t.Levels}");
            Console.WriteLine($"pages:               {t.Blocks:N0} ({t.LeafPages:N0} leaf, {t.InternalPages:N0} internal, {t.OverflowPages:N0} overflow, {t.FreePages:N0} free, 1 meta)");
            Console.WriteLine($"tree check:          {(t.Problems.Count == 0 ? "ok (order, separators, sibling links, overflow chains, free list, no lost page)" : string.Join("; ", t.Problems))}");
            Console.WriteLine($"WAL insert position: {store.Instance.Wal.InsertedUpTo}");
            Console.WriteLine($"latest checkpoint:   {c.CheckPointLocation} (redo {c.CheckPointCopy.Redo})");
            Console.WriteLine($"recovery at open:    {(store.Instance.Recovery.CrashRecovery ? $"crash recovery, {store.Instance.Recovery.Records:N0} records replayed" : "none (clean shutdown)")}");
            return t.Problems.Count == 0 ? 0 : 2;
        }));

        kv.Subcommands.Add(put);
        kv.Subcommands.Add(get);
        kv.Subcommands.Add(delete);
        kv.Subcommands.Add(scan);
        kv.Subcommands.Add(stats);
        kv.Subcommands.Add(KvBench.Create(dir));
        kv.Subcommands.Add(KvWorker.Create(dir));
        return kv;
    }

    // Errors exit 2, so that 1 keeps meaning "absent" for get and delete.
    private static int Guard(string dir, string what, Func<KvStore, int> action)
        => DataDirCommands.Guard("kv " + what, () =>
        {
            using var store = KvStore.Open(dir, new KvOptions { Instance = new WalInstanceOptions { BackgroundCheckpointer = false } });
            return action(store);
        }, errorExitCode: 2);

    /// <summary>Printable ASCII as is, backslash and other bytes as \xNN; cut at <paramref name="max"/> bytes.</summary>
    internal static string Escape(byte[] bytes, int max)
    {
        var sb = new StringBuilder();
        foreach (byte b in bytes.AsSpan(0, Math.Min(bytes.Length, max)))
        {
            if (b is >= 0x20 and < 0x7F and not (byte)'\\')
                sb.Append((char)b);
            else
                sb.Append($"\\x{b:x2}");
        }
        if (bytes.Length > max)
            sb.Append($"... ({bytes.Length} bytes)");
        return sb.ToString();
    }
}
