// GroupCommit: XLogFlush with group commit. The first caller whose LSN is not durable becomes the
// leader and flushes on its own thread, as a PostgreSQL backend does; callers arriving while a
// flush is in progress queue a FlushWaiter. Each round writes and syncs as far as insertion has
// completed, so one sync covers every commit inserted before it started, then completes every
// waiter it covers. A leader returns once its own LSN is durable; waiters still queued then are
// handed to a thread-pool work item that keeps flushing while anyone waits. A caller that needs the
// flush to happen but not to wait for it (a commit about to wait for its synchronous standbys, which
// can only confirm flushed WAL) leaves a request instead of a waiter; rounds go on until it is met.
// Invariants (under _lock): _leaderActive is true iff exactly one thread is running rounds (Close
// waits for it to turn false, and no round starts after _closed); every
// queued waiter's Target is above the flushed position seen by the last completed round, or it
// will be completed by the next one. A waiter completes only after a sync that covers its Target
// has returned (the flushed pointer moves only after a successful sync); covered waiters leave the
// queue under _lock and are completed after it, so each exactly once.
using System.Diagnostics;

namespace PgWal.Write;

internal sealed class GroupCommit
{
    private readonly object _lock = new();
    private readonly List<FlushWaiter> _waiters = [];   // guarded by _lock
    private readonly WaiterPool<FlushWaiter> _pool;
    private readonly Func<Lsn> _flushRound;             // writes+syncs as far as insertion completed; returns flushed
    private readonly Func<Lsn> _flushedUpTo;
    private readonly WalFault _fault;
    private readonly long _commitDelayTicks;
    private readonly int _commitSiblings;
    private readonly Action<object?> _handOff;
    private Lsn _requestedUpTo;                         // guarded by _lock; Kick's requests, met when flushed reaches it
    private bool _leaderActive;                         // guarded by _lock; pulsed when it turns false
    private bool _closed;                               // guarded by _lock; no round starts once set

    public GroupCommit(Func<Lsn> flushRound, Func<Lsn> flushedUpTo, WalFault fault, TimeSpan commitDelay, int commitSiblings)
    {
        _flushRound = flushRound;
        _flushedUpTo = flushedUpTo;
        _fault = fault;
        _commitDelayTicks = (long)(commitDelay.TotalSeconds * Stopwatch.Frequency);
        _commitSiblings = commitSiblings;
        _handOff = _ => Lead(default);
        _pool = new WaiterPool<FlushWaiter>(() => new FlushWaiter(this));
    }

    /// <summary>Whether a leader is running flush rounds now (for tests that hold a flush in progress).</summary>
    public bool LeaderActive
    {
        get
        {
            lock (_lock)
                return _leaderActive;
        }
    }

    /// <summary>Waits (blocking) until the WAL is durable up to <paramref name="lsn"/>.</summary>
    public void Flush(Lsn lsn)
    {
        if (lsn <= _flushedUpTo())
            return;   // the flushed position only grows: no lock needed to see that it is reached
        FlushWaiter? waiter;
        lock (_lock)
        {
            if (lsn <= _flushedUpTo())
                return;
            _fault.ThrowIfSet();
            waiter = Enqueue(lsn, blocking: true);
        }
        if (waiter == null)
            Lead(lsn);
        else
            waiter.Wait();
    }

    /// <summary>
    /// Makes sure a flush covering <paramref name="lsn"/> happens, without waiting for it when one is
    /// already in progress (the running rounds go on until it is met); with none in progress the
    /// caller leads, as <see cref="Flush"/> does.
    /// </summary>
    public void Kick(Lsn lsn)
    {
        if (lsn <= _flushedUpTo())
            return;
        lock (_lock)
        {
            if (lsn <= _flushedUpTo())
                return;
            _fault.ThrowIfSet();
            ObjectDisposedException.ThrowIf(_closed, this);
            if (_leaderActive)
            {
                if (lsn > _requestedUpTo)
                    _requestedUpTo = lsn;
                return;
            }
            _leaderActive = true;
        }
        Lead(lsn);
    }

