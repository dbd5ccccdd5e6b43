// InstanceMetrics: recovery progress and checkpoint activity of a WalInstance as
// System.Diagnostics.Metrics instruments on the "PgWal" meter (the engine's pg_stat_wal
// instruments are in WalMetrics): records and bytes replayed (counted while recovery runs, so a
// listener sees progress), images restored, checkpoints and the buffers they wrote, and the
// buffer pool's hits, reads and writes.
using System.Diagnostics.Metrics;

namespace PgWal.Diagnostics;

internal sealed class InstanceMetrics : IDisposable
{
    private readonly Meter _meter;
    private readonly bool _ownsMeter;
    private readonly Counter<long> _replayedRecords;
    private readonly Counter<long> _replayedBytes;
    private readonly Counter<long> _imagesRestored;
    private readonly Counter<long> _checkpoints;
    private readonly Counter<long> _checkpointBuffers;
    private readonly Histogram<double> _checkpointDuration;
    private readonly Counter<long> _checkpointFailures;

    public InstanceMetrics(string location, IMeterFactory? factory)
    {
        _meter = WalMetrics.CreateMeter(factory, new("pgwal.data.directory", location), out _ownsMeter);
        _replayedRecords = _meter.CreateCounter<long>("pgwal.recovery.records", "{record}", "WAL records replayed by crash recovery");
        _replayedBytes = _meter.CreateCounter<long>("pgwal.recovery.bytes", "By", "WAL bytes replayed by crash recovery");
        _imagesRestored = _meter.CreateCounter<long>("pgwal.recovery.fpi", "{image}", "Full-page images restored by crash recovery");
        _checkpoints = _meter.CreateCounter<long>("pgwal.checkpoints", "{checkpoint}", "Checkpoints completed");
        _checkpointBuffers = _meter.CreateCounter<long>("pgwal.checkpoint.buffers_written", "{page}", "Pages written by checkpoints");
        _checkpointDuration = _meter.CreateHistogram<double>("pgwal.checkpoint.duration", "s", "Duration of each checkpoint");
        _checkpointFailures = _meter.CreateCounter<long>("pgwal.checkpoint.failures", "{checkpoint}", "Checkpoints that failed (retried later unless the instance PANICked)");
    }

    public void Replayed(long records, long bytes, long images)
    {
        _replayedRecords.Add(records);
        _replayedBytes.Add(bytes);
        if (images > 0)
            _imagesRestored.Add(images);
    }

    public void Checkpointed(int buffers, TimeSpan duration)
    {
        _checkpoints.Add(1);
        _checkpointBuffers.Add(buffers);
        _checkpointDuration.Record(duration.TotalSeconds);
    }

    public void CheckpointFailed() => _checkpointFailures.Add(1);

    public void ObserveBuffers(Func<(long Hits, long Reads, long Writes, long EvictionWrites)> counters)
    {
        _meter.CreateObservableCounter("pgwal.buffers.hits", () => counters().Hits, "{page}", "Buffer pool hits");
        _meter.CreateObservableCounter("pgwal.buffers.reads", () => counters().Reads, "{page}", "Pages read from relation files");
        _meter.CreateObservableCounter("pgwal.buffers.writes", () => counters().Writes, "{page}", "Pages written back");
    }

    public void ObserveArchiver(Func<Archive.ArchiverStats> stats)
    {
        _meter.CreateObservableCounter("pgwal.archiver.archived", () => stats().ArchivedCount, "{file}", "WAL files archived (pg_stat_archiver.archived_count)");
        _meter.CreateObservableCounter("pgwal.archiver.failed", () => stats().FailedCount, "{attempt}", "Failed attempts to archive a WAL file (pg_stat_archiver.failed_count)");
        _meter.CreateObservableGauge("pgwal.archiver.pending", () => stats().Pending, "{file}", "WAL files waiting to be archived (.ready)");
        _meter.CreateObservableGauge("pgwal.archiver.oldest_pending_age", () => stats().OldestPendingAge.TotalSeconds, "s", "How long the oldest file waiting to be archived has waited");
    }

    public void Dispose()
    {
        if (_ownsMeter)
            _meter.Dispose();
    }
}
