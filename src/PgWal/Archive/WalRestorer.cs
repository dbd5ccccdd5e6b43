// IWalRestorer: where archive recovery gets WAL files (PostgreSQL's restore_command). Two kinds:
// ShellRestoreCommand runs restore_command as PostgreSQL does (%f the file wanted, %p the path to
// write it to relative to the data directory, %r the oldest file still needed, %% a percent sign;
// exit 0 = restored, 1..125 = not archived, anything else or a signal = stop recovery with an
// error, as PostgreSQL's FATAL), and RepositoryRestorer reads the built-in repository in-process
// (checksums verified; a damaged file stops recovery, never passes for a missing one).
using System.Diagnostics;

namespace PgWal.Archive;

/// <summary>Fetches archived WAL files for archive recovery.</summary>
public interface IWalRestorer
{
    /// <summary>
    /// Writes the archived file <paramref name="fileName"/> to <paramref name="destination"/>;
    /// false when the archive does not have it.
    /// </summary>
    /// <param name="fileName">A segment or history file name.</param>
    /// <param name="destination">Absolute path to write (a temporary name in pg_wal).</param>
    /// <param name="oldestKept">PostgreSQL's %r: the oldest segment recovery still needs.</param>
    /// <exception cref="ArchiveException">The archive has the file but it cannot be restored (damaged, or the command failed hard): recovery must stop.</exception>
    bool TryRestore(string fileName, string destination, string oldestKept);

    /// <summary>
    /// Whether recovery may restore the next files ahead, on another thread, while it replays (true
    /// for the in-process repository; a user's restore_command may not expect to run concurrently).
    /// </summary>
    bool CanRestoreAhead => false;
}

/// <summary>Restores from a <see cref="WalRepository"/> in-process.</summary>
public sealed class RepositoryRestorer(WalRepository repository) : IWalRestorer
{
    /// <summary>The repository.</summary>
    public WalRepository Repository { get; } = repository;

    /// <inheritdoc/>
    public bool TryRestore(string fileName, string destination, string oldestKept)
    {
        if (ArchivedFileName.TryParse(fileName, out var name) is { } why)
            throw new ArchiveException(why);
        return Repository.TryRestore(name, destination);
    }

    /// <inheritdoc/>
    public bool CanRestoreAhead => true;
}

/// <summary>Runs <c>restore_command</c> through /bin/sh in the data directory.</summary>
public sealed class ShellRestoreCommand(string command, string dataDirectory) : IWalRestorer
{
    /// <summary>The command with its placeholders.</summary>
    public string Command { get; } = command;

    /// <summary>The command as run (PostgreSQL's substitutions: %f, %p, %r, %%).</summary>
    public static string Expand(string command, string fileName, string relativePath, string oldestKept)
        => PercentCommand.Expand(command, c => c switch { 'f' => fileName, 'p' => relativePath, 'r' => oldestKept, _ => null });

    /// <inheritdoc/>
    public bool TryRestore(string fileName, string destination, string oldestKept)
    {
        string relative = Path.GetRelativePath(dataDirectory, destination);
        string expanded = Expand(Command, fileName, relative, oldestKept);
        var start = new ProcessStartInfo("/bin/sh") { WorkingDirectory = dataDirectory, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(expanded);
        using var process = Process.Start(start) ?? throw new ArchiveException($"could not start /bin/sh to run restore_command \"{expanded}\"");
        process.StandardInput.Close();
        string errors = process.StandardError.ReadToEnd();
        process.WaitForExit();
        int code = process.ExitCode;
        if (code == 0)
        {
            if (!File.Exists(destination))
                throw new ArchiveException($"restore_command returned a zero exit status for \"{fileName}\", but \"{destination}\" does not exist (command: {expanded})");
            return true;
        }
        if (code > 125)
        {
            string tail = errors.Trim() is { Length: > 0 } t ? $"; it wrote: {(t.Length > 500 ? t[^500..] : t)}" : "";
            throw new ArchiveException($"could not restore file \"{fileName}\" from archive: restore_command exited with code {code}{(code > 128 ? $" (terminated by signal {code - 128})" : "")}: {expanded}{tail}");
        }
        return false;   // 1..125: not in the archive (normal at its end)
    }
}
