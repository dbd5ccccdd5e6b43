// LibC: the few POSIX calls .NET does not expose: fdatasync/fsync on a file descriptor, fsync of a
// directory (to make a rename durable), flock and kill for the data directory interlock, and localtime_r/strftime for PostgreSQL-identical time
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

    /// <summary>O_DIRECTORY, swapped with O_DIRECT on ARM.</summary>
    public static int O_DIRECTORY => RuntimeInformation.ProcessArchitecture is Architecture.Arm64 or Architecture.Arm ? 0x4000 : 0x10000;

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

    public const int LOCK_SH = 1;
    public const int LOCK_EX = 2;
    public const int LOCK_NB = 4;

    [LibraryImport(Library, SetLastError = true)]
    public static partial int flock(int fd, int operation);


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