    /// <summary>Completes when the WAL is durable up to <paramref name="lsn"/>.</summary>
    public ValueTask FlushAsync(Lsn lsn, CancellationToken cancellationToken)
    {
        FlushWaiter? waiter;
        lock (_lock)
        {
            if (lsn <= _flushedUpTo())
                return default;
            if (_fault.First is { } first)
                return ValueTask.FromException(WalFault.Create(first));
            if (_closed)
                return ValueTask.FromException(new ObjectDisposedException(nameof(WalEngine)));
            if (cancellationToken.IsCancellationRequested)
                return ValueTask.FromCanceled(cancellationToken);
            waiter = Enqueue(lsn, blocking: false);
        }
        if (waiter == null)
        {
            try
            {
                Lead(lsn);
            }
            catch (Exception e)
            {
                return ValueTask.FromException(e);
            }
            return default;
        }
        if (cancellationToken.CanBeCanceled)
            waiter.RegisterCancellation(cancellationToken);
        return new ValueTask(waiter, waiter.Version);
    }

    // Under _lock: makes the caller the leader (returns null) or queues a waiter for it.
    private FlushWaiter? Enqueue(Lsn lsn, bool blocking)
    {
        ObjectDisposedException.ThrowIf(_closed, this);
        if (!_leaderActive)
        {
            _leaderActive = true;
            return null;
        }
        var waiter = _pool.Rent();
        waiter.Prepare(lsn, blocking);
        _waiters.Add(waiter);
        return waiter;
    }

    /// <summary>Completes the waiters covered by a flush done outside a round (the background writer).</summary>
    public void CompleteCovered()
    {
        var covered = new CompletionChain();
        lock (_lock)
            TakeCoveredLocked(_flushedUpTo(), ref covered);
        covered.CompleteAll(null);
    }

    // Runs flush rounds until `own` is durable (a hand-off leader, own = 0, until nobody waits).
    private void Lead(Lsn own)
    {
        try
        {
            while (true)
            {
                DelayForSiblings();
                Lsn flushed = _flushRound();
                var covered = new CompletionChain();
                bool done = false;
                lock (_lock)
                {
                    TakeCoveredLocked(flushed, ref covered);
                    if (_waiters.Count == 0 && _requestedUpTo <= flushed)
                    {
                        _leaderActive = false;
                        Monitor.PulseAll(_lock);
                        done = true;
                    }
                    else if (own != default && own <= flushed)
                    {
                        // Our commit is durable: let a pool thread serve the rest instead of delaying our caller.
                        ThreadPool.UnsafeQueueUserWorkItem(_handOff, null, preferLocal: false);
                        done = true;
                    }
                }
                covered.CompleteAll(null);
                if (done)
                    return;
            }
        }
        catch (Exception e)
        {
            var fault = e is WalFaultedException f ? f : _fault.Set(e);
            lock (_lock)
            {
                foreach (var w in _waiters)
                    w.Complete(fault);
                _waiters.Clear();
                _leaderActive = false;
                Monitor.PulseAll(_lock);
            }
            if (own != default)
                throw;
        }
    }

    // Takes the waiters `flushed` covers out of the queue, for the caller to complete after the lock
    // (the commits they wake come straight back for it).
    private void TakeCoveredLocked(Lsn flushed, ref CompletionChain covered)
    {
        int kept = 0;
        for (int i = 0; i < _waiters.Count; i++)
        {
            var w = _waiters[i];
            if (w.Target <= flushed)
                covered.Add(w);
            else
                _waiters[kept++] = w;
        }
        _waiters.RemoveRange(kept, _waiters.Count - kept);
    }

    // commit_delay: with enough other commits pending, wait a little so they join this flush.
    private void DelayForSiblings()
    {
        if (_commitDelayTicks == 0 || _waiters.Count < _commitSiblings) // a racy read is fine for a heuristic
            return;
        long until = Stopwatch.GetTimestamp() + _commitDelayTicks;
        while (Stopwatch.GetTimestamp() < until)
            Thread.Yield();
    }

    /// <summary>
    /// Closing the engine: waits for the rounds in progress (they read the buffer ring, which is
    /// freed next) to serve or fail every waiter, then refuses new flushes, so none can complete
    /// after the engine is closed.
    /// </summary>
    public void Close()
    {
        lock (_lock)
        {
            _closed = true;
            while (_leaderActive)
                Monitor.Wait(_lock);
            var closed = new ObjectDisposedException(nameof(WalEngine), "the WAL engine was closed before this flush completed");
            foreach (var w in _waiters)
                w.Complete(closed);
            _waiters.Clear();
        }
    }

    public void Cancel(FlushWaiter waiter)
    {
        lock (_lock)
        {
            if (!_waiters.Remove(waiter))
                return;
        }
        waiter.Complete(new OperationCanceledException("the WAL flush wait was canceled (the WAL may still become durable)"));
    }

    public void Return(FlushWaiter waiter) => _pool.Return(waiter);
}
