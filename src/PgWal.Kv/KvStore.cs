// KvStore: PgWal.Kv's public face — an embedded, ordered, durable key-value store whose every page
// change goes through PgWal's WAL. Concurrency: readers share the tree lock; writers take it alone
// only while they change pages and insert their records (microseconds), then release it and wait
// for their commit to be durable outside it, so concurrent commits share fsyncs (group commit).
// A failure in the middle of a change PANICs the instance (nothing half-done can reach disk) and
// faults the store; reopening recovers to the last durable commit.
using PgWal.Format;
using PgWal.Insert;
using PgWal.Kv.Tree;
using PgWal.Storage;

namespace PgWal.Kv;

/// <summary>An open key-value store. Thread-safe.</summary>
public sealed partial class KvStore : IDisposable
{
    /// <summary>Longest key in bytes.</summary>
    public const int MaxKeyLength = BTree.MaxKeyLength;

    /// <summary>Largest value in bytes (values over about 2 kB are stored out of line).</summary>
    public const int MaxValueLength = 16 << 20;

    private readonly WalInstance _instance;
    private readonly KvOptions _options;
    private readonly ReaderWriterLockSlim _treeLock = new(LockRecursionPolicy.NoRecursion);
    private readonly BTree _tree = new();
    private readonly TreeReader _reader;
    private readonly KvTransaction _tx;          // reused; guarded by the write lock
    private MetaData _meta;                      // as of the last commit; written under the write lock
    // Opened on a standby: _meta is not kept up to date by replay; reads take the meta page, and the
    // first write after a promotion reloads _meta under the write lock.
    private bool _metaStale;
    private readonly KvMetrics _metrics;
    private volatile Exception? _fault;
    private long _commits, _reads, _writes;
    private int _disposed;

    /// <summary>The WAL instance underneath (recovery result, checkpoints, WAL statistics).</summary>
    public WalInstance Instance => _instance;

    /// <summary>
    /// The last commit any write of this store made (its transaction id, commit time, and the
    /// commit record's start and end): what point-in-time recovery targets name. Writes that
    /// changed nothing (a delete of an absent key) commit nothing and leave it as it was.
    /// </summary>
    public KvCommit? LastCommit => Volatile.Read(ref _lastCommit);
    private KvCommit? _lastCommit;

    /// <summary>Commits, reads and written operations since open.</summary>
    public (long Commits, long Reads, long Writes) Counters => (Interlocked.Read(ref _commits), Interlocked.Read(ref _reads), Interlocked.Read(ref _writes));

    // ---- reads ----

    /// <summary>The value of <paramref name="key"/>, or null when absent.</summary>
    public byte[]? Get(ReadOnlySpan<byte> key)
    {
        var value = Lookup(key, out Lsn leafLsn);
        if (MustWaitFor(leafLsn))
            _instance.Wal.Flush(leafLsn);
        return value;
    }

    /// <summary>As <see cref="Get"/>, waiting for durability (DurableReads) asynchronously.</summary>
    public ValueTask<byte[]?> GetAsync(ReadOnlyMemory<byte> key, CancellationToken cancellationToken = default)
    {
        var value = Lookup(key.Span, out Lsn leafLsn);
        if (!MustWaitFor(leafLsn))
            return ValueTask.FromResult(value);
        return WaitThenReturn(_instance.Wal.FlushAsync(leafLsn, cancellationToken), value);

        static async ValueTask<byte[]?> WaitThenReturn(ValueTask flush, byte[]? value)
        {
            await flush.ConfigureAwait(false);
            return value;
        }
    }

    /// <summary>
    /// The entries with keys in [<paramref name="from"/>, <paramref name="to"/>) in key order, or in
    /// reverse order with <paramref name="reverse"/>; null bounds are open. Entries are read in
    /// chunks under the read lock, so a long scan does not hold writers off; each chunk is
    /// consistent, the scan as a whole sees commits made while it runs.
    /// </summary>
    public IEnumerable<KeyValuePair<byte[], byte[]>> Scan(byte[]? from = null, byte[]? to = null, bool reverse = false, int chunk = 256)
    {
        var bounds = new ScanBounds(from, to);
        var buffer = new List<KeyValuePair<byte[], byte[]>>(chunk);
        byte[]? after = null;
        while (true)
        {
            buffer.Clear();
            Lsn lsn;
            var meta = EnterRead(out var hot);
            try
            {
                lsn = _reader.ReadRange(meta, bounds, after, reverse, chunk, buffer);
            }
            finally
            {
                ExitRead(hot);
            }
            if (MustWaitFor(lsn))
                _instance.Wal.Flush(lsn);
            foreach (var entry in buffer)
                yield return entry;
            if (buffer.Count < chunk)
                yield break;
            after = buffer[^1].Key;
        }
    }

    /// <summary>
    /// Checks the whole tree (order, separators, levels, sibling links, overflow chains, free list,
    /// every block accounted for) under the read lock, and reports its shape.
    /// </summary>
    public KvTreeReport CheckTree()
    {
        var meta = EnterRead(out var hot);
        try
        {
            return new TreeChecker(_instance.Buffers, _options.Relation).Check(meta);
        }
        finally
        {
            ExitRead(hot);
        }
    }

