// FileSystemSlotStorage: pg_replslot on disk (see ISlotStorage for the crash-safety protocol).
namespace PgWal.Storage;

/// <summary>pg_replslot in a data directory.</summary>
public sealed class FileSystemSlotStorage(string dataDirectory) : ISlotStorage
{
    /// <inheritdoc/>
    public string Location { get; } = Path.Combine(dataDirectory, "pg_replslot");

    /// <inheritdoc/>
    public IReadOnlyList<string> ListAndCleanUp()
    {
        if (!Directory.Exists(Location))
            return [];
        var names = new List<string>();
        bool removed = false;
        foreach (var path in Directory.EnumerateDirectories(Location).Order(StringComparer.Ordinal))
        {
            string name = Path.GetFileName(path);
            if (name.EndsWith(".tmp", StringComparison.Ordinal))
            {
                Directory.Delete(path, recursive: true);   // a create or drop that did not finish
                removed = true;
                continue;
            }
            string stray = Path.Combine(path, "state.tmp");
            if (File.Exists(stray))
                File.Delete(stray);
            names.Add(name);
        }
        if (removed)
            FileSystemWalStorage.SyncDirectory(Location);
        return names;
    }

    /// <inheritdoc/>
    public byte[]? ReadState(string name)
    {
        string path = Path.Combine(Location, name, "state");
        return File.Exists(path) ? File.ReadAllBytes(path) : null;
    }

    /// <inheritdoc/>
    public void Create(string name, ReadOnlySpan<byte> state)
    {
        FileSystemDataDirectory.CreateDirectoryDurably(Location);
        string temp = Path.Combine(Location, name + ".tmp");
        if (Directory.Exists(temp))
            Directory.Delete(temp, recursive: true);
        Directory.CreateDirectory(temp);
        FileSystemWalStorage.SyncDirectory(Location);
        WriteState(temp, state);
        Directory.Move(temp, Path.Combine(Location, name));
        FileSystemWalStorage.SyncDirectory(Location);
    }

    /// <inheritdoc/>
    public void Save(string name, ReadOnlySpan<byte> state) => WriteState(Path.Combine(Location, name), state);

    private static void WriteState(string directory, ReadOnlySpan<byte> state)
    {
        string temp = Path.Combine(directory, "state.tmp");
        using (var handle = File.OpenHandle(temp, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            RandomAccess.Write(handle, state, 0);
            FileSystemWalStorage.SyncHandle(handle, dataOnly: false, temp);
        }
        File.Move(temp, Path.Combine(directory, "state"), overwrite: true);
        FileSystemWalStorage.SyncDirectory(directory);
    }

    /// <inheritdoc/>
    public void Delete(string name)
    {
        string path = Path.Combine(Location, name);
        if (!Directory.Exists(path))
            return;
        string temp = path + ".tmp";
        Directory.Move(path, temp);
        FileSystemWalStorage.SyncDirectory(Location);
        Directory.Delete(temp, recursive: true);
        FileSystemWalStorage.SyncDirectory(Location);
    }
}
