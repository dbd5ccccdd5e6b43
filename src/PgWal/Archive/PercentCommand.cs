// PercentCommand: the %-substitution of PostgreSQL's archive_command, restore_command and
// recovery_end_command: "%x" becomes what the caller gives for x ("%%" a percent sign); a "%x"
// the command does not define, and a "%" at the very end, are copied as they are.
using System.Text;

namespace PgWal.Archive;

internal static class PercentCommand
{
    /// <summary>Expands <paramref name="command"/>; <paramref name="value"/> returns the text for a letter, or null to copy "%x" literally.</summary>
    public static string Expand(string command, Func<char, string?> value)
    {
        var text = new StringBuilder(command.Length + 64);
        for (int i = 0; i < command.Length; i++)
        {
            if (command[i] == '%' && i + 1 < command.Length && (command[i + 1] == '%' ? "%" : value(command[i + 1])) is { } with)
            {
                text.Append(with);
                i++;
                continue;
            }
            text.Append(command[i]);
        }
        return text.ToString();
    }
}
