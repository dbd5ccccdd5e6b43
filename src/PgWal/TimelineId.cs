// TimelineId: PostgreSQL's TimeLineID (uint32). Timeline 1 is the first; 0 is invalid.
namespace PgWal;

/// <summary>A WAL timeline (PostgreSQL's <c>TimeLineID</c>). Timelines start at 1; 0 is invalid.</summary>
/// <param name="Value">The timeline number.</param>
public readonly record struct TimelineId(uint Value) : IComparable<TimelineId>
{
    /// <summary>The first timeline of every cluster.</summary>
    public static readonly TimelineId First = new(1);

    /// <summary>True for any timeline other than 0.</summary>
    public bool IsValid => Value != 0;

    /// <inheritdoc/>
    public int CompareTo(TimelineId other) => Value.CompareTo(other.Value);

    /// <summary>Compares timelines.</summary>
    public static bool operator <(TimelineId a, TimelineId b) => a.Value < b.Value;
    /// <summary>Compares timelines.</summary>
    public static bool operator >(TimelineId a, TimelineId b) => a.Value > b.Value;
    /// <summary>Compares timelines.</summary>
    public static bool operator <=(TimelineId a, TimelineId b) => a.Value <= b.Value;
    /// <summary>Compares timelines.</summary>
    public static bool operator >=(TimelineId a, TimelineId b) => a.Value >= b.Value;

    /// <summary>The decimal number, as PostgreSQL prints timelines.</summary>
    public override string ToString() => Value.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
