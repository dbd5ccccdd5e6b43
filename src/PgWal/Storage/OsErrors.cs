// OsErrors: strerror-style text for .NET file exceptions, so messages read like PostgreSQL's "%m"
// ("No such file or directory", "Permission denied", "Is a directory") instead of .NET's prose.
namespace PgWal.Storage;

internal static class OsErrors
{
    public static string Describe(Exception e, string path) => e switch
    {
        FileNotFoundException or DirectoryNotFoundException => "No such file or directory",
        UnauthorizedAccessException when Directory.Exists(path) => "Is a directory",
        UnauthorizedAccessException => "Permission denied",
        IOException io when io.Message.Contains("No space left", StringComparison.Ordinal) => "No space left on device",
        _ => e.Message,
    };
}
