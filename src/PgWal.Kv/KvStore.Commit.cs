// KvStore.Commit: how a write's commit is confirmed — PostgreSQL's synchronous_commit, per store
// (KvOptions.SynchronousCommit) or per call (the overloads taking a SynchronousCommitLevel). The
// wait is WalInstance.WaitForCommit: the local flush (group commit), then, with synchronous standbys,
// their confirmation. It runs after the tree lock is released, so other commits go on meanwhile.
// Failures: a local flush failure leaves the outcome unknown (CommitOutcomeUnknownException); a
// cancelled or interrupted standby wait (SyncRepWaitCanceledException) leaves a commit that IS
// durable locally, though maybe not on a standby yet.
using PgWal.Replication.Sync;

namespace PgWal.Kv;

public sealed partial class KvStore
{
    /// <summary>Sets <paramref name="key"/> to <paramref name="value"/>, confirmed as far as <paramref name="level"/> asks when it returns.</summary>
    /// <exception cref="SyncRepWaitCanceledException">Cancelled (or the store closed) while waiting for standbys: durable locally, maybe not replicated.</exception>
    /// <exception cref="CommitOutcomeUnknownException">Making the commit durable locally failed.</exception>
    public void Put(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, SynchronousCommitLevel level, CancellationToken cancellationToken = default)
    {
        ValidateKey(key);
        ValidateValue(value.Length);
        Finish(SingleCore(key, value, delete: false, out _), level, cancellationToken);
    }

    /// <summary>As <see cref="Put(ReadOnlySpan{byte}, ReadOnlySpan{byte}, SynchronousCommitLevel, CancellationToken)"/>, waiting asynchronously.</summary>
    public ValueTask PutAsync(ReadOnlyMemory<byte> key, ReadOnlyMemory<byte> value, SynchronousCommitLevel level, CancellationToken cancellationToken = default)
    {
        ValidateKey(key.Span);
        ValidateValue(value.Length);
        return FinishAsync(SingleCore(key.Span, value.Span, delete: false, out _), level, cancellationToken);
    }

    /// <summary>Removes <paramref name="key"/>, confirmed as far as <paramref name="level"/> asks; returns whether it was present.</summary>
    public bool Delete(ReadOnlySpan<byte> key, SynchronousCommitLevel level, CancellationToken cancellationToken = default)
    {
        ValidateKey(key);
        Finish(SingleCore(key, default, delete: true, out bool existed), level, cancellationToken);
        return existed;
    }

    /// <summary>As <see cref="Delete(ReadOnlySpan{byte}, SynchronousCommitLevel, CancellationToken)"/>, waiting asynchronously.</summary>
    public async ValueTask<bool> DeleteAsync(ReadOnlyMemory<byte> key, SynchronousCommitLevel level, CancellationToken cancellationToken = default)
    {
        ValidateKey(key.Span);
        Lsn end = SingleCore(key.Span, default, delete: true, out bool existed);
        await FinishAsync(end, level, cancellationToken).ConfigureAwait(false);
        return existed;
    }

    /// <summary>Commits <paramref name="batch"/> atomically, confirmed as far as <paramref name="level"/> asks.</summary>
    public void Write(WriteBatch batch, SynchronousCommitLevel level, CancellationToken cancellationToken = default)
        => Finish(WriteCore(batch), level, cancellationToken);

    /// <summary>As <see cref="Write(WriteBatch, SynchronousCommitLevel, CancellationToken)"/>, waiting asynchronously.</summary>
    public ValueTask WriteAsync(WriteBatch batch, SynchronousCommitLevel level, CancellationToken cancellationToken = default)
        => FinishAsync(WriteCore(batch), level, cancellationToken);

    private void Finish(Lsn commitEnd) => Finish(commitEnd, _options.SynchronousCommit, default);

    private ValueTask FinishAsync(Lsn commitEnd, CancellationToken cancellationToken) => FinishAsync(commitEnd, _options.SynchronousCommit, cancellationToken);

    // A failure of the local flush comes after the commit record was inserted: its outcome is unknown, not failed.
    private void Finish(Lsn commitEnd, SynchronousCommitLevel level, CancellationToken cancellationToken)
    {
        if (!commitEnd.IsValid)
            return;   // nothing changed, nothing committed
        try
        {
            _instance.WaitForCommit(commitEnd, level, cancellationToken);
        }
        catch (IOException e)
        {
            throw new CommitOutcomeUnknownException(commitEnd, e);
        }
    }

    private ValueTask FinishAsync(Lsn commitEnd, SynchronousCommitLevel level, CancellationToken cancellationToken)
    {
        if (!commitEnd.IsValid)
            return default;
        ValueTask wait;
        try
        {
            wait = _instance.WaitForCommitAsync(commitEnd, level, cancellationToken);
        }
        catch (IOException e)
        {
            return ValueTask.FromException(new CommitOutcomeUnknownException(commitEnd, e));
        }
        if (!wait.IsCompleted)
            return Wait(wait, commitEnd);
        try
        {
            wait.GetAwaiter().GetResult();   // observes it (a pooled waiter goes back to its pool)
        }
        catch (IOException e)
        {
            return ValueTask.FromException(new CommitOutcomeUnknownException(commitEnd, e));
        }
        return default;

        static async ValueTask Wait(ValueTask wait, Lsn commitEnd)
        {
            try
            {
                await wait.ConfigureAwait(false);
            }
            catch (IOException e)
            {
                throw new CommitOutcomeUnknownException(commitEnd, e);
            }
        }
    }
}
