// BackupFileSet: what a base backup takes from a data directory, in the order it takes it, for
// both the plain copy (BaseBackupWriter) and the tar stream of BASE_BACKUP: every directory and
// file, sorted by name, except what PostgreSQL leaves out (postmaster.pid, its own backup files,
// temporary files) and the contents of pg_wal, pg_replslot, pg_stat_tmp and the other runtime
// directories, which are sent empty (pg_wal with its archive_status). global/pg_control is not in
// the list: callers send it last.
namespace PgWal.Backup;

internal readonly record struct BackupEntry(string Path, bool IsDirectory);

internal static class BackupFileSet
{
    private static readonly HashSet<string> ExcludedFiles = new(StringComparer.Ordinal)
    {
        "postmaster.pid", "postmaster.opts", "backup_label", "backup_label.old", "tablespace_map", "backup_manifest",
        "postgresql.auto.conf.tmp", "current_logfiles.tmp", "recovery.signal", "standby.signal", BackupLabel.IncompleteMarker,
    };
    private static readonly HashSet<string> EmptiedDirectories = new(StringComparer.Ordinal)
    {
        "pg_wal", "pg_stat_tmp", "pg_replslot", "pg_dynshmem", "pg_notify", "pg_serial", "pg_snapshots", "pg_subtrans",
    };

    public const string ControlFile = "global/pg_control";

    /// <summary>The entries below <paramref name="source"/>, relative with '/' separators, parents before children.</summary>
    public static List<BackupEntry> Walk(string source)
    {
        var entries = new List<BackupEntry>();
        Walk(source, "", entries);
        return entries;
    }

    private static void Walk(string source, string relative, List<BackupEntry> result)
    {
        string directory = relative.Length == 0 ? source : Path.Combine(source, relative);
        List<string> entries;
        try
        {
            entries = Directory.EnumerateFileSystemEntries(directory).Order(StringComparer.Ordinal).ToList();
        }
        catch (DirectoryNotFoundException)
        {
            return;   // removed while the backup runs
        }
        foreach (var path in entries)
        {
            string name = Path.GetFileName(path);
            string child = relative.Length == 0 ? name : relative + "/" + name;
            if (Directory.Exists(path))
            {
                result.Add(new BackupEntry(child, true));
                if (EmptiedDirectories.Contains(child))
                {
                    if (child == "pg_wal")
                        result.Add(new BackupEntry("pg_wal/archive_status", true));
                    continue;
                }
                Walk(source, child, result);
            }
            else if (!(relative.Length == 0 && ExcludedFiles.Contains(name)) && child != ControlFile
                     && !name.StartsWith("pg_internal.init", StringComparison.Ordinal) && !name.StartsWith("pgsql_tmp", StringComparison.Ordinal))
            {
                result.Add(new BackupEntry(child, false));
            }
        }
    }
}
