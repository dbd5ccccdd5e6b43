// KvMetrics: the store's counters as System.Diagnostics.Metrics instruments on the "PgWal.Kv" meter
// (observable: read from KvStore.Counters when a listener collects). The WAL, checkpoint and
// buffer-pool instruments of the instance underneath are on PgWal's own "PgWal" meter.
using System.Diagnostics.Metrics;

namespace PgWal.Kv;

internal sealed class KvMetrics : IDisposable
{
    public const string MeterName = "PgWal.Kv";
    private readonly Meter _meter;
    private readonly bool _ownsMeter;

    public KvMetrics(KvStore store, IMeterFactory? factory)
    {
        var tag = new KeyValuePair<string, object?>("pgwal.data.directory", store.Instance.Location);
        _ownsMeter = factory == null;
        _meter = factory?.Create(new MeterOptions(MeterName) { Tags = [tag] }) ?? new Meter(MeterName, null, [tag]);
        _meter.CreateObservableCounter("pgwal.kv.commits", () => store.Counters.Commits, "{commit}", "Transactions committed (single puts, deletes and batches)");
        _meter.CreateObservableCounter("pgwal.kv.reads", () => store.Counters.Reads, "{read}", "Point lookups");
        _meter.CreateObservableCounter("pgwal.kv.writes", () => store.Counters.Writes, "{call}", "Write calls (put, delete, batch), including those that changed nothing");
    }

    public void Dispose()
    {
        if (_ownsMeter)
            _meter.Dispose();
    }
}
