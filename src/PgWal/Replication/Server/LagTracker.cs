// LagTracker: PostgreSQL's walsender lag tracking, simplified. Each time WAL is sent, the end of
// what was sent and the time it was flushed locally (when the walsender saw it) go into a ring;
// when the client reports a write, flush or apply position, the lag is the time since the newest
// sample at or below it was flushed; a report that passes no new sample keeps the last lag. As in
// PostgreSQL's ProcessStandbyReplyMessage, a client that reports everything sent as applied in two
// replies in a row is caught up and idle (the second reply came from its status interval): the lags
// are cleared. A client that applies nothing (pg_receivewal) keeps its last measured lags.
using System.Diagnostics;

namespace PgWal.Replication.Server;

internal sealed class LagTracker
{
    private const int Capacity = 256;
    private readonly (ulong Lsn, long Ticks)[] _samples = new (ulong, long)[Capacity];
    private readonly object _lock = new();
    private int _head, _count;
    private TimeSpan? _write, _flush, _apply;
    private bool _fullyAppliedLastTime;

    /// <summary>WAL up to <paramref name="sentUpTo"/>, flushed at <paramref name="flushedTicks"/>, was sent.</summary>
    public void Sent(Lsn sentUpTo, long flushedTicks)
    {
        lock (_lock)
        {
            int last = (_head + _count - 1 + Capacity) % Capacity;
            if (_count > 0 && _samples[last].Lsn >= sentUpTo.Value)
                return;
            if (_count == Capacity)
            {
                _head = (_head + 1) % Capacity;   // forget the oldest: lags get coarser, never wrong by more than that
                _count--;
            }
            _samples[(_head + _count) % Capacity] = (sentUpTo.Value, flushedTicks);
            _count++;
        }
    }

    /// <summary>The client reported these positions (Invalid: not reported).</summary>
    public void Reported(Lsn write, Lsn flush, Lsn apply, Lsn sent)
    {
        lock (_lock)
        {
            _write = LagOf(write, _write);
            _flush = LagOf(flush, _flush);
            _apply = LagOf(apply, _apply);
            // Forget samples everything has passed.
            ulong slowest = Math.Min(write.Value, flush.IsValid ? flush.Value : write.Value);
            if (apply.IsValid)
                slowest = Math.Min(slowest, apply.Value);   // a standby's replay lag needs the samples its flush passed
            while (_count > 0 && _samples[_head].Lsn <= slowest)
            {
                _head = (_head + 1) % Capacity;
                _count--;
            }
            if (apply == sent)
            {
                if (_fullyAppliedLastTime)
                    _write = _flush = _apply = null;
                _fullyAppliedLastTime = true;
            }
            else
            {
                _fullyAppliedLastTime = false;
            }
        }
    }

    private TimeSpan? LagOf(Lsn position, TimeSpan? previous)
    {
        if (!position.IsValid)
            return previous;
        long? ticks = null;
        for (int i = 0; i < _count; i++)
        {
            var sample = _samples[(_head + i) % Capacity];
            if (sample.Lsn > position.Value)
                break;
            ticks = sample.Ticks;
        }
        return ticks is { } t ? Stopwatch.GetElapsedTime(t) : previous;
    }

    public (TimeSpan? Write, TimeSpan? Flush, TimeSpan? Apply) Current
    {
        get
        {
            lock (_lock)
                return (_write, _flush, _apply);
        }
    }
}
