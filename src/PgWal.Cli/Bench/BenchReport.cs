// BenchReport: the results of `pgwal bench` as text and, with --json, one JSON object on the last line.
using System.Text.Json;
using PgWal.Diagnostics;

namespace PgWal.Cli.Bench;

internal static class BenchReport
{
    public static void Print(BenchSettings settings, BenchResult r, string? stoppedBy, TextWriter output)
    {
        double seconds = Math.Max(r.Elapsed.TotalSeconds, 1e-9);
        var stats = Delta(r.After, r.Before);
        double recordsPerSec = r.Records / seconds;
        double walMbPerSec = stats.Bytes / seconds / 1e6;
        double payloadMbPerSec = r.PayloadBytes / seconds / 1e6;
        double commitsPerSec = r.Commits / seconds;
        output.WriteLine($"  {r.Records:N0} records in {seconds:F2} s: {recordsPerSec:N0} records/s, {payloadMbPerSec:F1} MB/s of payload, {walMbPerSec:F1} MB/s of WAL");
        if (settings.Flush != FlushMode.None)
            output.WriteLine($"  {commitsPerSec:N0} commits/s ({settings.Flush.ToString().ToLowerInvariant()}), {(stats.Syncs > 0 ? (double)r.Commits / stats.Syncs : 0):F1} commits per sync");
        if (r.Latency.Count > 0)
        {
            string what = settings.Flush == FlushMode.Each ? "commit latency (insert + durable flush)" : "async commit call latency";
            output.WriteLine($"  {what}: p50 {r.Latency.Percentile(0.5)} us, p99 {r.Latency.Percentile(0.99)} us, max {r.Latency.Max} us");
        }
        output.WriteLine($"  WAL {r.StartLsn} .. {r.EndLsn}");
        output.WriteLine($"  pg_stat_wal: wal_records {stats.Records}, wal_fpi {stats.FullPageImages}, wal_bytes {stats.Bytes}, wal_buffers_full {stats.BuffersFull}, "
                         + $"wal_write {stats.Writes}, wal_sync {stats.Syncs}, wal_write_time {stats.WriteTime.TotalMilliseconds:F1} ms, wal_sync_time {stats.SyncTime.TotalMilliseconds:F1} ms, "
                         + $"segments created {stats.SegmentsCreated}");
        if (stoppedBy != null)
            output.WriteLine($"  stopped early by {stoppedBy}");
        if (!settings.Json)
            return;
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteNumber("workers", settings.Workers);
            json.WriteNumber("record_size", settings.RecordSize);
            json.WriteString("flush", settings.Flush.ToString().ToLowerInvariant());
            json.WriteNumber("seconds", Math.Round(seconds, 3));
            json.WriteNumber("records", r.Records);
            json.WriteNumber("records_per_sec", Math.Round(recordsPerSec, 1));
            json.WriteNumber("mb_per_sec", Math.Round(walMbPerSec, 2));
            json.WriteNumber("payload_mb_per_sec", Math.Round(payloadMbPerSec, 2));
            json.WriteNumber("commits", r.Commits);
            json.WriteNumber("commits_per_sec", Math.Round(commitsPerSec, 1));
            json.WriteStartObject("flush_latency_us");
            json.WriteNumber("p50", r.Latency.Percentile(0.5));
            json.WriteNumber("p99", r.Latency.Percentile(0.99));
            json.WriteNumber("max", r.Latency.Max);
            json.WriteEndObject();
            json.WriteStartObject("stats");
            json.WriteNumber("wal_records", stats.Records);
            json.WriteNumber("wal_fpi", stats.FullPageImages);
            json.WriteNumber("wal_bytes", stats.Bytes);
            json.WriteNumber("wal_buffers_full", stats.BuffersFull);
            json.WriteNumber("wal_write", stats.Writes);
            json.WriteNumber("wal_sync", stats.Syncs);
            json.WriteNumber("wal_write_time_ms", Math.Round(stats.WriteTime.TotalMilliseconds, 3));
            json.WriteNumber("wal_sync_time_ms", Math.Round(stats.SyncTime.TotalMilliseconds, 3));
            json.WriteNumber("segments_created", stats.SegmentsCreated);
            json.WriteEndObject();
            json.WriteString("start_lsn", r.StartLsn.ToString());
            json.WriteString("end_lsn", r.EndLsn.ToString());
            if (stoppedBy != null)
                json.WriteString("stopped_by", stoppedBy);
            json.WriteEndObject();
        }
        output.WriteLine(System.Text.Encoding.UTF8.GetString(buffer.ToArray()));
    }

    private static WalStats Delta(WalStats a, WalStats b) => new(
        a.Records - b.Records, a.FullPageImages - b.FullPageImages, a.Bytes - b.Bytes, a.BuffersFull - b.BuffersFull,
        a.Writes - b.Writes, a.Syncs - b.Syncs, a.WriteTime - b.WriteTime, a.SyncTime - b.SyncTime, a.SegmentsCreated - b.SegmentsCreated);
}
