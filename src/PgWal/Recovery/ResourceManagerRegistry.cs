// ResourceManagerRegistry: the custom resource managers an instance replays and waldump
// describes (PostgreSQL's RegisterCustomRmgr). Registration is append-only: an id can be taken
// once and never changes owner, because WAL already written names it.
using PgWal.Format;
using PgWal.Rmgr;

namespace PgWal.Recovery;

/// <summary>Custom resource managers by id (128–255).</summary>
public sealed class ResourceManagerRegistry
{
    private readonly IResourceManager?[] _table = new IResourceManager?[256];

    /// <summary>Registers <paramref name="manager"/> under its id.</summary>
    /// <exception cref="ArgumentException">The id is outside 128–255 or already taken by another name.</exception>
    public ResourceManagerRegistry Register(IResourceManager manager)
    {
        ArgumentNullException.ThrowIfNull(manager);
        if (!RmgrIds.IsCustom(manager.Id))
            throw new ArgumentException($"custom resource manager \"{manager.Name}\" has invalid ID {manager.Id}: custom ids are 128..255", nameof(manager));
        lock (_table)
        {
            var existing = _table[manager.Id];
            if (existing != null && !ReferenceEquals(existing, manager))
                throw new ArgumentException($"failed to register custom resource manager \"{manager.Name}\" with ID {manager.Id}: already registered to \"{existing.Name}\"", nameof(manager));
            _table[manager.Id] = manager;
        }
        return this;
    }

    /// <summary>The manager for <paramref name="id"/>, or null.</summary>
    public IResourceManager? this[byte id] => Volatile.Read(ref _table[id]);

    /// <summary>Registered managers in id order.</summary>
    public IEnumerable<IResourceManager> All => _table.Where(m => m != null)!;

    /// <summary>A waldump describer table with these managers' descriptions.</summary>
    public RecordDescribers ToDescribers()
    {
        var describers = new RecordDescribers();
        foreach (var manager in All)
            describers.Register(manager.Id, manager);
        return describers;
    }
}
