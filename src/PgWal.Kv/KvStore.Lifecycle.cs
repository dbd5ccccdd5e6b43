// KvStore.Lifecycle: entering and leaving a write transaction, failure (PANIC), validation, close.
using PgWal.Kv.Tree;

namespace PgWal.Kv;

public sealed partial class KvStore
{
    /// <summary>
    /// Takes a base backup of the store into <paramref name="target"/> while it keeps serving
    /// reads and writes (<see cref="WalInstance.BaseBackup"/>). Opening the copy recovers it to the
    /// moment the backup stopped; with an archive, to any later moment (point-in-time recovery).
    /// </summary>
    public PgWal.BackupStopResult Backup(string target, PgWal.Backup.BaseBackupOptions? options = null,
        IProgress<PgWal.Backup.BaseBackupProgress>? progress = null, CancellationToken cancellation = default)
        => _instance.BaseBackup(target, options, progress, cancellation);

    /// <summary>Writes a named restore point (<see cref="WalInstance.CreateRestorePoint"/>), a target for point-in-time recovery.</summary>
    public Lsn CreateRestorePoint(string name) => _instance.CreateRestorePoint(name);

    // Takes the write lock (the caller releases it in a finally) and starts the transaction. A batch
    // whose pages might not fit the buffer pool is refused here, before anything changes: every page
    // a transaction changes stays locked until its commit (pages it only looks at are unpinned after
    // each operation). The estimate per operation: its path, a freed chain's last page and an emptied
    // leaf's two siblings; then a split's neighbours, three pages per half page of inline items, and
    // the overflow pages of out-of-line values. KvTransaction refuses, before changing anything, a
    // page beyond what the pool can spare, should a batch still get there.
    private void BeginWrite(int operations, long inlineBytes, long overflowPages)
    {
        ThrowIfFaulted();
        if (_instance.IsReadOnly)
            throw new InvalidOperationException($"kv: the store in \"{_instance.Location}\" is open read-only");
        if (_instance.IsStandby)
            throw new StandbyReadOnlyException($"kv: the store in \"{_instance.Location}\" is a read-only standby (it follows its primary): write to the primary, or promote this standby");
        long pages = operations * ((int)_meta.RootLevel + 4L) + 3L * ((int)_meta.RootLevel + 2) + 3 * (inlineBytes / (KvPage.Capacity / 2) + 1) + overflowPages;
        if (pages > _instance.Buffers.Count * 3 / 4)
            throw new ArgumentException($"kv: the batch may touch about {pages} pages, more than three quarters of the buffer pool ({_instance.Buffers.Count} buffers); split it or raise SharedBuffers");
        _treeLock.EnterWriteLock();
        if (_fault != null || Volatile.Read(ref _disposed) != 0)
        {
            _treeLock.ExitWriteLock();
            ThrowIfFaulted();
        }
        if (_metaStale)
        {
            // The standby underneath was promoted (here or by its trigger file): the tree is as replay left it.
            _meta = ReadMetaPage();
            Volatile.Write(ref _metaStale, false);
        }
        _tx.Begin(_meta);
    }

    // What one put adds to BeginWrite's estimate.
    private static void Budget(int keyLength, int valueLength, ref long inlineBytes, ref long overflowPages)
    {
        int inline = KvPage.LeafItemSize(keyLength, valueLength);
        if (inline <= BTree.MaxInlineItem)
        {
            inlineBytes += inline;
        }
        else
        {
            inlineBytes += KvPage.LeafItemSize(keyLength, KvPage.OutOfLineRefSize);
            overflowPages += Overflow.PagesFor(valueLength);
        }
    }

    // Inserts the commit record and publishes the new meta to readers (still under the write lock).
    // Returns what the caller must wait for: the commit's end, or — when nothing was logged (a
    // delete of an absent key) — the newest page LSN the transaction read, which may belong to
    // another writer's commit that is not durable yet.
    private Lsn EndWrite()
    {
        Lsn end = _tx.Commit();
        _meta = _tx.Meta;
        if (end.IsValid)
        {
            Interlocked.Increment(ref _commits);
            Volatile.Write(ref _lastCommit, _tx.LastCommit);
        }
        Interlocked.Increment(ref _writes);
        return end.IsValid ? end : _tx.SeenUpTo;
    }

