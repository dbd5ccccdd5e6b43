// SyncRepCoordinator: PostgreSQL's syncrep.c on the primary — SyncRepWaitForLSN (a commit, flushed
// or being flushed locally, waits until its synchronous standbys confirm it) and SyncRepReleaseWaiters (a
// standby's status update moves the synced positions and wakes the waiters they cover).
// Three queues (write, flush, apply), each ordered by LSN, so a release wakes a prefix of a queue
// and stops at the first waiter still ahead. Waits have no timeout: only a release, emptying the
// setting (which releases everyone, as PostgreSQL's SyncRepWakeQueue(all)), the caller's
// cancellation or closing the instance ends one. A standby that disconnects simply stops counting.
// Invariants (under _lock): a queued waiter's Target is above _synced[its mode] (or the next
// release completes it); _synced[] only moves forward; a waiter is completed only after it has
// left its queue, so it is completed exactly once — releases take waiters out under _lock and
// complete them after it. Completing runs no user code inline (async continuations go to the
// thread pool; blocking waiters are pulsed on their own monitor).
using PgWal.Write;

namespace PgWal.Replication.Sync;

internal sealed class SyncRepCoordinator
{
    internal const int WriteMode = 0, FlushMode = 1, ApplyMode = 2;   // SYNC_REP_WAIT_WRITE/FLUSH/APPLY
    private const int Modes = 3;

    private readonly object _lock = new();
    private readonly SyncRepWaiter?[] _heads = new SyncRepWaiter?[Modes];   // guarded by _lock
    private readonly SyncRepWaiter?[] _tails = new SyncRepWaiter?[Modes];   // guarded by _lock
    private readonly int[] _queued = new int[Modes];                        // guarded by _lock
    private readonly WaiterPool<SyncRepWaiter> _pool;
    private readonly ulong[] _synced = new ulong[Modes];   // forward-only; written under _lock, read with Volatile.Read
    private readonly SyncRepSelection _selection = new();  // scratch; guarded by _lock
    private volatile SynchronousStandbyNames _names;       // replaced under _lock
    private ISyncRepStandbySource? _source;                // set once (the walsender server); under _lock
    private bool _closed;                                  // guarded by _lock
    private Exception? _walFault;                          // guarded by _lock; the engine's first failure, once it faulted

    public SyncRepCoordinator(SynchronousStandbyNames names)
    {
        _names = names;
        _pool = new WaiterPool<SyncRepWaiter>(() => new SyncRepWaiter(this));
    }

    /// <summary>The current setting.</summary>
    public SynchronousStandbyNames Names => _names;

    /// <summary>How far the synchronous standbys confirmed the WAL.</summary>
    public SyncRepPositions Positions => new(Synced(WriteMode), Synced(FlushMode), Synced(ApplyMode));

    /// <summary>Commits waiting in each queue (write, flush, apply).</summary>
    public (int Write, int Flush, int Apply) Waiting
    {
        get
        {
            lock (_lock)
                return (_queued[WriteMode], _queued[FlushMode], _queued[ApplyMode]);
        }
    }

    private Lsn Synced(int mode) => new(Volatile.Read(ref _synced[mode]));

    /// <summary>The queue a level waits in; -1 for off and local (no standby wait).</summary>
    public static int ModeOf(SynchronousCommitLevel level) => level switch
    {
        SynchronousCommitLevel.RemoteWrite => WriteMode,
        SynchronousCommitLevel.On => FlushMode,
        SynchronousCommitLevel.RemoteApply => ApplyMode,
        SynchronousCommitLevel.Off or SynchronousCommitLevel.Local => -1,
        _ => throw new ArgumentOutOfRangeException(nameof(level), level, "not a synchronous_commit level"),
    };

    /// <summary>
    /// The walsender server started: from now on commits wait (PostgreSQL waits only with
    /// max_wal_senders > 0) and its walsenders are the standbys.
    /// </summary>
    public void Attach(ISyncRepStandbySource source)
    {
        var released = new CompletionChain();
        lock (_lock)
        {
            _source = source;
            ReleaseLocked(ref released);
        }
        released.CompleteAll(null);
    }

