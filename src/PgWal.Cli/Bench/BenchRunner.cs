// BenchRunner: runs the `pgwal bench` workload on an engine. Each worker inserts LogicalMessage
// records — byte for byte what pg_logical_emit_message(false, 'p', payload) writes — so the WAL
// and the numbers compare directly with PostgreSQL's. flush none: workers are threads that only
// insert. flush each: every record is a commit that waits for durability (workers are async
// clients, as a server's connections would be, sharing syncs through group commit). flush async:
// every record is an asynchronous commit (RequestFlush, no wait).
using System.Diagnostics;
using PgWal.Diagnostics;
using PgWal.Insert;
using PgWal.Write;

namespace PgWal.Cli.Bench;

internal sealed record BenchResult(
    long Records, long Commits, TimeSpan Elapsed, long PayloadBytes, WalStats Before, WalStats After,
    LatencyHistogram Latency, Lsn StartLsn, Lsn EndLsn);

internal sealed class BenchRunner(WalEngine engine, BenchSettings settings)
{
    private long _records;
    private volatile bool _stop;

    public long RecordsSoFar => Interlocked.Read(ref _records);

    /// <summary>Runs until the record quota or the duration is used up, or <paramref name="stop"/> is cancelled.</summary>
    public BenchResult Run(Action<BenchRunner, TimeSpan>? progress, CancellationToken stop)
    {
        using var stopping = stop.Register(() => _stop = true);
        var before = engine.Stats;
        Lsn startLsn = engine.InsertedUpTo;
        var histograms = Enumerable.Range(0, settings.Workers).Select(_ => new LatencyHistogram()).ToArray();
        long quota = settings.Records ?? long.MaxValue;
        var clock = Stopwatch.StartNew();
        Task[] workers = settings.Flush == FlushMode.Each
            ? histograms.Select(h => Task.Run(() => CommitLoopAsync(h, quota))).ToArray()
            : histograms.Select(h => StartThread(() => InsertLoop(h, quota))).ToArray();
        var all = Task.WhenAll(workers);
        while (!all.Wait(TimeSpan.FromMilliseconds(250)))
        {
            if (settings.Seconds is { } s && clock.Elapsed.TotalSeconds >= s)
                _stop = true;
            progress?.Invoke(this, clock.Elapsed);
        }
        all.GetAwaiter().GetResult();
        var elapsed = clock.Elapsed;
        if (settings.Flush == FlushMode.Async)
            engine.Flush(); // async commits become durable before the run counts as done
        var merged = new LatencyHistogram();
        foreach (var h in histograms)
            merged.Merge(h);
        long records = RecordsSoFar;
        long commits = settings.Flush == FlushMode.None ? 0 : records;
        return new BenchResult(records, commits, elapsed, records * settings.RecordSize, before, engine.Stats, merged, startLsn, engine.InsertedUpTo);
    }

    private static Task StartThread(Action body)
    {
        var done = new TaskCompletionSource();
        var thread = new Thread(() =>
        {
            try
            {
                body();
                done.SetResult();
            }
            catch (Exception e)
            {
                done.SetException(e);
            }
        }) { IsBackground = true, Name = "pgwal bench worker" };
        thread.Start();
        return done.Task;
    }

    // Claims the next record number; false when the record quota is used up or time is over.
    private bool Claim(long quota)
    {
        if (_stop)
            return false;
        if (Interlocked.Increment(ref _records) <= quota)
            return true;
        Interlocked.Decrement(ref _records);
        _stop = true;
        return false;
    }

    private void InsertLoop(LatencyHistogram latency, long quota)
    {
        var builder = new RecordBuilder();
        var payload = Payload();
        bool async = settings.Flush == FlushMode.Async;
        while (Claim(quota))
        {
            long t0 = async ? Stopwatch.GetTimestamp() : 0;
            Lsn end = engine.Insert(BuiltinRecords.LogicalMessage(builder, 5, false, "p"u8, payload));
            if (async)
            {
                engine.RequestFlush(end);
                latency.Record((long)Stopwatch.GetElapsedTime(t0).TotalMicroseconds);
            }
        }
    }

    private async Task CommitLoopAsync(LatencyHistogram latency, long quota)
    {
        var builder = new RecordBuilder();
        var payload = Payload();
        while (Claim(quota))
        {
            long t0 = Stopwatch.GetTimestamp();
            Lsn end = engine.Insert(BuiltinRecords.LogicalMessage(builder, 5, false, "p"u8, payload));
            await engine.FlushAsync(end).ConfigureAwait(false);
            latency.Record((long)Stopwatch.GetElapsedTime(t0).TotalMicroseconds);
        }
    }

    private byte[] Payload()
    {
        var payload = new byte[settings.RecordSize];
        Array.Fill(payload, (byte)'x');
        return payload;
    }
}
