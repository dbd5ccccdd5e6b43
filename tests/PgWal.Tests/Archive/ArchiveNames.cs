// ArchiveNames: an archive file name the test knows to be valid, parsed (failing the test if not).
using PgWal.Archive;

namespace PgWal.Tests.Archive;

internal static class ArchiveNames
{
    public static ArchivedFileName Of(string name)
    {
        Assert.Null(ArchivedFileName.TryParse(name, out var parsed));
        return parsed;
    }
}
