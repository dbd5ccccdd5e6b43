// KvCommands: `pgwal kv -D DIR put KEY VALUE|- [--value-file F] | get KEY | delete KEY |
// scan [FROM [TO]] | stats`, plus `kv bench` and `kv worker`. Keys and values are UTF-8 text or,
// with --hex, hex (KvArguments); put creates the data directory and the store on first use, delete
// needs an existing store, get, scan and stats open it read-only and create or write nothing. Exit codes
// (docs/cli.md): 0 done (put/delete once durable), 1 key absent (get, delete), 2 bad command
// line, 3 failure, 4 when a change may or may not have become durable — the commit's flush
// failed (CommitOutcomeUnknownException), or closing the store failed after a durable change.
using System.CommandLine;
using PgWal.Cli.Common;
using PgWal.Kv;

namespace PgWal.Cli.Kv;

internal static class KvCommands
{
    public static Command Create()
    {
        var dir = CliOptions.DataDirectory("data directory (created by the first put)", recursive: true);
        var kv = new Command("kv", "PgWal.Kv: a crash-safe ordered key-value store on the WAL engine") { dir };

        var key = new Argument<string>("KEY") { Description = "the key: UTF-8 text, or hex with --hex (1..1024 bytes)" };
        var value = new Argument<string?>("VALUE") { Arity = ArgumentArity.ZeroOrOne, Description = "the value: UTF-8 text, hex with --hex, or - to read it from standard input (up to 16 MB)" };
        var valueFile = CliOptions.Path("--value-file", null, "read the value from this file (up to 16 MB)");
        var putHex = HexOption("KEY and VALUE are hex");
        var put = new Command("put", "Set KEY to VALUE (exits 0 once durable)") { key, value, valueFile, putHex };
        put.SetAction(p => Session(p.GetValue(dir)!, "put", session =>
        {
            bool hex = p.GetValue(putHex);
            var k = KvArguments.Key("KEY", p.GetValue(key)!, hex);
            var v = KvArguments.Value(p.GetValue(value), p.GetValue(valueFile), hex);
            session.Open(create: true).Put(k, v);
            session.DurableChange = $"the put of key \"{KvArguments.Show(k, hex)}\"";
            return ExitCodes.Success;
        }));

        var getKey = new Argument<string>("KEY") { Description = "the key: UTF-8 text, or hex with --hex" };
        var getHex = HexOption("KEY is hex, and the value is printed in hex");
        var get = new Command("get", "Print the value of KEY (exit 1 when absent)") { getKey, getHex };
        get.SetAction(p => Session(p.GetValue(dir)!, "get", session =>
        {
            bool hex = p.GetValue(getHex);
            var k = KvArguments.Key("KEY", p.GetValue(getKey)!, hex);
            var v = session.OpenReadOnly().Get(k);
            if (v == null)
                return Absent("get", k, hex);
            using var stdout = Console.OpenStandardOutput();
            stdout.Write(hex ? System.Text.Encoding.ASCII.GetBytes(Convert.ToHexStringLower(v)) : v);
            stdout.Write("\n"u8);
            return ExitCodes.Success;
        }));

        var delKey = new Argument<string>("KEY") { Description = "the key: UTF-8 text, or hex with --hex" };
        var delHex = HexOption("KEY is hex");
        var delete = new Command("delete", "Remove KEY (exits 0 once durable; 1 when it was absent)") { delKey, delHex };
        delete.SetAction(p => Session(p.GetValue(dir)!, "delete", session =>
        {
            bool hex = p.GetValue(delHex);
            var k = KvArguments.Key("KEY", p.GetValue(delKey)!, hex);
            if (!session.Open(create: false).Delete(k))
                return Absent("delete", k, hex);
            session.DurableChange = $"the delete of key \"{KvArguments.Show(k, hex)}\"";
            return ExitCodes.Success;
        }));

        var from = new Argument<string?>("FROM") { Arity = ArgumentArity.ZeroOrOne, Description = "first key (inclusive)" };
        var to = new Argument<string?>("TO") { Arity = ArgumentArity.ZeroOrOne, Description = "end key (exclusive)" };
        var reverse = new Option<bool>("--reverse", "-r") { Description = "descending order" };
        var limit = CliOptions.Long("--limit", "-n", "print at most this many entries (0 = all)", 0, long.MaxValue, 0);
        var scanHex = HexOption("FROM and TO are hex, and keys and values are printed in full in hex");
        var scan = new Command("scan", "Print the entries in [FROM, TO) as key<TAB>value (non-printable bytes as \\xNN, or all in hex with --hex)") { from, to, reverse, limit, scanHex };
        scan.SetAction(p => Session(p.GetValue(dir)!, "scan", session =>
        {
            bool hex = p.GetValue(scanHex);
            byte[]? f = KvArguments.Bound("FROM", p.GetValue(from), hex);
            byte[]? t = KvArguments.Bound("TO", p.GetValue(to), hex);
            long n = 0, max = p.GetValue(limit);
            foreach (var (k, v) in session.OpenReadOnly().Scan(f, t, p.GetValue(reverse)))
            {
                Console.WriteLine(hex ? $"{Convert.ToHexStringLower(k)}\t{Convert.ToHexStringLower(v)}" : $"{KvArguments.Escape(k, 200)}\t{KvArguments.Escape(v, 200)}");
                if (++n == max)
                    break;
            }
            return ExitCodes.Success;
        }));

        var stats = new Command("stats", "Check the tree and print its shape, the WAL position and the control file state (exit 3 when the check fails)");
        stats.SetAction(p => Session(p.GetValue(dir)!, "stats", session =>
        {
            var store = session.OpenReadOnly();
            var t = store.CheckTree();
            var c = store.Instance.ControlFile;
            Console.WriteLine($"keys:                {t.Keys:N0}");
            Console.WriteLine($"payload:             {t.PayloadBytes / 1048576.0:F2} MB (keys and values)");
            Console.WriteLine($"levels:              {t.Levels}");
            Console.WriteLine($"pages:               {t.Blocks:N0} ({t.LeafPages:N0} leaf, {t.InternalPages:N0} internal, {t.OverflowPages:N0} overflow, {t.FreePages:N0} free, 1 meta)");
            Console.WriteLine($"tree check:          {(t.Problems.Count == 0 ? "ok (order, separators, sibling links, overflow chains, free list, no lost page)" : string.Join("; ", t.Problems))}");
            Console.WriteLine($"end of WAL:          {store.Instance.EndOfWal}");
            Console.WriteLine($"latest checkpoint:   {c.CheckPointLocation} (redo {c.CheckPointCopy.Redo})");
            Console.WriteLine($"recovery at open:    {(store.Instance.Recovery.CrashRecovery ? $"crash recovery, {store.Instance.Recovery.Records:N0} records replayed" : "none (clean shutdown)")}");
            if (t.Problems.Count == 0)
                return ExitCodes.Success;
            CommandBoundary.Error("pgwal kv stats", $"the tree check found {t.Problems.Count} problem(s): {t.Problems[0]}");
            return ExitCodes.Runtime;
        }));

        kv.Subcommands.Add(put);
        kv.Subcommands.Add(get);
        kv.Subcommands.Add(delete);
        kv.Subcommands.Add(scan);
        kv.Subcommands.Add(stats);
        kv.Subcommands.Add(KvBackupCommands.Backup(dir));
        kv.Subcommands.Add(KvBackupCommands.RestorePoint(dir));
        kv.Subcommands.Add(KvServeCommand.Create(dir));
        kv.Subcommands.Add(Standby.KvStandbyCommand.Create(dir));
        kv.Subcommands.Add(KvBench.Create(dir));
        kv.Subcommands.Add(KvWorker.Create(dir));
        return kv;
    }

    private static Option<bool> HexOption(string description) => new("--hex") { Description = description };

    private static int Absent(string command, byte[] key, bool hex)
    {
        Console.Error.WriteLine($"pgwal kv {command}: key \"{KvArguments.Show(key, hex)}\" not found");
        return ExitCodes.KeyAbsent;
    }

    private static int Session(string dir, string command, Func<KvSession, int> action)
        => CommandBoundary.Run("kv " + command, () => KvSession.Run(dir, action));
}
