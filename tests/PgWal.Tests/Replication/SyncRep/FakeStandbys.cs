// FakeStandbys: walsenders for coordinator unit tests — each reports a name, a state and three
// positions, changed by the test between releases as status updates would change them.
using PgWal.Replication.Sync;

namespace PgWal.Tests.Replication.SyncRep;

internal sealed class FakeStandbys : ISyncRepStandbySource
{
    private readonly List<SyncRepStandby> _standbys = [];

    public void CollectStandbys(List<SyncRepStandby> standbys)
    {
        lock (_standbys)
            standbys.AddRange(_standbys);
    }

    /// <summary>Adds or replaces the walsender with slot order <paramref name="order"/>.</summary>
    public void Set(int order, string name, string state, ulong write, ulong flush, ulong apply)
    {
        var standby = new SyncRepStandby(order, name, state, new Lsn(write), new Lsn(flush), new Lsn(apply));
        lock (_standbys)
        {
            // In place, without a closure: the allocation test runs this between waits.
            int index;
            for (index = 0; index < _standbys.Count && _standbys[index].Order != order; index++)
            {
            }
            if (index < _standbys.Count)
                _standbys[index] = standby;
            else
                _standbys.Add(standby);
        }
    }

    public void Remove(int order)
    {
        lock (_standbys)
            _standbys.RemoveAll(s => s.Order == order);
    }

    public IReadOnlyList<SyncRepStandby> All
    {
        get
        {
            lock (_standbys)
                return [.. _standbys];
        }
    }

    /// <summary>A coordinator for <paramref name="names"/> with these standbys attached (as a started walsender server).</summary>
    public SyncRepCoordinator Coordinator(string names)
    {
        var coordinator = new SyncRepCoordinator(SynchronousStandbyNames.Parse(names));
        coordinator.Attach(this);
        return coordinator;
    }
}
