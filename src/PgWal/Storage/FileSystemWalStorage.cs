// FileSystemWalStorage: segment files on disk with positional I/O (RandomAccess on SafeFileHandle)
// and fdatasync. Creation follows PostgreSQL's XLogFileInit: write the whole file with zeros under a
// temporary name, fsync, rename into place, fsync the directory.
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using PgWal.Storage.Native;

namespace PgWal.Storage;

/// <summary>WAL segment files in a directory of the real file system.</summary>
public sealed class FileSystemWalStorage : IWalStorage
{
    private const int ZeroChunk = 1024 * 1024;
    private static long s_tempCounter;

    /// <summary>
    /// Uses <paramref name="directory"/>, creating it (durably) when missing. With
    /// <paramref name="zeroFill"/> off (PostgreSQL's <c>wal_init_zero = off</c>) a new segment is
    /// created sparse — only its last byte written — which halves the bytes written for new WAL but
    /// leaves block allocation to the first write of each block.
    /// </summary>
    public FileSystemWalStorage(string directory, bool zeroFill = true) : this(directory, zeroFill, createDirectory: true)
    {
    }

    // createDirectory false: a read-only user, which must never create pg_wal.
    internal FileSystemWalStorage(string directory, bool zeroFill, bool createDirectory)
    {
        Location = directory;
        ZeroFill = zeroFill;
        if (!createDirectory || Directory.Exists(directory))
            return;
        Directory.CreateDirectory(directory);
        // Make the new directory's entry durable in its parent, so segments created in it survive a crash.
        string? parent = Path.GetDirectoryName(Path.GetFullPath(directory));
        if (parent != null)
            SyncDirectory(parent);
    }

    /// <inheritdoc/>
    public string Location { get; }

    /// <summary>Whether new segments are written in full with zeros (<c>wal_init_zero</c>).</summary>
    public bool ZeroFill { get; }

    /// <inheritdoc/>
    public bool Exists(string fileName) => File.Exists(Path.Combine(Location, fileName));

    /// <inheritdoc/>
    public IWalSegmentFile Create(string fileName, int size)
    {
        string final = Path.Combine(Location, fileName);
        // Unique per creation: the background writer may create one segment while the write path creates another.
        string temp = Path.Combine(Location, $"xlogtemp.{Environment.ProcessId}.{Interlocked.Increment(ref s_tempCounter)}");
        var zeros = new byte[ZeroFill ? Math.Min(ZeroChunk, size) : 1];
        try
        {
            using (var handle = File.OpenHandle(temp, FileMode.Create, FileAccess.ReadWrite, FileShare.None))
            {
                if (ZeroFill)
                {
                    for (long offset = 0; offset < size; offset += zeros.Length)
                        RandomAccess.Write(handle, zeros.AsSpan(0, (int)Math.Min(zeros.Length, size - offset)), offset);
                }
                else
                {
                    RandomAccess.Write(handle, zeros.AsSpan(0, 1), size - 1);
                }
                SyncHandle(handle, dataOnly: false, temp);
            }
            File.Move(temp, final, overwrite: false);
        }
        catch
        {
            File.Delete(temp); // a half-built segment must never be mistaken for WAL
            throw;
        }
        SyncDirectory(Location);
        return Open(fileName);
    }

