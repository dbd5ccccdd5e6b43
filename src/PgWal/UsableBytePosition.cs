// UsableBytePosition: the page-header-free coordinate in which WAL space is reserved
// (xlog.c's "usable byte position"); Format/WalGeometry converts it to and from Lsn.
namespace PgWal;

/// <summary>
/// A position counted in usable WAL bytes, i.e. skipping every page header. Space for records is
/// reserved in this coordinate and converted to an <see cref="Lsn"/> afterwards
/// (<see cref="Format.WalGeometry.ToRecordStart"/>, <see cref="Format.WalGeometry.ToRecordEnd"/>).
/// </summary>
/// <param name="Value">Number of usable bytes before this position.</param>
public readonly record struct UsableBytePosition(ulong Value) : IComparable<UsableBytePosition>
{
    /// <inheritdoc/>
    public int CompareTo(UsableBytePosition other) => Value.CompareTo(other.Value);

    /// <summary>The position <paramref name="bytes"/> usable bytes later.</summary>
    public static UsableBytePosition operator +(UsableBytePosition p, ulong bytes) => new(checked(p.Value + bytes));

    /// <inheritdoc/>
    public override string ToString() => Value.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
