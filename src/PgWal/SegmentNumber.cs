// SegmentNumber: PostgreSQL's XLogSegNo, the index of a WAL segment file (LSN / segment size).
namespace PgWal;

/// <summary>
/// The number of a WAL segment: <c>lsn / segmentSize</c> (PostgreSQL's <c>XLogSegNo</c>).
/// Its meaning depends on the segment size; <see cref="Format.WalGeometry"/> converts.
/// </summary>
/// <param name="Value">The segment index.</param>
public readonly record struct SegmentNumber(ulong Value) : IComparable<SegmentNumber>
{
    /// <inheritdoc/>
    public int CompareTo(SegmentNumber other) => Value.CompareTo(other.Value);

    /// <summary>The following segment.</summary>
    public SegmentNumber Next => new(checked(Value + 1));

    /// <summary>Compares segments.</summary>
    public static bool operator <(SegmentNumber a, SegmentNumber b) => a.Value < b.Value;
    /// <summary>Compares segments.</summary>
    public static bool operator >(SegmentNumber a, SegmentNumber b) => a.Value > b.Value;
    /// <summary>Compares segments.</summary>
    public static bool operator <=(SegmentNumber a, SegmentNumber b) => a.Value <= b.Value;
    /// <summary>Compares segments.</summary>
    public static bool operator >=(SegmentNumber a, SegmentNumber b) => a.Value >= b.Value;

    /// <inheritdoc/>
    public override string ToString() => Value.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
