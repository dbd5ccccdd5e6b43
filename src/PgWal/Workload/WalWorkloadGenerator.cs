// WalWorkloadGenerator: a reproducible (seeded) WAL workload shaped like real WAL, written with
// PgWal's writer into DIR/pg_wal. It starts with a tour of every record shape PgWal supports (so
// even small runs cover them all), then draws a random mix: mostly small application records,
// commits and aborts, some full-page images (with and without holes, pglz/lz4/zstd), restore
// points, online checkpoints, a few large payloads up to 1 MB, and segment switches.
// Same seed and options => byte-identical segments (timestamps and system id derive from the seed).
using PgWal.Compression;
using PgWal.Format;
using PgWal.Insert;
using PgWal.Storage;
using PgWal.Write;

namespace PgWal.Workload;

/// <summary>Options of <see cref="WalWorkloadGenerator"/>.</summary>
public sealed record WorkloadOptions
{
    /// <summary>Records to write (including the shape tour). Default 100,000.</summary>
    public int Records { get; init; } = 100_000;

    /// <summary>Random seed.</summary>
    public int Seed { get; init; } = 1;

    /// <summary>Segment size in bytes. Default 16 MB.</summary>
    public int SegmentSize { get; init; } = WalGeometry.DefaultSegmentSize;
}

/// <summary>What <see cref="WalWorkloadGenerator.Generate"/> wrote.</summary>
/// <param name="Records">Records written.</param>
/// <param name="FirstLsn">LSN of the first record.</param>
/// <param name="LastLsn">LSN of the last record.</param>
/// <param name="EndLsn">End of the last record (where the next one would start).</param>
/// <param name="Segments">Segment files written.</param>
/// <param name="WalDirectory">The pg_wal directory.</param>
/// <param name="SystemIdentifier">The system identifier in the long page headers.</param>
/// <param name="Shapes">How many records of each shape were written.</param>
public sealed record WorkloadResult(long Records, Lsn FirstLsn, Lsn LastLsn, Lsn EndLsn, int Segments,
    string WalDirectory, ulong SystemIdentifier, IReadOnlyDictionary<string, long> Shapes);

/// <summary>Writes a seeded, mixed WAL workload.</summary>
public static class WalWorkloadGenerator
{
    /// <summary>Application resource manager ids used by generated records.</summary>
    public const byte FirstAppRmgr = 128;

    /// <summary>
    /// Writes the workload into <paramref name="dataDirectory"/>/pg_wal (created if needed; it must
    /// not already hold WAL). <paramref name="onRecord"/> sees every record's position.
    /// </summary>
    public static WorkloadResult Generate(string dataDirectory, WorkloadOptions options,
        Action<InsertResult>? onRecord = null, Action<long>? onProgress = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Records < 1)
            throw new ArgumentOutOfRangeException(nameof(options), "at least one record is needed");
        var geometry = new WalGeometry(options.SegmentSize);
        string walDir = Path.Combine(dataDirectory, "pg_wal");
        Directory.CreateDirectory(walDir);
        if (Directory.EnumerateFiles(walDir).Any(f => SegmentFileName.IsSegmentFileName(Path.GetFileName(f))))
            throw new InvalidOperationException($"\"{walDir}\" already contains WAL segments; use an empty directory");

        ulong systemId = 7_300_000_000_000_000_000UL + (ulong)(uint)options.Seed * 7919UL;
        var state = new WorkloadState(new Random(options.Seed), options.Seed);
        var engineOptions = new WalOptions { SegmentSize = options.SegmentSize, SystemIdentifier = systemId, WalWriterDelay = TimeSpan.Zero };
        var first = SegmentNumber1;
        Lsn firstLsn = default, lastLsn = default;
        long written = 0;
        using (var writer = new WalEngine(new FileSystemWalStorage(walDir), engineOptions, WalStartPoint.AtSegment(first, geometry)))
        {
            var emitter = new WorkloadRecords(writer, state, r =>
            {
                if (written == 0)
                    firstLsn = r.Start;
                lastLsn = r.Start;
                written++;
                onRecord?.Invoke(r);
                if ((written & 0xFFF) == 0)
                    onProgress?.Invoke(written);
            });
            emitter.ShutdownCheckpoint();
            emitter.ShapeTour();
            while (written < options.Records)
                emitter.RandomRecord();
            writer.Flush();
            var end = writer.InsertedUpTo;
            int segments = (int)(geometry.SegmentOfEnd(end).Value - first.Value + 1);
            return new WorkloadResult(written, firstLsn, lastLsn, end, segments, walDir, systemId, state.Shapes);
        }
    }

    // PostgreSQL clusters start at segment 1 (segment 0 is never used).
    private static SegmentNumber SegmentNumber1 => new(1);

    internal static bool Lz4Available { get; } = NativeCodecs.IsLz4Available;

    internal static bool ZstdAvailable { get; } = NativeCodecs.IsZstdAvailable;
}

internal sealed class WorkloadState(Random rng, int seed)
{
    public Random Rng { get; } = rng;
    public Dictionary<string, long> Shapes { get; } = [];
    public uint NextXid { get; set; } = 1000;
    public uint CurrentXid { get; set; }
    public long Clock { get; set; } = 852_076_800_000_000L + (long)(uint)seed * 1_000_000L; // 2027-01-01 UTC + seed s

    public void Count(string shape) => Shapes[shape] = Shapes.GetValueOrDefault(shape) + 1;

    public long Tick()
    {
        Clock += Rng.Next(50, 5000);
        return Clock;
    }
}
