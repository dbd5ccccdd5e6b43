// Posix: the few Linux calls the CLI needs that .NET does not expose: access(2) for an exact errno
// when checking a path (ELOOP, ENOTDIR, EACCES), prctl(PR_SET_PDEATHSIG) and getppid(2) so that a
// worker process dies with its parent, and kill(2) for a worker to end itself at once.
using System.Runtime.InteropServices;

namespace PgWal.Cli.Common;

internal static partial class Posix
{
    private const string Library = "libc";

    public const int ENOENT = 2;
    public const int SIGKILL = 9;
    private const int F_OK = 0;
    private const int PR_SET_PDEATHSIG = 1;

    [LibraryImport(Library, EntryPoint = "access", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Access(string path, int mode);

    [LibraryImport(Library, EntryPoint = "prctl", SetLastError = true)]
    private static partial int Prctl(int option, nint arg2, nint arg3, nint arg4, nint arg5);

    [LibraryImport(Library, EntryPoint = "getppid")]
    public static partial int GetParentProcessId();

    [LibraryImport(Library, EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);

    /// <summary>0 when <paramref name="path"/> exists (symbolic links followed), else the errno.</summary>
    public static int PathError(string path) => Access(path, F_OK) == 0 ? 0 : Marshal.GetLastPInvokeError();

    /// <summary>The system's text for <paramref name="errno"/>, as %m prints it.</summary>
    public static string Describe(int errno) => Marshal.GetPInvokeErrorMessage(errno);

    /// <summary>Asks the kernel to SIGKILL this process when the thread that started it exits (Linux only; false elsewhere).</summary>
    public static bool KillWhenParentDies()
        => OperatingSystem.IsLinux() && Prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) == 0;

    /// <summary>Ends this process at once with SIGKILL, as if its parent had killed it.</summary>
    public static void KillSelf()
    {
        Kill(Environment.ProcessId, SIGKILL);
        Environment.Exit(ExitCodes.Runtime);   // not reached
    }
}
