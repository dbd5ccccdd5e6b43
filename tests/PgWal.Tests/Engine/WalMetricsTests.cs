// WalMetricsTests: the engine's pg_stat_wal counters as System.Diagnostics.Metrics instruments on
// the "PgWal" meter (tagged with the WAL directory, so one listener can tell engines apart) agree
// with the snapshot API and with what the test did; every sync is one measurement of the sync
// duration histogram; a sync at or over SlowSyncThreshold logs a warning naming the segment.
using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using PgWal.Format;
using PgWal.Insert;
using PgWal.Storage;
using PgWal.Tests.Infrastructure;
using PgWal.Write;

namespace PgWal.Tests.Engine;

public sealed class WalMetricsTests
{
    [Fact]
    public void MeterInstruments_AgreeWithTheSnapshot_AndEverySyncIsMeasured()
    {
        using var dir = new TempDirectory("metrics");
        var counters = new ConcurrentDictionary<string, double>();
        var syncDurations = new ConcurrentBag<double>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == "PgWal" && instrument.Meter.Tags?.Any(t => t.Key == "pgwal.wal.directory" && (string?)t.Value == dir.Path) == true)
                l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, _, _) => counters[instrument.Name] = value);
        listener.SetMeasurementEventCallback<double>((instrument, value, _, _) =>
        {
            if (instrument.Name == "pgwal.wal.sync.duration")
                syncDurations.Add(value);
            else
                counters[instrument.Name] = value;
        });
        listener.Start();

        var warnings = new ConcurrentQueue<string>();
        var geometry = new WalGeometry(WalGeometry.MinSegmentSize);
        var options = new WalOptions
        {
            SegmentSize = geometry.SegmentSize,
            SystemIdentifier = 5,
            WalWriterDelay = TimeSpan.Zero,       // no background writer: the test makes every write and sync
            SlowSyncThreshold = TimeSpan.Zero,    // every sync is "slow": each must log
            LoggerFactory = new WarningCollector(warnings),
        };
        const int Records = 500, Flushes = 25;
        using (var engine = new WalEngine(new FileSystemWalStorage(dir.Path), options, WalStartPoint.AtSegment(new SegmentNumber(1), geometry)))
        {
            var builder = new RecordBuilder();
            var payload = new byte[300];
            for (int i = 0; i < Records; i++)
            {
                Lsn end = engine.Insert(builder.Begin(131, 0x10, (uint)i).RegisterData(payload));
                if (i % (Records / Flushes) == Records / Flushes - 1)
                    engine.Flush(end);
            }
            listener.RecordObservableInstruments();
            var stats = engine.Stats;

            Assert.Equal(Records, counters["pgwal.wal.records"]);
            Assert.Equal(stats.Records, counters["pgwal.wal.records"]);
            Assert.Equal(stats.Bytes, counters["pgwal.wal.bytes"]);
            Assert.True(stats.Bytes >= Records * (24 + 2 + 300), $"{stats.Bytes} bytes for {Records} records of 300 B");
            Assert.Equal(0, counters["pgwal.wal.fpi"]);
            Assert.Equal(stats.Writes, counters["pgwal.wal.writes"]);
            Assert.Equal(stats.Syncs, counters["pgwal.wal.syncs"]);
            Assert.True(stats.Syncs >= Flushes, $"{stats.Syncs} syncs for {Flushes} flushes");
            Assert.Equal(stats.SyncTime.TotalSeconds, counters["pgwal.wal.sync_time"], 9);
            Assert.Equal(stats.Syncs, syncDurations.Count);
            Assert.True(syncDurations.All(d => d >= 0) && syncDurations.Sum() <= stats.SyncTime.TotalSeconds + 1e-6);
            Assert.Equal(stats.Syncs, warnings.Count);
            Assert.All(warnings, w => Assert.Matches(@"^slow WAL sync: syncing 000000010000000000000001 took \d+\.\d ms$", w));
        }
    }

    private sealed class WarningCollector(ConcurrentQueue<string> warnings) : ILoggerFactory, ILogger
    {
        public void AddProvider(ILoggerProvider provider) { }
        public ILogger CreateLogger(string categoryName) => this;
        public void Dispose() { }
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (logLevel == LogLevel.Warning)
                warnings.Enqueue(formatter(state, exception));
        }
    }
}
