// DirectoryCopy: copies a directory tree as it is (what `cp -a` of a backup does), for restoring a
// base backup to a fresh place: the demo, and the tests that restore backups.
namespace PgWal.Cli.Common;

internal static class DirectoryCopy
{
    /// <summary>Copies every directory and file under <paramref name="from"/> to <paramref name="to"/>, except the relative paths <paramref name="skip"/> names.</summary>
    public static void Copy(string from, string to, Func<string, bool>? skip = null)
    {
        Directory.CreateDirectory(to);
        foreach (var d in Directory.GetDirectories(from, "*", SearchOption.AllDirectories))
            Directory.CreateDirectory(Path.Combine(to, Path.GetRelativePath(from, d)));
        foreach (var f in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
        {
            string relative = Path.GetRelativePath(from, f);
            if (skip == null || !skip(relative))
                File.Copy(f, Path.Combine(to, relative));
        }
    }
}
