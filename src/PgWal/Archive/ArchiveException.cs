// ArchiveException: a repository operation that cannot be done, with a message naming the file and
// what is wrong with it. Damaged is set when an archived file exists but its bytes are not what was
// pushed (a recovery must stop on it, never take it for a missing file).
namespace PgWal.Archive;

/// <summary>A repository operation failed; the message names the file and the reason.</summary>
public sealed class ArchiveException : IOException
{
    /// <summary>Creates the exception.</summary>
    public ArchiveException(string message, bool damaged = false, Exception? inner = null) : base(message, inner)
        => Damaged = damaged;

    /// <summary>True when an archived file is damaged (checksum, header or codec failure).</summary>
    public bool Damaged { get; }
}
