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

    /// <summary>pg_stat_replication and pg_replication_slots as gauges, one measurement per walsender or slot (tagged).</summary>
    public void ObserveReplication(Func<Replication.Server.WalSenderServer?> server, Func<Replication.Slots.ReplicationSlots?> slots, Func<Lsn> flushed)
    {
        IEnumerable<Measurement<long>> PerSender(Func<Replication.Server.WalSenderInfo, Lsn> position)
        {
            Lsn end = flushed();
            foreach (var s in server()?.Snapshot() ?? [])
            {
                var p = position(s);
                if (p.IsValid)
                    yield return new Measurement<long>(end > p ? (long)(end - p) : 0, Tags(s));
            }
        }
        IEnumerable<Measurement<double>> Lags(Func<Replication.Server.WalSenderInfo, TimeSpan?> lag)
        {
            foreach (var s in server()?.Snapshot() ?? [])
            {
                if (lag(s) is { } l)
                    yield return new Measurement<double>(l.TotalSeconds, Tags(s));
            }
        }
        static KeyValuePair<string, object?>[] Tags(Replication.Server.WalSenderInfo s)
            => [new("pgwal.walsender.pid", s.Pid), new("pgwal.walsender.application_name", s.ApplicationName), new("pgwal.walsender.client_addr", s.ClientAddress.ToString()), new("pgwal.walsender.state", s.State)];
        _meter.CreateObservableGauge("pgwal.replication.senders", () => server()?.Snapshot().Count ?? 0, "{connection}", "Connected walsenders (pg_stat_replication rows)");
        _meter.CreateObservableCounter("pgwal.replication.bytes_sent", () => server()?.BytesSent ?? 0, "By", "WAL bytes sent to replication clients");
        _meter.CreateObservableGauge("pgwal.replication.sent_behind", () => PerSender(s => s.SentLsn), "By", "WAL flushed locally but not yet sent, per walsender");
        _meter.CreateObservableGauge("pgwal.replication.flush_behind", () => PerSender(s => s.FlushLsn), "By", "WAL flushed locally but not reported flushed by the client, per walsender");
        _meter.CreateObservableGauge("pgwal.replication.write_lag", () => Lags(s => s.WriteLag), "s", "pg_stat_replication.write_lag");
        _meter.CreateObservableGauge("pgwal.replication.flush_lag", () => Lags(s => s.FlushLag), "s", "pg_stat_replication.flush_lag");
        _meter.CreateObservableGauge("pgwal.replication.replay_lag", () => Lags(s => s.ReplayLag), "s", "pg_stat_replication.replay_lag");
        _meter.CreateObservableGauge("pgwal.replication.slot_retained", () => SlotRetained(slots(), flushed()), "By", "WAL kept for each replication slot (pg_replication_slots, by slot_name); -1 when lost");
    }

    private static IEnumerable<Measurement<long>> SlotRetained(Replication.Slots.ReplicationSlots? slots, Lsn end)
    {
        foreach (var slot in slots?.Snapshot() ?? [])
        {
            long retained = slot.RestartLsn.IsValid ? (long)(end > slot.RestartLsn ? end - slot.RestartLsn : 0) : slot.InvalidatedAt.IsValid ? -1 : 0;
            yield return new Measurement<long>(retained, new KeyValuePair<string, object?>("pgwal.slot.name", slot.Name), new KeyValuePair<string, object?>("pgwal.slot.active", slot.Active));
        }
    }

    public void Dispose()
    {
        if (_ownsMeter)
            _meter.Dispose();
    }
}
