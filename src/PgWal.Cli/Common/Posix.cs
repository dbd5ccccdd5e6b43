// Posix: the Linux call the CLI needs that .NET does not expose: access(2) for an exact errno when
// checking a path (ELOOP, ENOTDIR, EACCES), which .NET's exceptions blur.
using System.Runtime.InteropServices;

namespace PgWal.Cli.Common;

internal static partial class Posix
{
    private const string Library = "libc";

    public const int ENOENT = 2;
    private const int F_OK = 0;

    [LibraryImport(Library, EntryPoint = "access", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Access(string path, int mode);

    /// <summary>0 when <paramref name="path"/> exists (symbolic links followed), else the errno.</summary>
    public static int PathError(string path) => Access(path, F_OK) == 0 ? 0 : Marshal.GetLastPInvokeError();

    /// <summary>The system's text for <paramref name="errno"/>, as %m prints it.</summary>
    public static string Describe(int errno) => Marshal.GetPInvokeErrorMessage(errno);
}
