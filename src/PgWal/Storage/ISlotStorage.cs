// ISlotStorage: pg_replslot, where persistent replication slots keep their state. Creation and
// updates follow PostgreSQL's protocol so that a crash at any point leaves either the old state or
// the new one: a new slot is written into "<name>.tmp" and the directory renamed; an update goes
// through "state.tmp" and a rename; a drop renames the directory to "<name>.tmp" first. Leftover
// ".tmp" entries are removed at startup.
namespace PgWal.Storage;

/// <summary>Where slot state files live.</summary>
public interface ISlotStorage
{
    /// <summary>pg_replslot's path, for messages.</summary>
    string Location { get; }

    /// <summary>The slot directories (not the ".tmp" leftovers, which this removes).</summary>
    IReadOnlyList<string> ListAndCleanUp();

    /// <summary>A slot's state file; null when the directory has none.</summary>
    byte[]? ReadState(string name);

    /// <summary>Creates slot <paramref name="name"/> with <paramref name="state"/>, durably.</summary>
    void Create(string name, ReadOnlySpan<byte> state);

    /// <summary>Replaces the state of slot <paramref name="name"/>, durably.</summary>
    void Save(string name, ReadOnlySpan<byte> state);

    /// <summary>Removes slot <paramref name="name"/>, durably.</summary>
    void Delete(string name);
}
