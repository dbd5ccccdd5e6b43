// IdentifyOnlyDescriber: a builtin resource manager whose descriptions PgWal does not render:
// record types are named (so statistics per record type match pg_waldump), descriptions are empty.
using PgWal.Diagnostics.Text;
using PgWal.Read;

namespace PgWal.Rmgr.Describe;

internal sealed class IdentifyOnlyDescriber(string name, Func<byte, string?> identify) : IRecordDescriber
{
    public string Name { get; } = name;

    public string? Identify(byte info) => identify(info);

    public void Describe(DecodedRecord record, TextBuffer output)
    {
    }
}

internal static class IdentifyTables
{
    public static Func<byte, string?> For(byte rmgrId) => static _ => null;
}
