// WalRepository: a directory that keeps archived WAL for PgWal and for real PostgreSQL servers
// (`archive_command = 'pgwal archive push --repo R %p'`, `restore_command = 'pgwal archive get
// --repo R %f %p'`). Layout:
//   R/pgwal-archive.conf        format, compression, and the cluster's system identifier once known
//   R/wal/<TLI>/<name>.pgwal    one file per archived file: ArchiveFileHeader + stored bytes
// A push is atomic (temporary file, fsync, no-replace rename, directory fsync) and idempotent: the
// same content again succeeds, different content under an existing name is refused (so a history
// file is never overwritten). Reads check the header, the stored bytes' checksum, and the restored
// bytes' checksum; any mismatch is an ArchiveException with Damaged set. Safe for concurrent pushes.
using Microsoft.Win32.SafeHandles;
using PgWal.Format;
using PgWal.Storage;

namespace PgWal.Archive;

/// <summary>What a push did.</summary>
public enum PushOutcome
{
    /// <summary>The file was stored.</summary>
    Stored,
    /// <summary>The repository already held exactly these bytes under this name.</summary>
    AlreadyArchived,
}

/// <summary>A WAL archive repository in a directory.</summary>
public sealed partial class WalRepository
{
    /// <summary>The repository's settings file, in its top directory.</summary>
    public const string ConfigFileName = "pgwal-archive.conf";
    private const string FileSuffix = ".pgwal";
    private const int ConfigFormat = 1;
    private const int MaxHistoryLength = 64 * 1024 * 1024;

    private WalRepository(string path, ArchiveCodec compression, ulong? systemIdentifier, int? segmentSize)
    {
        Path = path;
        Compression = compression;
        SystemIdentifier = systemIdentifier;
        SegmentSize = segmentSize;
    }

    /// <summary>The repository's directory.</summary>
    public string Path { get; }

    /// <summary>How new files are stored.</summary>
    public ArchiveCodec Compression { get; }

    /// <summary>The system identifier of the cluster whose WAL this is, once the first segment arrived.</summary>
    public ulong? SystemIdentifier { get; private set; }

    /// <summary>The cluster's WAL segment size, recorded with <see cref="SystemIdentifier"/>.</summary>
    public int? SegmentSize { get; private set; }

    /// <summary>Creates a repository in <paramref name="path"/>, which must not exist or be empty.</summary>
    /// <exception cref="ArchiveException">The directory holds files, or a repository already.</exception>
    public static WalRepository Create(string path, ArchiveCodec compression)
    {
        ArchiveCodecs.RequireAvailable(compression);
        string full = System.IO.Path.GetFullPath(path);
        if (File.Exists(System.IO.Path.Combine(full, ConfigFileName)))
            throw new ArchiveException($"\"{full}\" is already a PgWal archive repository");
        if (Directory.Exists(full) && Directory.EnumerateFileSystemEntries(full).Any())
            throw new ArchiveException($"directory \"{full}\" exists and is not empty");
        Directory.CreateDirectory(System.IO.Path.Combine(full, "wal"));
        var repository = new WalRepository(full, compression, null, null);
        repository.WriteConfig();
        FileSystemWalStorage.SyncDirectory(full);
        string? parent = System.IO.Path.GetDirectoryName(full);
        if (parent != null)
            FileSystemWalStorage.SyncDirectory(parent);
        return repository;
    }

    /// <summary>Opens the repository in <paramref name="path"/>.</summary>
    /// <exception cref="ArchiveException">There is none, or its settings file is damaged.</exception>
    public static WalRepository Open(string path)
    {
        string full = System.IO.Path.GetFullPath(path);
        string config = System.IO.Path.Combine(full, ConfigFileName);
        if (!File.Exists(config))
            throw new ArchiveException(Directory.Exists(full)
                ? $"\"{full}\" is not a PgWal archive repository (it has no {ConfigFileName}; create one with `pgwal archive init --repo {full}`)"
                : $"archive repository \"{full}\" does not exist (create it with `pgwal archive init --repo {full}`)");
        var (compression, sysid, segmentSize) = ReadConfig(config);
        return new WalRepository(full, compression, sysid, segmentSize);
    }

