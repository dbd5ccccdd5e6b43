// RepositoryWalSink: puts each segment and history file a WalReceiver completes into a PgWal
// archive repository, exactly as `pgwal archive push --repo R <file>` would (WalRepository.Push:
// checked, durable, idempotent), so the archive trails the server by the segment being streamed,
// not by archive_command's schedule. CatchUp pushes what an earlier run completed but did not get
// to push (it was killed between the rename and the push).
using PgWal.Archive;
using PgWal.Format;

namespace PgWal.Replication.Client;

/// <summary>Archives completed files into a <see cref="WalRepository"/>.</summary>
public sealed class RepositoryWalSink(WalRepository repository, Action<string>? verbose = null) : IWalReceiveSink
{
    /// <summary>The repository.</summary>
    public WalRepository Repository { get; } = repository;

    /// <inheritdoc/>
    public void FileCompleted(string path, string name)
    {
        if (ArchivedFileName.TryParse(name, out var archived) is { } problem)
            throw new ArchiveException($"cannot archive \"{name}\": {problem}");
        if (Repository.Push(path, archived) == PushOutcome.Stored)
            verbose?.Invoke($"archived \"{name}\" into \"{Repository.Path}\"");
    }

    /// <summary>Pushes every completed segment and history file in <paramref name="directory"/> the repository lacks.</summary>
    public void CatchUp(string directory)
    {
        if (!Directory.Exists(directory))
            return;
        foreach (var path in Directory.EnumerateFiles(directory).Order(StringComparer.Ordinal))
        {
            string name = Path.GetFileName(path);
            bool wanted = SegmentFileName.IsSegmentFileName(name) || (name.Length == 16 && name.EndsWith(".history", StringComparison.Ordinal));
            if (!wanted || ArchivedFileName.TryParse(name, out var archived) is not null || Repository.Contains(archived))
                continue;
            FileCompleted(path, name);
        }
    }
}