    /// <summary>
    /// Changes the setting at run time (a reload): emptied, it releases every waiter; otherwise the
    /// waiters the current standbys already satisfy under the new rule are released.
    /// </summary>
    public void SetNames(SynchronousStandbyNames names)
    {
        ArgumentNullException.ThrowIfNull(names);
        var released = new CompletionChain();
        lock (_lock)
        {
            _names = names;
            if (!names.IsDefined)
            {
                for (int mode = 0; mode < Modes; mode++)
                    WakeLocked(mode, all: true, Lsn.Invalid, ref released);
            }
            else
            {
                ReleaseLocked(ref released);
            }
        }
        released.CompleteAll(null);
    }

    /// <summary>Whether a commit at <paramref name="level"/> would wait for standbys now (§7.3).</summary>
    public bool WaitsAt(SynchronousCommitLevel level) => ModeOf(level) >= 0 && _names.IsDefined && Volatile.Read(ref _source) != null;

    /// <summary>
    /// SyncRepWaitForLSN: blocks until the synchronous standbys confirm the WAL up to
    /// <paramref name="commitEnd"/> at <paramref name="level"/>; returns at once when no wait is needed.
    /// </summary>
    /// <exception cref="SyncRepWaitCanceledException">Cancelled, or the instance closed, first.</exception>
    public void Wait(Lsn commitEnd, SynchronousCommitLevel level, CancellationToken cancellationToken = default)
    {
        int mode = ModeOf(level);
        if (mode < 0)
            return;
        SyncRepWaiter? waiter;
        lock (_lock)
        {
            waiter = EnqueueLocked(commitEnd, mode, blocking: true, cancellationToken, out var refused);
            if (refused != null)
                throw refused;
        }
        if (waiter == null)
            return;
        waiter.RegisterCancellation();
        waiter.Wait();
    }

    /// <summary>As <see cref="Wait"/>, without blocking a thread; completes synchronously when no wait is needed.</summary>
    public ValueTask WaitAsync(Lsn commitEnd, SynchronousCommitLevel level, CancellationToken cancellationToken = default)
    {
        int mode = ModeOf(level);
        if (mode < 0)
            return default;
        SyncRepWaiter? waiter;
        lock (_lock)
        {
            waiter = EnqueueLocked(commitEnd, mode, blocking: false, cancellationToken, out var refused);
            if (refused != null)
                return ValueTask.FromException(refused);
        }
        if (waiter == null)
            return default;
        short version = waiter.Version;   // read before the waiter can complete and be recycled
        waiter.RegisterCancellation();
        return new ValueTask(waiter, version);
    }

    // Under _lock: null when no wait is needed (or refused is set); otherwise the queued waiter.
    private SyncRepWaiter? EnqueueLocked(Lsn lsn, int mode, bool blocking, CancellationToken token, out Exception? refused)
    {
        refused = null;
        // The order of SyncRepWaitForLSN: no standbys defined or already confirmed → no wait at all.
        if (_source == null || !_names.IsDefined || lsn.Value <= _synced[mode])
            return null;
        if (_closed)
        {
            refused = new SyncRepWaitCanceledException(SyncRepCancelReason.InstanceClosed, lsn);
            return null;
        }
        if (_walFault != null)
        {
            refused = WalFault.Create(_walFault);
            return null;
        }
        if (token.IsCancellationRequested)
        {
            refused = new SyncRepWaitCanceledException(SyncRepCancelReason.UserRequest, lsn, token);
            return null;
        }
        var waiter = _pool.Rent();
        waiter.Prepare(lsn, mode, blocking, token);
        InsertLocked(waiter);
        return waiter;
    }

    // SyncRepQueueInsert: from the tail back to the last waiter at or below our LSN (commits mostly
    // arrive in LSN order, so this is usually one step); equal LSNs keep their arrival order.
    private void InsertLocked(SyncRepWaiter waiter)
    {
        int mode = waiter.Mode;
        var after = _tails[mode];
        while (after != null && after.Target > waiter.Target)
            after = after.Previous;
        waiter.Previous = after;
        waiter.Next = after == null ? _heads[mode] : after.Next;
        if (waiter.Next != null)
            waiter.Next.Previous = waiter;
        else
            _tails[mode] = waiter;
        if (after != null)
            after.Next = waiter;
        else
            _heads[mode] = waiter;
        waiter.Queued = true;
        _queued[mode]++;
    }

    private void UnlinkLocked(SyncRepWaiter waiter)
    {
        int mode = waiter.Mode;
        if (waiter.Previous != null)
            waiter.Previous.Next = waiter.Next;
        else
            _heads[mode] = waiter.Next;
        if (waiter.Next != null)
            waiter.Next.Previous = waiter.Previous;
        else
            _tails[mode] = waiter.Previous;
        waiter.Previous = waiter.Next = null;
        waiter.Queued = false;
        _queued[mode]--;
    }

