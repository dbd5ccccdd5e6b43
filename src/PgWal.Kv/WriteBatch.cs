// WriteBatch: puts and deletes committed together, all or nothing (one transaction, one commit
// record). Operations apply in the order added, so a later one on the same key wins.
namespace PgWal.Kv;

/// <summary>An atomic group of puts and deletes. Not thread-safe; reusable after <see cref="Clear"/>.</summary>
public sealed class WriteBatch
{
    internal readonly List<(byte[] Key, byte[]? Value)> Operations = [];

    /// <summary>Operations in the batch.</summary>
    public int Count => Operations.Count;

    /// <summary>Sets <paramref name="key"/> to <paramref name="value"/> (both are copied).</summary>
    public WriteBatch Put(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
    {
        KvStore.ValidateKey(key);
        KvStore.ValidateValue(value.Length);
        Operations.Add((key.ToArray(), value.ToArray()));
        return this;
    }

    /// <summary>Removes <paramref name="key"/> (no effect when absent).</summary>
    public WriteBatch Delete(ReadOnlySpan<byte> key)
    {
        KvStore.ValidateKey(key);
        Operations.Add((key.ToArray(), null));
        return this;
    }

    /// <summary>Empties the batch.</summary>
    public void Clear() => Operations.Clear();
}

/// <summary>A commit of the store, as point-in-time recovery sees it.</summary>
/// <param name="Xid">The transaction id (recovery_target_xid).</param>
/// <param name="Time">The commit time, a PostgreSQL TimestampTz (recovery_target_time).</param>
/// <param name="Start">Where the commit record starts (recovery_target_lsn).</param>
/// <param name="End">Where it ends: durable once the WAL is flushed up to here.</param>
public sealed record KvCommit(uint Xid, long Time, Lsn Start, Lsn End);
