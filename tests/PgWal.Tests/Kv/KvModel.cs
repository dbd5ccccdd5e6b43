// KvModel: the reference a KvStore is checked against — a sorted dictionary of byte strings — and a
// seeded generator of operations on both (put, delete, atomic batches; small and out-of-line
// values; long keys on demand to grow the tree fast). An operation is applied to the model only
// once the store acknowledged it, so after a crash the store must equal the model, or the model
// plus the one operation that was in flight.
using PgWal.Kv;

namespace PgWal.Tests.Kv;

internal sealed class ByteComparer : IComparer<byte[]>
{
    public static readonly ByteComparer Instance = new();
    public int Compare(byte[]? x, byte[]? y) => x.AsSpan().SequenceCompareTo(y);
}

internal sealed record KvOp(List<(byte[] Key, byte[]? Value)> Changes)
{
    public bool IsBatch => Changes.Count > 1;
}

internal sealed class KvModel
{
    private readonly Random _random;
    private readonly int _keySpace;
    private readonly int _longKeyPercent;
    private readonly int _maxValue;

    public KvModel(int seed, int keySpace = 300, int longKeyPercent = 0, int maxValue = 20_000)
    {
        _random = new Random(seed);
        _keySpace = keySpace;
        _longKeyPercent = longKeyPercent;
        _maxValue = maxValue;
    }

    public SortedDictionary<byte[], byte[]> State { get; private set; } = new(ByteComparer.Instance);

    /// <summary>Key i of the key space: short keys, or (with long keys on) up to 1,000 bytes.</summary>
    public byte[] Key(int i)
    {
        var text = $"k{i:D5}";
        int length = (i * 7919 % 100) < _longKeyPercent ? 900 + i % 100 : text.Length + i % 24;
        var key = new byte[length];
        System.Text.Encoding.ASCII.GetBytes(text, key);
        for (int p = text.Length; p < length; p++)
            key[p] = (byte)('a' + (i + p) % 26);
        return key;
    }

    public byte[] Value()
    {
        int pick = _random.Next(100);
        int length = pick < 3 ? _random.Next(2_000, _maxValue + 1) : pick < 6 ? 0 : _random.Next(1, 200);
        var value = new byte[length];
        _random.NextBytes(value);
        return value;
    }

    /// <summary>The next operation: 55% put, 25% delete, 20% a batch of 2-6 changes.</summary>
    public KvOp Next()
    {
        int pick = _random.Next(100);
        int changes = pick < 80 ? 1 : _random.Next(2, 7);
        var list = new List<(byte[], byte[]?)>();
        for (int i = 0; i < changes; i++)
        {
            var key = Key(_random.Next(_keySpace));
            bool delete = changes == 1 ? pick >= 55 : _random.Next(3) == 0;
            list.Add((key, delete ? null : Value()));
        }
        return new KvOp(list);
    }

    /// <summary>Runs <paramref name="op"/> on the store (durable when it returns).</summary>
    public static void Execute(KvStore store, KvOp op)
    {
        if (op.IsBatch)
        {
            var batch = new WriteBatch();
            foreach (var (key, value) in op.Changes)
            {
                if (value == null)
                    batch.Delete(key);
                else
                    batch.Put(key, value);
            }
            store.Write(batch);
        }
        else if (op.Changes[0].Value is { } value)
        {
            store.Put(op.Changes[0].Key, value);
        }
        else
        {
            store.Delete(op.Changes[0].Key);
        }
    }

    public static void Apply(SortedDictionary<byte[], byte[]> state, KvOp op)
    {
        foreach (var (key, value) in op.Changes)
        {
            if (value == null)
                state.Remove(key);
            else
                state[key] = value;
        }
    }

    public void Acknowledge(KvOp op) => Apply(State, op);

    /// <summary>
    /// Null when the store holds exactly the model (or, with <paramref name="inFlight"/>, the model
    /// plus that whole operation) and its tree is sound; otherwise what differs.
    /// </summary>
    public string? Verify(KvStore store, KvOp? inFlight)
    {
        var report = store.CheckTree();
        if (report.Problems.Count > 0)
            return "tree check: " + string.Join("; ", report.Problems);
        var actual = store.Scan().ToList();
        string? difference = Compare(actual, State);
        if (difference == null)
            return null;
        if (inFlight != null)
        {
            var after = new SortedDictionary<byte[], byte[]>(State, ByteComparer.Instance);
            Apply(after, inFlight);
            if (Compare(actual, after) == null)
            {
                State = after;   // the in-flight operation committed before the crash
                return null;
            }
        }
        return difference + (inFlight != null ? $" (nor with the in-flight operation of {inFlight.Changes.Count} change(s) applied)" : "");
    }

    public static string? Compare(List<KeyValuePair<byte[], byte[]>> actual, SortedDictionary<byte[], byte[]> expected)
    {
        if (actual.Count != expected.Count)
            return $"store has {actual.Count} keys, model {expected.Count}";
        int i = 0;
        foreach (var (key, value) in expected)
        {
            var (k, v) = actual[i++];
            if (!k.AsSpan().SequenceEqual(key))
                return $"key #{i}: store {Show(k)}, model {Show(key)}";
            if (!v.AsSpan().SequenceEqual(value))
                return $"value of {Show(key)}: store {v.Length} bytes, model {value.Length} bytes";
        }
        return null;
    }

    public static string Show(byte[] key) => System.Text.Encoding.ASCII.GetString(key, 0, Math.Min(key.Length, 12)) + (key.Length > 12 ? $"…({key.Length} B)" : "");
}
