// DataDirectoryLock: the postmaster.pid interlock. A writer (an open WalInstance, pg_resetwal's
// equivalent) holds an exclusive flock on postmaster.pid; read-only openers hold a shared one.
// The kernel drops the lock when the process dies, so a kill -9 leaves nothing stale.
// Invariant: only a holder of the exclusive lock unlinks the file (when it closes, as the
// postmaster does at exit), and it unlinks before it unlocks. An opener that opened the file just
// before that unlink can still lock the now nameless inode after the holder closes, while a third
// opener creates and locks a new file under the name — two "holders". So after locking, every
// opener checks that the inode it locked is still the one at the path (fstat vs stat) and starts
// over when it is not. PostgreSQL's postmaster does not flock the file: a lock we get on a file
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
    private const int Attempts = 1000;
    private readonly SafeFileHandle _handle;
    private readonly string _path;
    private readonly bool _exclusive;
    private int _disposed;

    private DataDirectoryLock(SafeFileHandle handle, string path, bool exclusive)
    {
        _handle = handle;
        _path = path;
        _exclusive = exclusive;
    }

    /// <summary>Takes postmaster.pid exclusively (creating it) and writes our pid into it.</summary>
    /// <exception cref="IOException">Another process or instance holds it.</exception>
    public static DataDirectoryLock Exclusive(string directory)
    {
        string path = Path.Combine(directory, "postmaster.pid");
        var handle = Acquire(path, directory, exclusive: true)
            ?? throw new IOException($"could not create lock file \"{path}\"");
        try
        {
            byte[] content = System.Text.Encoding.ASCII.GetBytes($"{Environment.ProcessId}\n{Path.GetFullPath(directory)}\n");
            RandomAccess.SetLength(handle, 0);
            RandomAccess.Write(handle, content, 0);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
        return new DataDirectoryLock(handle, path, exclusive: true);
    }

    /// <summary>
    /// Takes postmaster.pid shared, for a reader that writes nothing: it excludes writers, not other
    /// readers. The file is created (empty) when the directory allows; null when it neither exists
    /// nor can be created (a read-only directory: no writer of ours can run there either).
    /// </summary>
    public static DataDirectoryLock? Shared(string directory)
    {
        string path = Path.Combine(directory, "postmaster.pid");
        var handle = Acquire(path, directory, exclusive: false);
        return handle == null ? null : new DataDirectoryLock(handle, path, exclusive: false);
    }

    private static SafeFileHandle? Acquire(string path, string directory, bool exclusive)
    {
        for (int attempt = 0; attempt < Attempts; attempt++)
        {
            SafeFileHandle handle;
            try
            {
                handle = exclusive
                    ? File.OpenHandle(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None)
                    : OpenShared(path);
            }
            catch (IOException e) when (e.HResult is WouldBlock or SharingViolation)
            {
                throw InUse(directory, path, e);
            }
            catch (Exception e) when (!exclusive && e is UnauthorizedAccessException or IOException)
            {
                // A read-only directory without the file: nothing to lock, and nothing of ours can write here.
                if (File.Exists(path))
                    throw new IOException($"could not open lock file \"{path}\": {OsErrors.Describe(e, path)}", e);
                return null;
            }
            catch (FileNotFoundException)
            {
                continue;   // removed between the existence check and the open (shared, open-only)
            }
            if (SameFile(handle, path))
            {
                RefuseLivePostmaster(handle, path, directory);
                return handle;
            }
            handle.Dispose();   // we locked a file its holder has just unlinked: start over
        }
        throw new IOException($"could not lock \"{path}\": the file keeps being replaced");
    }

    // Shared: create the file when we may, else open what is there read-only.
    private static SafeFileHandle OpenShared(string path)
    {
        try
        {
            return File.OpenHandle(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
        }
        catch (UnauthorizedAccessException) when (File.Exists(path))
        {
            return File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        }
    }

    // The file is ours now, but a PostgreSQL postmaster does not flock it: refuse when it names a
    // live process other than this one (a stale pid of a dead process is taken over, as PostgreSQL does).
    private static void RefuseLivePostmaster(SafeFileHandle handle, string path, string directory)
    {
        Span<byte> head = stackalloc byte[32];
        int n = RandomAccess.Read(handle, head, 0);
        int end = head[..n].IndexOfAny((byte)'\n', (byte)' ');
        if (!int.TryParse(head[..(end < 0 ? n : end)], out int pid) || pid <= 0 || pid == Environment.ProcessId)
            return;
        if (!OperatingSystem.IsLinux() || !IsAlive(pid))
            return;
        handle.Dispose();
        throw new IOException($"lock file \"{path}\" already exists: is another postmaster (PID {pid}) running in data directory \"{directory}\"?");
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

    private static IOException InUse(string directory, string path, Exception inner)
        => new($"data directory \"{directory}\" is in use by another process or instance (lock file \"{path}\")", inner);

    private static unsafe bool SameFile(SafeFileHandle handle, string path)
    {
        if (!OperatingSystem.IsLinux())
            return true;
        // struct stat begins with st_dev and st_ino (8 bytes each) on every 64-bit Linux ABI.
        byte* opened = stackalloc byte[256];
        byte* named = stackalloc byte[256];
        bool added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            if (LibC.fstat((int)handle.DangerousGetHandle(), opened) != 0)
                throw new IOException($"could not stat lock file \"{path}\": {Marshal.GetLastPInvokeErrorMessage()}");
        }
        finally
        {
            if (added)
                handle.DangerousRelease();
        }
        if (LibC.stat(path, named) != 0)
            return false;   // unlinked and not (yet) recreated
        return *(ulong*)opened == *(ulong*)named && *(ulong*)(opened + 8) == *(ulong*)(named + 8);
    }

    /// <summary>
    /// Releases the lock. A writer removes the file first (still holding it, so no one else uses
    /// it); a reader removes it only if it can take it exclusively, i.e. no other reader holds it.
    /// </summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        try
        {
            if (_exclusive || TryUpgrade())
                File.Delete(_path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // the file stays, unlocked: the next opener takes it over
        }
        finally
        {
            _handle.Dispose();
        }
    }

    private bool TryUpgrade()
    {
        if (!OperatingSystem.IsLinux())
            return false;
        bool added = false;
        try
        {
            _handle.DangerousAddRef(ref added);
            return LibC.flock((int)_handle.DangerousGetHandle(), LibC.LOCK_EX | LibC.LOCK_NB) == 0 && SameFile(_handle, _path);
        }
        finally
        {
            if (added)
                _handle.DangerousRelease();
        }
    }
}