    /// <inheritdoc/>
    public IWalSegmentFile Open(string fileName, SegmentOpenOptions options = default)
    {
        string path = Path.Combine(Location, fileName);
        if (options.SyncMethod == WalSyncMethod.OpenDatasync || options.DirectIo)
            return new SegmentFile(fileName, OpenWithFlags(path, options), options.SyncMethod);
        return new SegmentFile(fileName, File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite, FileShare.Read | FileShare.Delete), options.SyncMethod);
    }

    /// <inheritdoc/>
    public IReadOnlyList<string> ListFiles()
        => Directory.EnumerateFiles(Location).Select(p => Path.GetFileName(p)).ToList();

    /// <inheritdoc/>
    public int Read(string fileName, long offset, Span<byte> destination)
    {
        using var handle = File.OpenHandle(Path.Combine(Location, fileName), FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        return ReadFully(handle, destination, offset);
    }

    /// <inheritdoc/>
    public void Rename(string from, string to)
    {
        File.Move(Path.Combine(Location, from), Path.Combine(Location, to), overwrite: false);
        SyncDirectory(Location);
    }

    /// <inheritdoc/>
    public void Delete(string fileName)
    {
        File.Delete(Path.Combine(Location, fileName));
        SyncDirectory(Location);
    }

    // .NET has no O_DSYNC or O_DIRECT; open(2) gives a descriptor that RandomAccess can use.
    private static SafeFileHandle OpenWithFlags(string path, SegmentOpenOptions options)
    {
        if (!OperatingSystem.IsLinux())
            throw new PlatformNotSupportedException("open_datasync and O_DIRECT are supported on Linux only");
        int flags = LibC.O_RDWR | LibC.O_CLOEXEC
                    | (options.SyncMethod == WalSyncMethod.OpenDatasync ? LibC.O_DSYNC : 0)
                    | (options.DirectIo ? LibC.O_DIRECT : 0);
        int fd = LibC.open(path, flags);
        if (fd < 0)
            throw new IOException($"could not open file \"{path}\": {Marshal.GetLastPInvokeErrorMessage()}");
        return new SafeFileHandle(fd, ownsHandle: true);
    }

    /// <inheritdoc/>
    public void SyncDirectory() => SyncDirectory(Location);

    /// <inheritdoc/>
    public void SetAside(string fileName, string folder, bool keepOriginal)
    {
        string source = Path.Combine(Location, fileName);
        string targetDirectory = Path.Combine(Location, folder);
        FileSystemDataDirectory.CreateDirectoryDurably(targetDirectory);
        string target = Path.Combine(targetDirectory, fileName);
        if (keepOriginal)
        {
            string temp = target + ".copying";
            using (var from = File.OpenHandle(source, FileMode.Open, FileAccess.Read, FileShare.ReadWrite))
            using (var to = File.OpenHandle(temp, FileMode.Create, FileAccess.ReadWrite, FileShare.None))
            {
                var buffer = new byte[ZeroChunk];
                long offset = 0;
                int n;
                while ((n = RandomAccess.Read(from, buffer, offset)) > 0)
                {
                    RandomAccess.Write(to, buffer.AsSpan(0, n), offset);
                    offset += n;
                }
                SyncHandle(to, dataOnly: false, temp);
            }
            File.Move(temp, target, overwrite: false);
            SyncDirectory(targetDirectory);
            return;
        }
        File.Move(source, target, overwrite: false);
        SyncDirectory(targetDirectory);
        SyncDirectory(Location);
    }

    /// <summary>fsyncs a directory so that creations and renames in it are durable.</summary>
    /// <exception cref="SyncFailedException">The fsync failed.</exception>
    public static void SyncDirectory(string directory)
    {
        if (OperatingSystem.IsWindows())
            return;
        int fd = LibC.open(directory, LibC.O_RDONLY);
        if (fd < 0)
            throw new IOException($"could not open directory \"{directory}\": {Marshal.GetLastPInvokeErrorMessage()}");
        try
        {
            if (LibC.fsync(fd) != 0)
                throw new SyncFailedException($"could not fsync directory \"{directory}\": {Marshal.GetLastPInvokeErrorMessage()}");
        }
        finally
        {
            LibC.close(fd);
        }
    }

    /// <summary>pread until <paramref name="destination"/> is full or the file ends; returns the bytes read.</summary>
    internal static int ReadFully(SafeFileHandle handle, Span<byte> destination, long offset)
    {
        int total = 0;
        while (total < destination.Length)
        {
            int n = RandomAccess.Read(handle, destination[total..], offset + total);
            if (n == 0)
                break;
            total += n;
        }
        return total;
    }

    internal static void SyncHandle(SafeFileHandle handle, bool dataOnly, string name)
    {
        if (OperatingSystem.IsWindows())
        {
            RandomAccess.FlushToDisk(handle);
            return;
        }
        bool added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            int fd = (int)handle.DangerousGetHandle();
            int rc = dataOnly ? LibC.fdatasync(fd) : LibC.fsync(fd);
            if (rc != 0)
                throw new SyncFailedException($"could not {(dataOnly ? "fdatasync" : "fsync")} file \"{name}\": {Marshal.GetLastPInvokeErrorMessage()}");
        }
        finally
        {
            if (added)
                handle.DangerousRelease();
        }
    }

    private sealed class SegmentFile(string name, SafeFileHandle handle, WalSyncMethod syncMethod) : IWalSegmentFile
    {
        public string Name { get; } = name;

        public void Write(long offset, ReadOnlySpan<byte> data) => RandomAccess.Write(handle, data, offset);

        public void Sync()
        {
            if (syncMethod != WalSyncMethod.OpenDatasync)
                SyncHandle(handle, dataOnly: syncMethod == WalSyncMethod.Fdatasync, Name);
        }

        public void Dispose() => handle.Dispose();
    }
}
