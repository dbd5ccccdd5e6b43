// DataDirectoryLock: one writer or any number of readers per data directory, across threads and
// processes. The interlock is an flock on the data directory itself — exclusive for a writer (an
// open WalInstance, a reset), shared for read-only openers — so it creates nothing, needs no
// write permission, and cannot be raced by unlinking (directories are not unlinked under their
// users). The kernel drops it when the process dies, so a kill -9 leaves nothing stale.
// A writer also keeps postmaster.pid (exclusively flocked, holding its pid) for PostgreSQL's tools:
// pg_resetwal refuses a directory that has one. It is removed when the writer closes, before the
// directory lock is released. PostgreSQL's postmaster does not flock anything: a postmaster.pid
// naming a live process other than us is refused as PostgreSQL's CreateLockFile refuses it, so
// pgwal never runs on (or deletes the lock file of) a live PostgreSQL server's data directory.
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using PgWal.Storage.Native;

namespace PgWal.Storage;

internal sealed class DataDirectoryLock : IDisposable
{
    // A lock conflict: .NET reports flock's EWOULDBLOCK (errno 11 on Linux) as the HResult, Windows its sharing violation.
    private const int WouldBlock = 11, SharingViolation = unchecked((int)0x80070020);
    private const int LockGraceMilliseconds = 250;
    private readonly SafeFileHandle? _directory;   // flocked; null where flock is unavailable
    private readonly SafeFileHandle? _pidFile;     // the writer's postmaster.pid
    private readonly string _pidPath;
    private int _disposed;

    private DataDirectoryLock(SafeFileHandle? directory, SafeFileHandle? pidFile, string pidPath)
    {
        _directory = directory;
        _pidFile = pidFile;
        _pidPath = pidPath;
    }

    /// <summary>Takes the directory for writing and writes postmaster.pid.</summary>
    /// <exception cref="IOException">Another process or instance has it open (reading or writing), or a live PostgreSQL does.</exception>
    public static DataDirectoryLock Exclusive(string directory)
    {
        string pidPath = Path.Combine(directory, "postmaster.pid");
        var dir = LockDirectory(directory, exclusive: true);
        try
        {
            RefuseLivePostmaster(pidPath, directory);
            SafeFileHandle pid;
            long giveUp = Environment.TickCount64 + LockGraceMilliseconds;
            while (true)
            {
                try
                {
                    pid = File.OpenHandle(pidPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
                    break;
                }
                catch (IOException e) when (e.HResult is WouldBlock or SharingViolation)
                {
                    if (Environment.TickCount64 >= giveUp)   // (a forked child's inherited descriptor: see LockDirectory)
                        throw InUse(directory, e);
                    Thread.Sleep(5);
                }
            }
            try
            {
                byte[] content = System.Text.Encoding.ASCII.GetBytes($"{Environment.ProcessId}\n{Path.GetFullPath(directory)}\n");
                RandomAccess.SetLength(pid, 0);
                RandomAccess.Write(pid, content, 0);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                pid.Dispose();
                throw new IOException($"could not write lock file \"{pidPath}\": {OsErrors.Describe(e, pidPath)}", e);
            }
            return new DataDirectoryLock(dir, pid, pidPath);
        }
        catch
        {
            dir?.Dispose();
            throw;
        }
    }

    /// <summary>Takes the directory for reading: excludes a writer, not other readers; creates and writes nothing.</summary>
    /// <exception cref="IOException">A writer has it open, or a live PostgreSQL does.</exception>
    public static DataDirectoryLock Shared(string directory)
    {
        string pidPath = Path.Combine(directory, "postmaster.pid");
        var dir = LockDirectory(directory, exclusive: false);
        try
        {
            RefuseLivePostmaster(pidPath, directory);
            return new DataDirectoryLock(dir, null, pidPath);
        }
        catch
        {
            dir?.Dispose();
            throw;
        }
    }

    private static SafeFileHandle? LockDirectory(string directory, bool exclusive)
    {
        if (!OperatingSystem.IsLinux())
            return null;
        int fd = LibC.open(directory, LibC.O_RDONLY | LibC.O_DIRECTORY | LibC.O_CLOEXEC);
        if (fd < 0)
            throw new IOException($"could not open data directory \"{directory}\": {Marshal.GetLastPInvokeErrorMessage()}");
        var handle = new SafeFileHandle(fd, ownsHandle: true);
        // A conflict is retried briefly: a child process forked by another thread of this process
        // shares every descriptor (and so a lock just released here) until it execs, which closes
        // them (O_CLOEXEC). A real holder keeps its lock, and is reported after the grace period.
        long giveUp = Environment.TickCount64 + LockGraceMilliseconds;
        while (LibC.flock(fd, (exclusive ? LibC.LOCK_EX : LibC.LOCK_SH) | LibC.LOCK_NB) != 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            if (errno == WouldBlock && Environment.TickCount64 < giveUp)
            {
                Thread.Sleep(5);
                continue;
            }
            handle.Dispose();
            if (errno == WouldBlock)
                throw InUse(directory, null);
            throw new IOException($"could not lock data directory \"{directory}\": {Marshal.GetPInvokeErrorMessage(errno)}");
        }
        return handle;
    }

    // A postmaster.pid naming a live process other than this one (PostgreSQL's postmaster, which
    // does not flock): refused. A dead process's pid (a crashed writer of ours) is taken over.
    private static void RefuseLivePostmaster(string pidPath, string directory)
    {
        Span<byte> head = stackalloc byte[32];
        int n;
        try
        {
            using var file = File.OpenHandle(pidPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            n = RandomAccess.Read(file, head, 0);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"could not read lock file \"{pidPath}\": {OsErrors.Describe(e, pidPath)}", e);
        }
        int end = head[..n].IndexOfAny((byte)'\n', (byte)' ');
        if (!int.TryParse(head[..(end < 0 ? n : end)], out int pid) || pid <= 0 || pid == Environment.ProcessId)
            return;
        if (!OperatingSystem.IsLinux() || !IsAlive(pid))
            return;
        throw new IOException($"lock file \"{pidPath}\" already exists: is another postmaster (PID {pid}) running in data directory \"{directory}\"?");
    }

    // kill(pid, 0) also finds a killed child its parent has not reaped yet: a zombie counts as dead.
    private static bool IsAlive(int pid)
    {
        if (LibC.kill(pid, 0) != 0 && Marshal.GetLastPInvokeError() != LibC.EPERM)
            return false;
        try
        {
            string stat = File.ReadAllText($"/proc/{pid}/stat");
            int close = stat.LastIndexOf(')');
            return !(close > 0 && close + 2 < stat.Length && stat[close + 2] is 'Z' or 'X');
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return true;
        }
    }

    private static IOException InUse(string directory, Exception? inner)
        => new($"data directory \"{directory}\" is in use by another process or instance", inner);

    /// <summary>Releases the lock; a writer removes postmaster.pid first, while it still holds the directory.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        try
        {
            if (_pidFile != null)
                File.Delete(_pidPath);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // the file stays: the next writer takes it over
        }
        finally
        {
            _pidFile?.Dispose();
            _directory?.Dispose();
        }
    }
}
