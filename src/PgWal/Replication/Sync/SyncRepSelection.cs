// SyncRepSelection: which walsenders are the synchronous standbys now and how far they confirmed
// (PostgreSQL's SyncRepGetCandidateStandbys and SyncRepGetSyncRecPtr, reference §7.2). Candidates:
// a matching name (priority > 0), state streaming or stopping, a valid flush. Priority mode keeps
// the N with the lowest priority value (ties: the lower slot order) and takes the minimum of each
// position over them; quorum mode takes the N-th largest of each position over all candidates.
// Fewer than N candidates: no positions (nobody is released). Scratch lists are reused, so a
// release allocates nothing; one instance is used under one lock.
namespace PgWal.Replication.Sync;

internal sealed class SyncRepSelection
{
    private static readonly Comparison<(int Priority, int Order, int Index)> ByPriority
        = static (a, b) => a.Priority != b.Priority ? a.Priority.CompareTo(b.Priority) : a.Order.CompareTo(b.Order);

    private readonly List<(int Priority, int Order, int Index)> _candidates = [];
    private readonly List<ulong> _values = [];

    /// <summary>The walsenders to choose from (filled by the caller).</summary>
    public List<SyncRepStandby> Standbys { get; } = [];

    // SyncRepGetCandidateStandbys: in priority mode with more candidates than needed, the best N.
    private void FindCandidates(SynchronousStandbyNames names)
    {
        _candidates.Clear();
        for (int i = 0; i < Standbys.Count; i++)
        {
            var s = Standbys[i];
            if (!s.IsStreaming || !s.Flush.IsValid)
                continue;
            int priority = names.PriorityOf(s.ApplicationName);
            if (priority > 0)
                _candidates.Add((priority, s.Order, i));
        }
        if (names.Method == SyncRepMethod.Priority && _candidates.Count > names.NumSync)
        {
            _candidates.Sort(ByPriority);
            _candidates.RemoveRange(names.NumSync, _candidates.Count - names.NumSync);
        }
    }

    /// <summary>Indexes (into <see cref="Standbys"/>) of the standbys chosen now: "sync" or "quorum" in pg_stat_replication.</summary>
    public HashSet<int> Chosen(SynchronousStandbyNames names)
    {
        var chosen = new HashSet<int>();
        if (!names.IsDefined)
            return chosen;
        FindCandidates(names);
        foreach (var c in _candidates)
            chosen.Add(c.Index);
        return chosen;
    }

    /// <summary>SyncRepGetSyncRecPtr: the positions the synchronous standbys confirmed; false with fewer candidates than needed.</summary>
    public bool TrySyncedPositions(SynchronousStandbyNames names, out Lsn write, out Lsn flush, out Lsn apply)
    {
        write = flush = apply = Lsn.Invalid;
        FindCandidates(names);
        if (_candidates.Count < names.NumSync)
            return false;
        write = Pick(names, static s => s.Write);
        flush = Pick(names, static s => s.Flush);
        apply = Pick(names, static s => s.Apply);
        return true;
    }

    // Priority: the minimum over the chosen; quorum: the N-th largest over all candidates.
    private Lsn Pick(SynchronousStandbyNames names, Func<SyncRepStandby, Lsn> position)
    {
        _values.Clear();
        foreach (var c in _candidates)
            _values.Add(position(Standbys[c.Index]).Value);
        _values.Sort();
        return new Lsn(names.Method == SyncRepMethod.Priority ? _values[0] : _values[_values.Count - names.NumSync]);
    }
}