    /// <summary>The tree's root block (tests, diagnostics).</summary>
    internal uint RootBlock => _meta.Root;

    /// <summary>The block number of the leaf whose range holds <paramref name="key"/> (tests, diagnostics).</summary>
    internal uint LeafBlockOf(ReadOnlySpan<byte> key)
    {
        var meta = EnterRead(out var hot);
        try
        {
            using var leaf = _reader.FindLeaf(meta, key, hasKey: true, below: false, rightmost: false);
            return leaf.Tag.Block.Value;
        }
        finally
        {
            ExitRead(hot);
        }
    }

    private byte[]? Lookup(ReadOnlySpan<byte> key, out Lsn leafLsn)
    {
        ValidateKey(key);
        byte[]? value;
        var meta = EnterRead(out var hot);
        try
        {
            value = _reader.Get(meta, key, out leafLsn);
        }
        finally
        {
            ExitRead(hot);
        }
        Interlocked.Increment(ref _reads);
        return value;
    }

    // DurableReads: a page whose LSN is past the flushed WAL may hold a commit a crash would undo.
    // (A read-only store reads a directory shut down cleanly: everything in it is durable.)
    // (A standby shows only replayed WAL, which its walreceiver made durable first.)
    private bool MustWaitFor(Lsn pageLsn) => _options.DurableReads && !_instance.IsReadOnly && !_instance.IsStandby && pageLsn > _instance.Wal.FlushedUpTo;

    // ---- writes ----

    /// <summary>Sets <paramref name="key"/> to <paramref name="value"/>; durable when it returns (unless asynchronous commit).</summary>
    public void Put(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
    {
        ValidateKey(key);
        ValidateValue(value.Length);
        Finish(SingleCore(key, value, delete: false, out _));
    }

    /// <summary>As <see cref="Put(ReadOnlySpan{byte}, ReadOnlySpan{byte})"/>, waiting for durability asynchronously.</summary>
    public ValueTask PutAsync(ReadOnlyMemory<byte> key, ReadOnlyMemory<byte> value, CancellationToken cancellationToken = default)
    {
        ValidateKey(key.Span);
        ValidateValue(value.Length);
        return FinishAsync(SingleCore(key.Span, value.Span, delete: false, out _), cancellationToken);
    }

    /// <summary>Removes <paramref name="key"/>; returns whether it was present. Durable when it returns.</summary>
    public bool Delete(ReadOnlySpan<byte> key)
    {
        ValidateKey(key);
        Finish(SingleCore(key, default, delete: true, out bool existed));
        return existed;
    }

    /// <summary>As <see cref="Delete(ReadOnlySpan{byte})"/>, waiting for durability asynchronously.</summary>
    public async ValueTask<bool> DeleteAsync(ReadOnlyMemory<byte> key, CancellationToken cancellationToken = default)
    {
        ValidateKey(key.Span);
        Lsn end = SingleCore(key.Span, default, delete: true, out bool existed);
        await FinishAsync(end, cancellationToken).ConfigureAwait(false);
        return existed;
    }

    /// <summary>Commits <paramref name="batch"/> atomically; durable when it returns.</summary>
    public void Write(WriteBatch batch) => Finish(WriteCore(batch));

    /// <summary>As <see cref="Write(WriteBatch)"/>, waiting for durability asynchronously.</summary>
    public ValueTask WriteAsync(WriteBatch batch, CancellationToken cancellationToken = default) => FinishAsync(WriteCore(batch), cancellationToken);

    // One put or delete as its own transaction (no WriteBatch: no copy of the key and value).
    private Lsn SingleCore(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, bool delete, out bool existed)
    {
        long inlineBytes = 0, overflowPages = 0;
        if (!delete)
            Budget(key.Length, value.Length, ref inlineBytes, ref overflowPages);
        BeginWrite(1, inlineBytes, overflowPages);
        try
        {
            existed = Apply(key, value, delete);
            return EndWrite();
        }
        catch (Exception e)
        {
            FailWrite(e);
            throw;
        }
        finally
        {
            _treeLock.ExitWriteLock();
        }
    }

    // One operation of the current transaction; returns whether a deleted key existed.
    private bool Apply(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, bool delete)
    {
        bool existed = false;
        if (delete)
            existed = _tree.Delete(_tx, key);
        else
            _tree.Put(_tx, key, value);
        _tx.EndOperation();
        return existed;
    }

    private Lsn WriteCore(WriteBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (batch.Count == 0)
            return Lsn.Invalid;
        long inlineBytes = 0, overflowPages = 0;
        foreach (var (key, value) in batch.Operations)
        {
            if (value != null)
                Budget(key.Length, value.Length, ref inlineBytes, ref overflowPages);
        }
        BeginWrite(batch.Count, inlineBytes, overflowPages);
        try
        {
            foreach (var (key, value) in batch.Operations)
                Apply(key, value, delete: value == null);
            return EndWrite();
        }
        catch (Exception e)
        {
            FailWrite(e);
            throw;
        }
        finally
        {
            _treeLock.ExitWriteLock();
        }
    }
}
