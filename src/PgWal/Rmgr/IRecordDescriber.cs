// IRecordDescriber: how a resource manager names and describes its records for waldump
// (PostgreSQL's rm_name / rm_identify / rm_desc). Descriptions are written into a TextBuffer so
// that dumping allocates nothing per record.
using PgWal.Diagnostics.Text;
using PgWal.Read;

namespace PgWal.Rmgr;

/// <summary>Names and describes the records of one resource manager, as pg_waldump prints them.</summary>
public interface IRecordDescriber
{
    /// <summary>The resource manager's name (<c>rm_name</c>).</summary>
    string Name { get; }

    /// <summary>
    /// The record type's name for <paramref name="info"/> (the full <c>xl_info</c>; mask as the
    /// resource manager does), or null when unknown (<c>rm_identify</c>).
    /// </summary>
    string? Identify(byte info);

    /// <summary>
    /// <see cref="Identify(byte)"/> as PostgreSQL <paramref name="version"/> names the record type
    /// (a resource manager whose names changed between versions overrides this).
    /// </summary>
    string? Identify(byte info, Format.WalVersion version) => Identify(info);

    /// <summary>Appends the record's description (<c>rm_desc</c>); may append nothing.</summary>
    void Describe(DecodedRecord record, TextBuffer output);
}