    /// <summary>Where <paramref name="name"/> is (or would be) stored.</summary>
    public string PathOf(ArchivedFileName name) => System.IO.Path.Combine(Path, "wal", name.Name[..8], name.Name + FileSuffix);

    /// <summary>True when the repository holds <paramref name="name"/>.</summary>
    public bool Contains(ArchivedFileName name) => File.Exists(PathOf(name));

    /// <summary>
    /// Archives the file at <paramref name="sourcePath"/> under <paramref name="name"/>. WAL
    /// segments must be whole segments of this repository's cluster.
    /// </summary>
    /// <exception cref="ArchiveException">The file is not what its name says, belongs to another cluster, or differs from what is archived under that name.</exception>
    public PushOutcome Push(string sourcePath, ArchivedFileName name)
    {
        using var source = OpenSource(sourcePath, name, out long length);
        if (name.IsWal)
            CheckSegment(source, length, name, sourcePath);
        string target = PathOf(name);
        if (File.Exists(target))
            return SameAsArchived(target, name, source, length);
        string directory = System.IO.Path.GetDirectoryName(target)!;
        if (!Directory.Exists(directory))
        {
            Directory.CreateDirectory(directory);
            FileSystemWalStorage.SyncDirectory(System.IO.Path.GetDirectoryName(directory)!);
        }
        string temp = System.IO.Path.Combine(directory, $".tmp.{name.Name}.{Environment.ProcessId}.{Environment.TickCount64}");
        try
        {
            using (var output = File.OpenHandle(temp, FileMode.CreateNew, FileAccess.Write))
                ArchiveFileCodec.Write(source, length, sourcePath, output, temp, Compression);
            try
            {
                File.Move(temp, target, overwrite: false);   // link + unlink: never replaces a file
            }
            catch (IOException) when (File.Exists(target))
            {
                return SameAsArchived(target, name, source, length);   // a concurrent push of the same name won
            }
            FileSystemWalStorage.SyncDirectory(directory);
            return PushOutcome.Stored;
        }
        finally
        {
            File.Delete(temp);
        }
    }

    /// <summary>
    /// Restores <paramref name="name"/> to <paramref name="destination"/> (complete and checked, or
    /// not at all: written under a temporary name and renamed), or returns false when the
    /// repository does not hold it.
    /// </summary>
    /// <exception cref="ArchiveException">The archived file is damaged (<see cref="ArchiveException.Damaged"/>) or unreadable.</exception>
    public bool TryRestore(ArchivedFileName name, string destination)
    {
        using var archived = TryOpenArchived(name);
        if (archived is null)
            return false;
        string temp = destination + ".pgwal-tmp";
        try
        {
            using (var output = File.OpenHandle(temp, FileMode.Create, FileAccess.Write))
                ArchiveFileCodec.Read(archived, PathOf(name), (chunk, offset) => RandomAccess.Write(output, chunk, offset));
            File.Move(temp, destination, overwrite: true);
            return true;
        }
        finally
        {
            File.Delete(temp);
        }
    }

    /// <summary>
    /// The original bytes of <paramref name="name"/>, checked, or null when the repository does not
    /// hold it. Holds the whole file in memory: for history files and tests; restore segments with
    /// <see cref="TryRestore"/>.
    /// </summary>
    /// <exception cref="ArchiveException">The archived file is damaged (<see cref="ArchiveException.Damaged"/>) or unreadable.</exception>
    public byte[]? TryRead(ArchivedFileName name)
    {
        using var archived = TryOpenArchived(name);
        if (archived is null)
            return null;
        var content = new MemoryStream();
        ArchiveFileCodec.Read(archived, PathOf(name), (chunk, _) => content.Write(chunk));
        return content.ToArray();
    }

