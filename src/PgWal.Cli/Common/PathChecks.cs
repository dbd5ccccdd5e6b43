// PathChecks: a data directory path is checked before a library opens or creates it, so that the
// error names the path with the system's exact reason ("Not a directory", "Too many levels of
// symbolic links", "Permission denied") rather than what .NET makes of it ("The file ... already
// exists", or "not found" for a symbolic-link loop). A missing directory is fine: commands that
// create one create it, the others report the missing control file.
namespace PgWal.Cli.Common;

internal static class PathChecks
{
    /// <summary>Throws (exit 3) when <paramref name="path"/> exists but is not a directory, or cannot be looked up.</summary>
    public static void DataDirectory(string path)
    {
        int errno = Posix.PathError(path);
        if (errno == 0 && !Directory.Exists(path))
            throw new IOException($"could not use data directory \"{path}\": Not a directory");
        if (errno != 0 && errno != Posix.ENOENT)
            throw new IOException($"could not access data directory \"{path}\": {Posix.Describe(errno)}");
        if (errno == Posix.ENOENT && LinkTarget(path) is { } target)
            throw new IOException($"could not create data directory \"{path}\": it is a symbolic link to \"{target}\", which does not exist");
    }

    /// <summary>Throws (exit 3) unless <paramref name="path"/> can be opened as a file; <paramref name="what"/> names it.</summary>
    public static void ExistingFile(string path, string what)
    {
        int errno = Posix.PathError(path);
        if (errno != 0)
            throw new IOException($"could not open {what} \"{path}\": {Posix.Describe(errno)}");
        if (Directory.Exists(path))
            throw new IOException($"could not read {what} \"{path}\": Is a directory");
    }

    /// <summary>Throws (exit 3) when <paramref name="path"/> cannot be a file to create or append to; <paramref name="what"/> names it.</summary>
    public static void FileToWrite(string path, string what)
    {
        int errno = Posix.PathError(path);
        if (errno == 0 && Directory.Exists(path))
            throw new IOException($"could not open {what} \"{path}\": Is a directory");
        if (errno != 0 && errno != Posix.ENOENT)
            throw new IOException($"could not open {what} \"{path}\": {Posix.Describe(errno)}");
        string? parent = Path.GetDirectoryName(Path.GetFullPath(path));
        if (errno == Posix.ENOENT && parent != null && Posix.PathError(parent) is var e && e != 0)
            throw new IOException($"could not create {what} \"{path}\": {Posix.Describe(e)}");
    }

    private static string? LinkTarget(string path)
    {
        try
        {
            return new FileInfo(path).LinkTarget;
        }
        catch (IOException)
        {
            return null;
        }
    }
}