    // The transaction failed. Before it changed any page (a read error, the pool exhausted) that is
    // a plain error: release and rethrow. After, its pages are changed in memory and cannot be
    // undone: PANIC (no page is written any more, the WAL engine refuses everything) while still
    // holding them, then release them and abandon the instance; the next open recovers.
    private void FailWrite(Exception e)
    {
        if (!_tx.Dirtied)
        {
            _tx.Dispose();
            return;
        }
        if (_fault != null)
            return;
        _fault = e;
        try
        {
            _instance.Panic(e);
        }
        finally
        {
            _tx.Dispose();
            _instance.Abandon();
        }
    }

    // Takes the read lock, then checks: a reader that queued behind a writer which failed (and left
    // pages half-changed in memory) or behind Dispose must not walk the tree.
    // Takes the read side of the tree lock and returns the tree's meta to read with. On a hot
    // standby it also takes the read side of the hot-standby lock (replay waits meanwhile) and reads
    // the meta page as replay left it: what is seen is the state after some commit, whole, and
    // never older than what an earlier read saw.
    private MetaData EnterRead(out ReaderWriterLockSlim? hot)
    {
        ThrowIfFaulted();
        _treeLock.EnterReadLock();
        if (_fault != null || Volatile.Read(ref _disposed) != 0)
        {
            _treeLock.ExitReadLock();
            ThrowIfFaulted();
        }
        hot = _instance.HotStandbyLock;
        if (hot == null)
            return Volatile.Read(ref _metaStale) ? ReadMetaPage() : _meta;
        hot.EnterReadLock();
        try
        {
            return ReadMetaPage();
        }
        catch
        {
            ExitRead(hot);
            throw;
        }
    }

    private void ExitRead(ReaderWriterLockSlim? hot)
    {
        hot?.ExitReadLock();
        _treeLock.ExitReadLock();
    }

    private MetaData ReadMetaPage()
    {
        using var page = _instance.Buffers.Read(_options.Relation, ForkNumber.Main, new BlockNumber(KvPage.MetaBlock));
        return KvPage.ReadMeta(page.Page);
    }

    /// <summary>Whether the store is a hot standby's: reads only, following its primary, until <see cref="Promote"/>.</summary>
    public bool IsStandby => _instance.IsStandby;

    /// <summary>
    /// Promotes the standby underneath (<see cref="WalInstance.Promote"/>): from now on this store
    /// takes writes, on a new timeline. Reads wait while it runs.
    /// </summary>
    public Recovery.RecoveryResult Promote()
    {
        _treeLock.EnterWriteLock();
        try
        {
            var result = _instance.Promote();
            _meta = ReadMetaPage();
            Volatile.Write(ref _metaStale, false);
            return result;
        }
        finally
        {
            _treeLock.ExitWriteLock();
        }
    }

    private void ThrowIfFaulted()
    {
        if (_fault is { } fault)
            throw Faulted(fault);
        if (Volatile.Read(ref _disposed) != 0)
            throw new ObjectDisposedException(nameof(KvStore));
    }

    private static InvalidOperationException Faulted(Exception fault)
        => new($"kv: the store failed and must be reopened (recovery brings back every durable commit): {fault.Message}", fault);

    internal static void ValidateKey(ReadOnlySpan<byte> key)
    {
        if (key.Length == 0 || key.Length > MaxKeyLength)
            throw new ArgumentException($"kv: a key must be 1..{MaxKeyLength} bytes (got {key.Length})", nameof(key));
    }

    internal static void ValidateValue(int length)
    {
        if ((uint)length > MaxValueLength)
            throw new ArgumentException($"kv: a value must be at most {MaxValueLength} bytes (got {length})", "value");
    }

    /// <summary>Closes the store: a shutdown checkpoint, unless the store failed (then the next open recovers).</summary>
    public void Dispose() => Close(shutdownCheckpoint: true);

    /// <summary>Named crash point for tests: called (under the write lock) with each kv record's info right after it is inserted.</summary>
    internal Action<byte>? RecordLogged
    {
        set => _tx.AfterLog = value;
    }

    /// <summary>Closes without a shutdown checkpoint or flush, as a crash would (tests, tools).</summary>
    internal void Abandon() => Close(shutdownCheckpoint: false);

    private void Close(bool shutdownCheckpoint)
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        _treeLock.EnterWriteLock();   // no transaction in flight
        try
        {
            if (shutdownCheckpoint && _fault == null)
                _instance.Dispose();
            else
                _instance.Abandon();    // after a failure FailWrite has abandoned it already; a second call does nothing
        }
        finally
        {
            _treeLock.ExitWriteLock();
            _metrics.Dispose();
        }
    }
}