    /// <summary>
    /// Reads <paramref name="name"/>, checked, into <paramref name="buffer"/> (reused by the caller:
    /// nothing is allocated per file); returns its length, or -1 when the repository does not hold it.
    /// </summary>
    /// <exception cref="ArchiveException">The archived file is damaged, or longer than <paramref name="buffer"/>.</exception>
    internal int TryReadInto(ArchivedFileName name, byte[] buffer)
    {
        using var archived = TryOpenArchived(name);
        if (archived is null)
            return -1;
        var header = ArchiveFileCodec.Read(archived, PathOf(name), (chunk, offset) =>
        {
            if (offset + chunk.Length > buffer.Length)
                throw new ArchiveException($"archive file \"{PathOf(name)}\" holds more than {buffer.Length} bytes, more than a segment of this repository");
            chunk.CopyTo(buffer.AsSpan((int)offset));
        });
        return (int)header.OriginalLength;
    }

    // Checks every byte of an archived file (both checksums) without keeping it.
    internal static void VerifyFile(string path)
    {
        using var file = File.OpenHandle(path, FileMode.Open, FileAccess.Read);
        ArchiveFileCodec.Read(file, path, static (_, _) => { });
    }

    private SafeFileHandle? TryOpenArchived(ArchivedFileName name)
    {
        try
        {
            return File.OpenHandle(PathOf(name), FileMode.Open, FileAccess.Read);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
    }

    // Identical content under the name already archived: fine; anything else: refused.
    private PushOutcome SameAsArchived(string target, ArchivedFileName name, SafeFileHandle source, long length)
    {
        using var archived = File.OpenHandle(target, FileMode.Open, FileAccess.Read);
        var buffer = new byte[ArchiveFileHeader.ChunkSize];
        bool same = true;
        long archivedLength = 0;
        ArchiveFileCodec.Read(archived, target, (chunk, offset) =>
        {
            archivedLength = offset + chunk.Length;
            if (!same || offset + chunk.Length > length)
            {
                same = false;
                return;
            }
            int got = FileSystemWalStorage.ReadFully(source, buffer.AsSpan(0, chunk.Length), offset);
            same = got == chunk.Length && chunk.SequenceEqual(buffer.AsSpan(0, got));
        });
        if (same && archivedLength == length)
            return PushOutcome.AlreadyArchived;
        throw new ArchiveException(name.Kind == ArchivedFileKind.History
            ? $"history file \"{name}\" is already archived with different content; history files are never overwritten"
            : $"archive file \"{name}\" already exists in \"{Path}\" with different content ({archivedLength} bytes archived, {length} offered); not overwritten");
    }

    private static SafeFileHandle OpenSource(string sourcePath, ArchivedFileName name, out long length)
    {
        SafeFileHandle handle;
        try
        {
            handle = File.OpenHandle(sourcePath, FileMode.Open, FileAccess.Read);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new ArchiveException($"could not open file \"{sourcePath}\": No such file or directory");
        }
        length = RandomAccess.GetLength(handle);
        long limit = name.Kind == ArchivedFileKind.History || name.Kind == ArchivedFileKind.BackupHistory ? MaxHistoryLength : ArchiveCodecs.MaxOriginalLength;
        if (length > limit)
        {
            handle.Dispose();
            throw new ArchiveException($"file \"{sourcePath}\" is {length} bytes, more than a {name.Kind} file can be ({limit})");
        }
        return handle;
    }

    // A segment (or .partial) must be a whole segment whose first page names it, of this cluster.
    private void CheckSegment(SafeFileHandle source, long length, ArchivedFileName name, string sourcePath)
    {
        var first = new byte[PageHeader.LongSize];
        if (length < PageHeader.LongSize || FileSystemWalStorage.ReadFully(source, first, 0) != first.Length)
            throw new ArchiveException($"file \"{sourcePath}\" is {length} bytes, too short for a WAL segment");
        var page = PageHeader.Read(first);
        if (PageHeader.VersionOf(page.Magic) == WalVersion.Unknown)
            throw new ArchiveException($"file \"{sourcePath}\" is not a WAL segment: invalid magic number {page.Magic:X4} in its first page");
        if (!page.IsLong)
            throw new ArchiveException($"file \"{sourcePath}\" is not a WAL segment: its first page has no long header");
        if (!WalGeometry.IsValidSegmentSize(page.SegmentSize) || length != page.SegmentSize)
            throw new ArchiveException($"file \"{sourcePath}\" is {length} bytes, but its first page says segments are {page.SegmentSize} bytes");
        var geometry = new WalGeometry((int)page.SegmentSize);
        SegmentFileName.TryParseLeading(name.Name, geometry, out _, out var segment);
        var expected = geometry.SegmentStart(segment);
        if (page.PageAddress != expected)
            throw new ArchiveException($"file \"{sourcePath}\" does not hold segment {name.Name[..24]}: its first page is at {page.PageAddress}, the name says {expected}");
        if (SystemIdentifier is { } known)
        {
            CheckSameCluster(page.SystemIdentifier, (int)length, known, SegmentSize, sourcePath);
            return;
        }
        RecordSystemIdentifier(page.SystemIdentifier, (int)length, sourcePath);
    }

    // The first segment names the cluster: recorded once, under the lock, unless another process
    // recorded a cluster meanwhile (then this segment must be of that one).
    private void RecordSystemIdentifier(ulong systemIdentifier, int segmentSize, string sourcePath)
    {
        using var guard = ConfigLock();
        var (_, current, currentSize) = ReadConfig(System.IO.Path.Combine(Path, ConfigFileName));
        if (current is { } other)
            CheckSameCluster(systemIdentifier, segmentSize, other, currentSize, sourcePath);
        SystemIdentifier = systemIdentifier;
        SegmentSize = segmentSize;
        if (current is null)
            WriteConfig();
    }

    private static void CheckSameCluster(ulong systemIdentifier, int segmentSize, ulong repositoryIdentifier, int? repositorySegmentSize, string sourcePath)
    {
        if (systemIdentifier != repositoryIdentifier)
            throw new ArchiveException($"file \"{sourcePath}\" belongs to another cluster: system identifier {systemIdentifier}, this repository's is {repositoryIdentifier}");
        if (repositorySegmentSize is { } size && size != segmentSize)
            throw new ArchiveException($"file \"{sourcePath}\" is a {segmentSize}-byte segment, this repository's segments are {size} bytes");
    }

    // Serialises changes of the settings file between processes (an exclusive lock file).
    private FileStream ConfigLock()
    {
        string lockPath = System.IO.Path.Combine(Path, ".lock");
        for (int attempt = 0; ; attempt++)
        {
            try
            {
                return new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (attempt < 200)
            {
                Thread.Sleep(50);
            }
        }
    }

    private void WriteConfig()
    {
        string text = "# PgWal archive repository: written by pgwal, do not edit\n"
            + $"format = {ConfigFormat}\ncompression = {ArchiveCodecs.Name(Compression)}\n"
            + (SystemIdentifier is { } id ? $"system_identifier = {id}\nsegment_size = {SegmentSize}\n" : "");
        string config = System.IO.Path.Combine(Path, ConfigFileName);
        string temp = config + ".tmp";
        File.WriteAllText(temp, text);
        using (var handle = File.OpenHandle(temp, FileMode.Open, FileAccess.ReadWrite))
            FileSystemWalStorage.SyncHandle(handle, dataOnly: false, temp);
        File.Move(temp, config, overwrite: true);
        FileSystemWalStorage.SyncDirectory(Path);
    }

    private static (ArchiveCodec Compression, ulong? SystemIdentifier, int? SegmentSize) ReadConfig(string config)
    {
        var compression = ArchiveCodec.Zstd;
        ulong? sysid = null;
        int? segmentSize = null;
        int lineNumber = 0;
        foreach (string raw in File.ReadAllLines(config))
        {
            lineNumber++;
            string line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#'))
                continue;
            int eq = line.IndexOf('=');
            string key = eq < 0 ? line : line[..eq].Trim(), value = eq < 0 ? "" : line[(eq + 1)..].Trim();
            switch (key)
            {
                case "format" when value == ConfigFormat.ToString():
                    break;
                case "compression" when ArchiveCodecs.TryParse(value, out var c):
                    compression = c;
                    break;
                case "system_identifier" when ulong.TryParse(value, out var id):
                    sysid = id;
                    break;
                case "segment_size" when int.TryParse(value, out var size) && WalGeometry.IsValidSegmentSize(size):
                    segmentSize = size;
                    break;
                default:
                    throw new ArchiveException($"\"{config}\" line {lineNumber}: unexpected \"{line}\"");
            }
        }
        return (compression, sysid, segmentSize);
    }
}
