// WalReaderOptions: immutable settings of one WalReader.
using PgWal.Format;

namespace PgWal.Read;

/// <summary>Settings for a <see cref="WalReader"/>.</summary>
public sealed record WalReaderOptions
{
    /// <summary>WAL segment size in bytes (power of two, 1 MB–1 GB). Default 16 MB.</summary>
    public int SegmentSize { get; init; } = WalGeometry.DefaultSegmentSize;

    /// <summary>Timeline whose segment files are read. Default 1.</summary>
    public TimelineId Timeline { get; init; } = TimelineId.First;

    /// <summary>
    /// Expected system identifier; long page headers must carry it. 0 (default) accepts any,
    /// as pg_waldump does.
    /// </summary>
    public ulong SystemIdentifier { get; init; }

    /// <summary>
    /// Exclusive end: the reader never uses a byte at or past this position and reports
    /// <see cref="CorruptionKind.StopPointReached"/> instead (pg_waldump's <c>--end</c>). Invalid = no limit.
    /// </summary>
    public Lsn StopAt { get; init; }

    /// <summary>
    /// The only PostgreSQL version accepted, or <see cref="WalVersion.Unknown"/> (default) to accept
    /// 15, 16, 17 and 18 and lock to the version of the first page read.
    /// </summary>
    public WalVersion RequiredVersion { get; init; }

    /// <summary>Bytes read from the source at a time (rounded to pages, capped at the segment size). Default 1 MB.</summary>
    public int ReadAheadBytes { get; init; } = 1024 * 1024;

    /// <summary>
    /// When a read fails, look past the failure for valid WAL to tell an end of WAL from corruption
    /// (sets <see cref="WalReadError.EndOfWal"/>). Default true.
    /// </summary>
    public bool ClassifyEndOfWal { get; init; } = true;

    internal WalGeometry Geometry => new(SegmentSize);
}

/// <summary>What <see cref="WalReader.ReadRecord"/> produced.</summary>
public enum ReadStatus
{
    /// <summary>A valid record (<see cref="ReadOutcome.Record"/>).</summary>
    Record,
    /// <summary>A clean end of WAL: zeroed or recycled space, a torn last record, no more data, or the stop point.</summary>
    EndOfWal,
    /// <summary>Corruption: see <see cref="ReadOutcome.Error"/>.</summary>
    Corrupt,
}

/// <summary>The result of one <see cref="WalReader.ReadRecord"/> call.</summary>
public readonly struct ReadOutcome
{
    internal ReadOutcome(DecodedRecord record)
    {
        Status = ReadStatus.Record;
        Record = record;
        Error = null;
    }

    internal ReadOutcome(WalReadError error)
    {
        Status = error.IsEndOfWal ? ReadStatus.EndOfWal : ReadStatus.Corrupt;
        Record = null;
        Error = error;
    }

    /// <summary>What happened.</summary>
    public ReadStatus Status { get; }

    /// <summary>The record, when <see cref="Status"/> is <see cref="ReadStatus.Record"/>; valid until the next read.</summary>
    public DecodedRecord? Record { get; }

    /// <summary>Why no record was returned, otherwise.</summary>
    public WalReadError? Error { get; }

    /// <summary>True when a record was read.</summary>
    public bool IsRecord => Status == ReadStatus.Record;
}