    /// <summary>
    /// SyncRepReleaseWaiters: called on every standby status update, when a walsender starts
    /// streaming and when one goes away. Recomputes the synced positions from the candidates and
    /// wakes every waiter they cover, in LSN order.
    /// </summary>
    public void Release()
    {
        // Without a setting nobody waits (a change of the setting re-evaluates under the lock itself),
        // so status updates then cost no lock.
        if (!_names.IsDefined)
            return;
        var released = new CompletionChain();
        lock (_lock)
            ReleaseLocked(ref released);
        released.CompleteAll(null);
    }

    private void ReleaseLocked(ref CompletionChain released)
    {
        if (_source == null || !_names.IsDefined)
            return;
        _selection.Standbys.Clear();
        _source.CollectStandbys(_selection.Standbys);
        if (!_selection.TrySyncedPositions(_names, out var write, out var flush, out var apply))
            return;   // fewer candidates than the setting needs: nobody is released
        AdvanceLocked(WriteMode, write, ref released);
        AdvanceLocked(FlushMode, flush, ref released);
        AdvanceLocked(ApplyMode, apply, ref released);
    }

    private void AdvanceLocked(int mode, Lsn position, ref CompletionChain released)
    {
        if (position.Value <= _synced[mode])
            return;
        Volatile.Write(ref _synced[mode], position.Value);
        WakeLocked(mode, all: false, position, ref released);
    }

    // SyncRepWakeQueue: takes the queue's waiters up to `upTo` (or all) out, head first, for the
    // caller to complete once it has released the lock.
    private void WakeLocked(int mode, bool all, Lsn upTo, ref CompletionChain released)
    {
        while (_heads[mode] is { } head && (all || head.Target <= upTo))
        {
            UnlinkLocked(head);
            released.Add(head);
        }
    }

    /// <summary>A waiter's token was cancelled: it leaves its queue with the cancel exception (unless already released).</summary>
    public void Cancel(SyncRepWaiter waiter)
    {
        lock (_lock)
        {
            if (!waiter.Queued)
                return;
            UnlinkLocked(waiter);
        }
        waiter.Complete(waiter.Canceled());
    }

    /// <summary>
    /// The WAL engine faulted: WAL not flushed by now never will be, so no standby can confirm it;
    /// every waiter, and every later wait, ends with <see cref="WalFaultedException"/> (the commit's
    /// outcome is unknown).
    /// </summary>
    public void Fail(Exception first)
    {
        lock (_lock)
        {
            _walFault ??= first;
            for (int mode = 0; mode < Modes; mode++)
            {
                while (_heads[mode] is { } head)
                {
                    UnlinkLocked(head);
                    head.Complete(WalFault.Create(first));
                }
            }
        }
    }

    /// <summary>The instance is closing: every waiter ends with <see cref="SyncRepCancelReason.InstanceClosed"/>, and so does every later wait.</summary>
    public void Close()
    {
        lock (_lock)
        {
            _closed = true;
            for (int mode = 0; mode < Modes; mode++)
            {
                while (_heads[mode] is { } head)
                {
                    UnlinkLocked(head);
                    head.Complete(new SyncRepWaitCanceledException(SyncRepCancelReason.InstanceClosed, head.Target));
                }
            }
        }
    }

    public void Return(SyncRepWaiter waiter) => _pool.Return(waiter);

    /// <summary>
    /// pg_stat_replication's sync_priority and sync_state for <paramref name="standbys"/> (in the
    /// same order): priority 0 when the name does not match or no flush was reported ("async");
    /// "sync" or "quorum" for the standbys chosen now; "potential" for the other matches.
    /// </summary>
    public (int Priority, string State)[] Classify(IReadOnlyList<SyncRepStandby> standbys)
    {
        var names = _names;
        var selection = new SyncRepSelection();
        selection.Standbys.AddRange(standbys);
        var chosen = selection.Chosen(names);
        var result = new (int, string)[standbys.Count];
        for (int i = 0; i < standbys.Count; i++)
        {
            var s = standbys[i];
            int priority = s.Flush.IsValid ? names.PriorityOf(s.ApplicationName) : 0;
            result[i] = priority == 0 ? (0, "async")
                : chosen.Contains(i) ? (priority, names.Method == SyncRepMethod.Quorum ? "quorum" : "sync")
                : (priority, "potential");
        }
        return result;
    }
}
