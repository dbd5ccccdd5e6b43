// WalRepository: a directory that keeps archived WAL for PgWal and for real PostgreSQL servers
// (`archive_command = 'pgwal archive push --repo R %p'`, `restore_command = 'pgwal archive get
// --repo R %f %p'`). Layout:
//   R/pgwal-archive.conf        format, compression, and the cluster's system identifier once known
//   R/wal/<TLI>/<name>.pgwal    one file per archived file: ArchiveFileHeader + stored bytes
// A push is atomic (temporary file, fsync, no-replace rename, directory fsync) and idempotent: the
// same content again succeeds, different content under an existing name is refused (so a history
// file is never overwritten). Reads check the header, the stored bytes' checksum, and the restored
// bytes' checksum; any mismatch is an ArchiveException with Damaged set. Safe for concurrent pushes.
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
        byte[] content = ReadSource(sourcePath, name);
        if (name.IsWal)
            CheckSegment(content, name, sourcePath);
        string target = PathOf(name);
        if (File.Exists(target))
            return SameAsArchived(target, name, content);
        string directory = System.IO.Path.GetDirectoryName(target)!;
        if (!Directory.Exists(directory))
        {
            Directory.CreateDirectory(directory);
            FileSystemWalStorage.SyncDirectory(System.IO.Path.GetDirectoryName(directory)!);
        }
        var stored = ArchiveCodecs.Compress(Compression, content);
        var header = new ArchiveFileHeader(Compression, (ulong)content.Length, (ulong)stored.Length, Crc32C.Compute(content), Crc32C.Compute(stored.Span));
        string temp = System.IO.Path.Combine(directory, $".tmp.{name.Name}.{Environment.ProcessId}.{Environment.TickCount64}");
        try
        {
            WriteDurably(temp, header, stored.Span);
            try
            {
                File.Move(temp, target, overwrite: false);   // link + unlink: never replaces a file
            }
            catch (IOException) when (File.Exists(target))
            {
                return SameAsArchived(target, name, content);   // a concurrent push of the same name won
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
    /// The original bytes of <paramref name="name"/>, checked against both checksums, or null when
    /// the repository does not hold it.
    /// </summary>
    /// <exception cref="ArchiveException">The archived file is damaged (<see cref="ArchiveException.Damaged"/>) or unreadable.</exception>
    public byte[]? TryRead(ArchivedFileName name)
    {
        string file = PathOf(name);
        byte[] raw;
        try
        {
            raw = File.ReadAllBytes(file);
        }
        catch (FileNotFoundException)
        {
            return null;
        }
        catch (DirectoryNotFoundException)
        {
            return null;
        }
        return Decode(raw, file);
    }

    // Checks the header and both checksums; returns the original bytes.
    internal static byte[] Decode(byte[] raw, string file)
    {
        if (ArchiveFileHeader.TryRead(raw, out var header) is { } problem)
            throw new ArchiveException($"archive file \"{file}\" is damaged: {problem}", damaged: true);
        if (header.StoredLength != (ulong)(raw.Length - ArchiveFileHeader.Size))
            throw new ArchiveException($"archive file \"{file}\" is damaged: header says {header.StoredLength} stored bytes, the file has {raw.Length - ArchiveFileHeader.Size}", damaged: true);
        if (header.OriginalLength > ArchiveCodecs.MaxOriginalLength)
            throw new ArchiveException($"archive file \"{file}\" is damaged: original length {header.OriginalLength} is beyond {ArchiveCodecs.MaxOriginalLength}", damaged: true);
        var stored = raw.AsSpan(ArchiveFileHeader.Size);
        uint storedCrc = Crc32C.Compute(stored);
        if (storedCrc != header.StoredCrc)
            throw new ArchiveException($"archive file \"{file}\" is damaged: stored data checksum mismatch (header {header.StoredCrc:X8}, computed {storedCrc:X8})", damaged: true);
        if (header.Codec == ArchiveCodec.None && header.OriginalLength != header.StoredLength)
            throw new ArchiveException($"archive file \"{file}\" is damaged: uncompressed, yet {header.OriginalLength} original and {header.StoredLength} stored bytes", damaged: true);
        byte[] content = ArchiveCodecs.Decompress(header.Codec, stored, (int)header.OriginalLength, file);
        uint crc = Crc32C.Compute(content);
        if (crc != header.OriginalCrc)
            throw new ArchiveException($"archive file \"{file}\" is damaged: restored data checksum mismatch (header {header.OriginalCrc:X8}, computed {crc:X8})", damaged: true);
        return content;
    }

    private PushOutcome SameAsArchived(string target, ArchivedFileName name, byte[] content)
    {
        byte[] archived = Decode(File.ReadAllBytes(target), target);
        if (archived.AsSpan().SequenceEqual(content))
            return PushOutcome.AlreadyArchived;
        throw new ArchiveException(name.Kind == ArchivedFileKind.History
            ? $"history file \"{name}\" is already archived with different content; history files are never overwritten"
            : $"archive file \"{name}\" already exists in \"{Path}\" with different content ({archived.Length} bytes archived, {content.Length} offered); not overwritten");
    }

    private static byte[] ReadSource(string sourcePath, ArchivedFileName name)
    {
        long length;
        try
        {
            length = new FileInfo(sourcePath).Length;
        }
        catch (FileNotFoundException)
        {
            throw new ArchiveException($"could not open file \"{sourcePath}\": No such file or directory");
        }
        long limit = name.Kind == ArchivedFileKind.History || name.Kind == ArchivedFileKind.BackupHistory ? MaxHistoryLength : ArchiveCodecs.MaxOriginalLength;
        if (length > limit)
            throw new ArchiveException($"file \"{sourcePath}\" is {length} bytes, more than a {name.Kind} file can be ({limit})");
        return File.ReadAllBytes(sourcePath);
    }

    // A segment (or .partial) must be a whole segment whose first page names it, of this cluster.
    private void CheckSegment(byte[] content, ArchivedFileName name, string sourcePath)
    {
        if (content.Length < PageHeader.LongSize)
            throw new ArchiveException($"file \"{sourcePath}\" is {content.Length} bytes, too short for a WAL segment");
        var page = PageHeader.Read(content);
        if (PageHeader.VersionOf(page.Magic) == WalVersion.Unknown)
            throw new ArchiveException($"file \"{sourcePath}\" is not a WAL segment: invalid magic number {page.Magic:X4} in its first page");
        if (!page.IsLong)
            throw new ArchiveException($"file \"{sourcePath}\" is not a WAL segment: its first page has no long header");
        if (!WalGeometry.IsValidSegmentSize(page.SegmentSize) || content.Length != page.SegmentSize)
            throw new ArchiveException($"file \"{sourcePath}\" is {content.Length} bytes, but its first page says segments are {page.SegmentSize} bytes");
        var geometry = new WalGeometry((int)page.SegmentSize);
        SegmentFileName.TryParseLeading(name.Name, geometry, out _, out var segment);
        var expected = geometry.SegmentStart(segment);
        if (page.PageAddress != expected)
            throw new ArchiveException($"file \"{sourcePath}\" does not hold segment {name.Name[..24]}: its first page is at {page.PageAddress}, the name says {expected}");
        if (SystemIdentifier is { } known)
        {
            if (known != page.SystemIdentifier)
                throw new ArchiveException($"file \"{sourcePath}\" belongs to another cluster: system identifier {page.SystemIdentifier}, this repository's is {known}");
            if (SegmentSize is { } size && size != content.Length)
                throw new ArchiveException($"file \"{sourcePath}\" is a {content.Length}-byte segment, this repository's segments are {size} bytes");
            return;
        }
        RecordSystemIdentifier(page.SystemIdentifier, content.Length, sourcePath);
    }

    private void RecordSystemIdentifier(ulong systemIdentifier, int segmentSize, string sourcePath)
    {
        using var guard = ConfigLock();
        var (_, current, currentSize) = ReadConfig(System.IO.Path.Combine(Path, ConfigFileName));
        if (current is { } other && other != systemIdentifier)
            throw new ArchiveException($"file \"{sourcePath}\" belongs to another cluster: system identifier {systemIdentifier}, this repository's is {other}");
        if (currentSize is { } size && size != segmentSize)
            throw new ArchiveException($"file \"{sourcePath}\" is a {segmentSize}-byte segment, this repository's segments are {size} bytes");
        SystemIdentifier = systemIdentifier;
        SegmentSize = segmentSize;
        if (current is null)
            WriteConfig();
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

    private static void WriteDurably(string path, ArchiveFileHeader header, ReadOnlySpan<byte> stored)
    {
        using var handle = File.OpenHandle(path, FileMode.CreateNew, FileAccess.Write);
        Span<byte> head = stackalloc byte[ArchiveFileHeader.Size];
        header.Write(head);
        RandomAccess.Write(handle, head, 0);
        RandomAccess.Write(handle, stored, ArchiveFileHeader.Size);
        FileSystemWalStorage.SyncHandle(handle, dataOnly: false, path);
    }
}
