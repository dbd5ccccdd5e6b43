// KvTortureWorkload: the deterministic workload of `pgwal demo` and `pgwal torture`. Client c owns
// the keys "cNN/…"; its op n (from 1) is a function of (seed, c, n) only: an atomic batch of 1–4
// puts and deletes on its 64 keys (values mostly small, some out of line) that also sets "cNN/seq"
// to n. So the store itself says which op of each client committed last, and the model of a
// client after op n can be rebuilt anywhere, any time: in the verifier, after a kill.
using System.Buffers.Binary;
using System.Text;
using PgWal.Kv;

namespace PgWal.Cli.Kv;

internal static class KvTortureWorkload
{
    public const int KeysPerClient = 64;

    public static byte[] Prefix(int client) => Encoding.ASCII.GetBytes($"c{client:D2}/");

    public static byte[] SeqKey(int client) => Encoding.ASCII.GetBytes($"c{client:D2}/seq");

    public static byte[] Key(int client, int k) => Encoding.ASCII.GetBytes($"c{client:D2}/k{k:D3}");

    /// <summary>Op <paramref name="seq"/> of <paramref name="client"/>: (key, value or null for delete), in order.</summary>
    public static List<(byte[] Key, byte[]? Value)> Op(int seed, int client, ulong seq)
    {
        var random = new Random(PageTest.PageTestOps.Mix(seed, client, seq));
        int changes = random.Next(1, 5);
        var list = new List<(byte[], byte[]?)>(changes + 1);
        for (int i = 0; i < changes; i++)
        {
            var key = Key(client, random.Next(KeysPerClient));
            if (random.Next(4) == 0)
            {
                list.Add((key, null));
                continue;
            }
            int pick = random.Next(1000);
            int length = pick < 2 ? random.Next(100_000, 300_000) : pick < 40 ? random.Next(2_500, 40_000) : random.Next(8, 300);
            var value = new byte[length];
            random.NextBytes(value);
            list.Add((key, value));
        }
        var seqValue = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(seqValue, seq);
        list.Add((SeqKey(client), seqValue));
        return list;
    }

    public static WriteBatch Batch(int seed, int client, ulong seq, WriteBatch batch)
    {
        batch.Clear();
        foreach (var (key, value) in Op(seed, client, seq))
        {
            if (value == null)
                batch.Delete(key);
            else
                batch.Put(key, value);
        }
        return batch;
    }

    /// <summary>The last op of <paramref name="client"/> the store holds (0 = none).</summary>
    public static ulong LastApplied(KvStore store, int client)
        => store.Get(SeqKey(client)) is { Length: 8 } v ? BinaryPrimitives.ReadUInt64LittleEndian(v) : 0;

    /// <summary>A client's keys and values as a model: advance it op by op.</summary>
    public sealed class ClientModel(int seed, int client)
    {
        public SortedDictionary<string, byte[]> State { get; } = new(StringComparer.Ordinal);
        public ulong Seq { get; private set; }

        public void AdvanceTo(ulong seq)
        {
            for (; Seq < seq;)
            {
                foreach (var (key, value) in Op(seed, client, ++Seq))
                {
                    string k = Encoding.ASCII.GetString(key);
                    if (value == null)
                        State.Remove(k);
                    else
                        State[k] = value;
                }
            }
        }

        /// <summary>Null when the store's keys of this client equal the model; otherwise the first difference.</summary>
        public string? Compare(KvStore store)
        {
            var prefix = Prefix(client);
            var upTo = (byte[])prefix.Clone();
            upTo[^1]++;
            var actual = store.Scan(prefix, upTo).ToList();
            if (actual.Count != State.Count)
                return $"client {client}: {actual.Count} keys in the store, {State.Count} in the model after op {Seq}";
            int i = 0;
            foreach (var (key, value) in State)
            {
                var (k, v) = actual[i++];
                if (Encoding.ASCII.GetString(k) != key)
                    return $"client {client}: key {Encoding.ASCII.GetString(k)} in the store where the model has {key} (after op {Seq})";
                if (!v.AsSpan().SequenceEqual(value))
                    return $"client {client}: {key} holds {v.Length} bytes that are not op {Seq}'s model value ({value.Length} bytes) — a partial batch?";
            }
            return null;
        }
    }
}
