// LatencyHistogram: microsecond latencies in log-linear buckets (about 3 % resolution, fixed
// memory), one per worker so recording needs no synchronisation; merged for the report.
namespace PgWal.Cli.Bench;

internal sealed class LatencyHistogram
{
    private const int SubBuckets = 32;                  // per power of two
    private readonly long[] _counts = new long[64 * SubBuckets];
    private long _max;

    public long Count { get; private set; }

    public void Record(long microseconds)
    {
        microseconds = Math.Max(0, microseconds);
        _counts[Index(microseconds)]++;
        Count++;
        if (microseconds > _max)
            _max = microseconds;
    }

    public void Merge(LatencyHistogram other)
    {
        for (int i = 0; i < _counts.Length; i++)
            _counts[i] += other._counts[i];
        Count += other.Count;
        _max = Math.Max(_max, other._max);
    }

    public long Max => _max;

    /// <summary>The value at quantile <paramref name="q"/> (0..1), a bucket's upper bound; 0 when empty.</summary>
    public long Percentile(double q)
    {
        if (Count == 0)
            return 0;
        long rank = (long)Math.Ceiling(q * Count);
        long seen = 0;
        for (int i = 0; i < _counts.Length; i++)
        {
            seen += _counts[i];
            if (seen >= rank)
                return Math.Min(UpperBound(i), _max);
        }
        return _max;
    }

    private static int Index(long v)
    {
        if (v < SubBuckets)
            return (int)v;
        int log = 63 - (int)long.LeadingZeroCount(v);      // >= 5
        int shift = log - 5;
        return (log - 4) * SubBuckets + (int)((v >> shift) - SubBuckets);
    }

    private static long UpperBound(int index)
    {
        if (index < SubBuckets)
            return index;
        int log = index / SubBuckets + 4;
        int shift = log - 5;
        long sub = index % SubBuckets + SubBuckets;
        return ((sub + 1) << shift) - 1;
    }
}
