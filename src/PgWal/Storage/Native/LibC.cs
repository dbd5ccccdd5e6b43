// LibC: the few POSIX calls .NET does not expose: fdatasync/fsync on a file descriptor, fsync of a
// directory (to make a rename durable), flock and fstat/stat for the postmaster.pid interlock, and localtime_r/strftime for PostgreSQL-identical time
// zone abbreviations. Linux/macOS only; callers fall back where a call is unavailable.
using System.Runtime.InteropServices;

namespace PgWal.Storage.Native;

internal static partial class LibC
{
    private const string Library = "libc";

    public const int O_RDONLY = 0;
    public const int O_RDWR = 2;
    public const int O_DSYNC = 0x1000;
    public const int O_CLOEXEC = 0x80000;

    /// <summary>O_DIRECT differs between Linux architectures.</summary>
    public static int O_DIRECT => RuntimeInformation.ProcessArchitecture is Architecture.Arm64 or Architecture.Arm ? 0x10000 : 0x4000;

    [LibraryImport(Library, SetLastError = true)]
    public static partial int fdatasync(int fd);

    [LibraryImport(Library, SetLastError = true)]
    public static partial int fsync(int fd);

    [LibraryImport(Library, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int open(string path, int flags);

    [LibraryImport(Library, SetLastError = true)]
    public static partial int close(int fd);

    public const int EPERM = 1;

    [LibraryImport(Library, SetLastError = true)]
    public static partial int kill(int pid, int signal);

    public const int LOCK_EX = 2;
    public const int LOCK_NB = 4;

    [LibraryImport(Library, SetLastError = true)]
    public static partial int flock(int fd, int operation);

    /// <summary>glibc 2.33+ exports fstat/stat; <paramref name="buffer"/> needs room for struct stat (256 bytes is ample).</summary>
    [LibraryImport(Library, SetLastError = true)]
    public static unsafe partial int fstat(int fd, byte* buffer);

    [LibraryImport(Library, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static unsafe partial int stat(string path, byte* buffer);

    [StructLayout(LayoutKind.Sequential)]
    public struct Tm
    {
        public int Sec, Min, Hour, MDay, Mon, Year, WDay, YDay, IsDst;
        public long GmtOff;
        public IntPtr Zone;
    }

    [LibraryImport(Library)]
    public static partial IntPtr localtime_r(ref long time, ref Tm result);

    [LibraryImport(Library)]
    public static unsafe partial nuint strftime(byte* s, nuint max, byte* format, ref Tm tm);
}
