// FileSystemArchiveStatus: pg_wal/archive_status on a real file system. Status files are empty; a
// .done is made by rename from the .ready (or created) and the directory synced, so an archived
// file is never offered again after a crash — offering it again would be harmless (pushes are
// idempotent) but a lost .done would also keep it from being removed.
namespace PgWal.Storage;

/// <summary>pg_wal/archive_status of a data directory on disk.</summary>
public sealed class FileSystemArchiveStatus : IArchiveStatusStorage
{
    private const string ReadySuffix = ".ready";
    private const string DoneSuffix = ".done";

    /// <summary>Uses <c>archive_status</c> under <paramref name="walDirectory"/> (created when missing and <paramref name="create"/> is set).</summary>
    public FileSystemArchiveStatus(string walDirectory, bool create = true)
    {
        Location = Path.Combine(walDirectory, "archive_status");
        if (create && !Directory.Exists(Location))
        {
            Directory.CreateDirectory(Location);
            FileSystemWalStorage.SyncDirectory(walDirectory);
        }
    }

    /// <inheritdoc/>
    public string Location { get; }

    /// <inheritdoc/>
    public ArchiveStatusKind Status(string fileName)
        => File.Exists(PathOf(fileName, DoneSuffix)) ? ArchiveStatusKind.Done
            : File.Exists(PathOf(fileName, ReadySuffix)) ? ArchiveStatusKind.Ready
            : ArchiveStatusKind.None;

    /// <inheritdoc/>
    public void MarkReady(string fileName)
    {
        using var _ = new FileStream(PathOf(fileName, ReadySuffix), FileMode.OpenOrCreate, FileAccess.Write);
    }

    /// <inheritdoc/>
    public void MarkDone(string fileName)
    {
        string done = PathOf(fileName, DoneSuffix);
        try
        {
            File.Move(PathOf(fileName, ReadySuffix), done, overwrite: true);
        }
        catch (FileNotFoundException)
        {
            using var _ = new FileStream(done, FileMode.OpenOrCreate, FileAccess.Write);
        }
        FileSystemWalStorage.SyncDirectory(Location);
    }

    /// <inheritdoc/>
    public void Remove(string fileName)
    {
        File.Delete(PathOf(fileName, ReadySuffix));
        File.Delete(PathOf(fileName, DoneSuffix));
    }

    /// <inheritdoc/>
    public IReadOnlyList<string> ListReady()
    {
        var names = new List<string>();
        if (!Directory.Exists(Location))
            return names;
        foreach (var path in Directory.EnumerateFiles(Location, "*" + ReadySuffix))
        {
            string name = Path.GetFileName(path);
            names.Add(name[..^ReadySuffix.Length]);
        }
        return names;
    }

    private string PathOf(string fileName, string suffix)
    {
        if (fileName.Contains('/') || fileName.Contains('\0') || fileName is "" or "." or "..")
            throw new ArgumentException($"\"{fileName}\" is not a file name in pg_wal", nameof(fileName));
        return Path.Combine(Location, fileName + suffix);
    }
}
