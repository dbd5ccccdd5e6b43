// SegmentFiles: the WAL segment files of a directory (names of exactly 24 upper-case hex digits),
// in name order: what the archive tests push, compare and damage.
using PgWal.Format;

namespace PgWal.Tests.Infrastructure;

internal static class SegmentFiles
{
    public static string[] In(string directory) => Directory.GetFiles(directory)
        .Where(p => SegmentFileName.IsSegmentFileName(Path.GetFileName(p))).Order(StringComparer.Ordinal).ToArray();
}
