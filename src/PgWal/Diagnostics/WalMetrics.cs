// WalMetrics: the engine's statistics as System.Diagnostics.Metrics instruments (observable
// counters read from the engine's snapshot, so the hot path pays nothing for them) plus the sync
// duration histogram, and the slow-sync warning.
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;

namespace PgWal.Diagnostics;

internal sealed class WalMetrics : IDisposable
{
    /// <summary>The meter name (subscribe to it with a MeterListener or OpenTelemetry).</summary>
    public const string MeterName = "PgWal";

    private readonly Meter _meter;
    private readonly bool _ownsMeter;
    private readonly Histogram<double> _syncDuration;
    private readonly ILogger _logger;
    private readonly TimeSpan _slowSync;

    public WalMetrics(Func<WalStats> snapshot, string location, IMeterFactory? factory, ILogger logger, TimeSpan slowSync)
    {
        _logger = logger;
        _slowSync = slowSync;
        _meter = CreateMeter(factory, new("pgwal.wal.directory", location), out _ownsMeter);
        _meter.CreateObservableCounter("pgwal.wal.records", () => snapshot().Records, "{record}", "WAL records inserted");
        _meter.CreateObservableCounter("pgwal.wal.fpi", () => snapshot().FullPageImages, "{image}", "Full-page images inserted");
        _meter.CreateObservableCounter("pgwal.wal.bytes", () => snapshot().Bytes, "By", "WAL bytes inserted");
        _meter.CreateObservableCounter("pgwal.wal.buffers_full", () => snapshot().BuffersFull, "{event}", "Inserter writes because the WAL buffers were full");
        _meter.CreateObservableCounter("pgwal.wal.writes", () => snapshot().Writes, "{call}", "WAL write calls");
        _meter.CreateObservableCounter("pgwal.wal.syncs", () => snapshot().Syncs, "{call}", "WAL sync calls");
        _meter.CreateObservableCounter("pgwal.wal.write_time", () => snapshot().WriteTime.TotalSeconds, "s", "Time in WAL write calls");
        _meter.CreateObservableCounter("pgwal.wal.sync_time", () => snapshot().SyncTime.TotalSeconds, "s", "Time in WAL sync calls");
        _syncDuration = _meter.CreateHistogram<double>("pgwal.wal.sync.duration", "s", "Duration of each WAL sync call");
    }

    /// <summary>The "PgWal" meter with one tag: from the factory (which owns it) or new (owned by the caller).</summary>
    internal static Meter CreateMeter(IMeterFactory? factory, KeyValuePair<string, object?> tag, out bool owned)
    {
        owned = factory == null;
        return factory != null ? factory.Create(new MeterOptions(MeterName) { Tags = [tag] }) : new Meter(MeterName, null, [tag]);
    }

    public void RecordSync(string file, TimeSpan duration)
    {
        _syncDuration.Record(duration.TotalSeconds);
        if (duration >= _slowSync)
            _logger.LogWarning("slow WAL sync: syncing {File} took {Milliseconds:F1} ms", file, duration.TotalMilliseconds);
    }

    public void Dispose()
    {
        if (_ownsMeter)
            _meter.Dispose();
    }
}
