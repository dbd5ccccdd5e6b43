// PasswordFileLookup: libpq's password file (~/.pgpass, PGPASSFILE, passfile=): lines of
// hostname:port:database:username:password, '#' starts a comment line, '*' in the first four
// fields matches anything, a backslash escapes ':' or '\'. The first matching line wins. As libpq,
// a file that group or others may read is ignored on Unix (a password there is not private).
namespace PgWal.Replication.Client;

/// <summary>Looks up passwords in a libpq password file.</summary>
public static class PasswordFileLookup
{
    /// <summary>The password for the connection, or null when the file is missing, too open, or has no match.</summary>
    public static string? Find(string file, string host, string port, string database, string user)
    {
        if (!File.Exists(file))
            return null;
        if (!OperatingSystem.IsWindows() && (File.GetUnixFileMode(file) & (UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute
                | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute)) != 0)
            return null;
        foreach (var line in File.ReadLines(file))
        {
            if (line.Length == 0 || line[0] == '#')
                continue;
            var fields = Split(line);
            if (fields.Count < 5)
                continue;
            if (Matches(fields[0], host) && Matches(fields[1], port) && Matches(fields[2], database) && Matches(fields[3], user))
                return fields[4];
        }
        return null;
    }

    private static bool Matches(string pattern, string value) => pattern == "*" || pattern == value;

    // Fields split at unescaped ':'; the fifth field (the password) takes the rest of the line.
    private static List<string> Split(string line)
    {
        var fields = new List<string>(5);
        var field = new System.Text.StringBuilder();
        for (int i = 0; i < line.Length; i++)
        {
            char c = line[i];
            if (c == '\\' && i + 1 < line.Length)
            {
                field.Append(line[++i]);
                continue;
            }
            if (c == ':' && fields.Count < 4)
            {
                fields.Add(field.ToString());
                field.Clear();
                continue;
            }
            field.Append(c);
        }
        fields.Add(field.ToString());
        return fields;
    }
}
