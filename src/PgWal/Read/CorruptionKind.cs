// CorruptionKind / EndOfWalReason / WalReadError: the reader's error vocabulary. Each kind mirrors
// one of PostgreSQL's xlogreader.c checks; Message is PostgreSQL 15's text for it, so tools can
// print exactly what pg_waldump prints, while the other fields say precisely where it happened.
namespace PgWal.Read;

/// <summary>Which check stopped the reader (one per PostgreSQL reader message).</summary>
public enum CorruptionKind
{
    /// <summary>No error.</summary>
    None = 0,
    /// <summary><c>xl_tot_len</c> below 24 (0 on zeroed space): "invalid record length".</summary>
    InvalidRecordLength,
    /// <summary><c>xl_tot_len</c> beyond what any reader can allocate.</summary>
    RecordTooLong,
    /// <summary>Unknown <c>xl_rmid</c>: "invalid resource manager ID".</summary>
    InvalidResourceManager,
    /// <summary><c>xl_prev</c> does not point at the previous record: "record with incorrect prev-link".</summary>
    BadPrevLink,
    /// <summary>CRC mismatch: "incorrect resource manager data checksum".</summary>
    BadChecksum,
    /// <summary>A record pointer inside a page header: "invalid record offset".</summary>
    InvalidRecordOffset,
    /// <summary>Reading a record where a continuation is: "contrecord is requested by".</summary>
    ContRecordRequested,
    /// <summary>The next page lacks XLP_FIRST_IS_CONTRECORD: "there is no contrecord flag".</summary>
    MissingContinuation,
    /// <summary><c>xlp_rem_len</c> disagrees with the record: "invalid contrecord length".</summary>
    BadContinuationLength,
    /// <summary>Page magic is not a supported version's: "invalid magic number".</summary>
    BadPageMagic,
    /// <summary>Unknown <c>xlp_info</c> bits, or no long header on a segment's first page: "invalid info bits".</summary>
    InvalidPageInfo,
    /// <summary>Long header's system identifier differs from the expected one.</summary>
    SystemIdentifierMismatch,
    /// <summary>Long header's segment size differs.</summary>
    SegmentSizeMismatch,
    /// <summary>Long header's WAL block size differs.</summary>
    BlockSizeMismatch,
    /// <summary><c>xlp_pageaddr</c> is not this page's address (e.g. a recycled segment): "unexpected pageaddr".</summary>
    UnexpectedPageAddress,
    /// <summary>A page's timeline is lower than an earlier page's: "out-of-sequence timeline ID".</summary>
    TimelineOutOfSequence,
    /// <summary>Block ids not strictly increasing: "out-of-order block_id".</summary>
    OutOfOrderBlockId,
    /// <summary>A sub-header id that is neither 0..32 nor 252..255: "invalid block_id".</summary>
    InvalidBlockId,
    /// <summary>BKPBLOCK_HAS_DATA disagrees with the data length.</summary>
    BlockDataFlagMismatch,
    /// <summary>Image header inconsistent (hole, length, compression flags).</summary>
    InvalidImageHeader,
    /// <summary>BKPBLOCK_SAME_REL on the first block: "BKPBLOCK_SAME_REL set but no previous rel".</summary>
    SameRelWithoutPrevious,
    /// <summary>Sub-headers and payload lengths do not add up: "record with invalid length".</summary>
    InvalidBodyLength,
    /// <summary>The segment file holding the next page does not exist.</summary>
    SegmentMissing,
    /// <summary>The segment file is shorter than the data needed.</summary>
    ShortRead,
    /// <summary>The page source failed (I/O error).</summary>
    SourceError,
    /// <summary>The caller's stop position was reached (not an error).</summary>
    StopPointReached,
}

/// <summary>How a read that returned no record should be understood.</summary>
public enum EndOfWalReason
{
    /// <summary>Not an end of WAL: the WAL is corrupt (damage followed by valid WAL, or inconsistent data).</summary>
    None = 0,
    /// <summary>Zeroed space: an empty record length or an all-zero page where the next record would be.</summary>
    ZeroedSpace,
    /// <summary>A page from an earlier use of a recycled segment (older page address).</summary>
    RecycledPage,
    /// <summary>The last record was only partly written (bad CRC, missing continuation, garbage header) and nothing valid follows it.</summary>
    TornRecord,
    /// <summary>The page source has no more data (segment missing or short).</summary>
    EndOfSource,
    /// <summary>The caller's stop position was reached.</summary>
    StopPoint,
}

/// <summary>Why and where the reader stopped.</summary>
public sealed class WalReadError
{
    internal WalReadError(CorruptionKind kind, Lsn lsn, Lsn recordLsn, string message, string? segmentFile, long fileOffset)
    {
        Kind = kind;
        Lsn = lsn;
        RecordLsn = recordLsn;
        Message = message;
        SegmentFile = segmentFile;
        FileOffset = fileOffset;
    }

    /// <summary>The check that failed.</summary>
    public CorruptionKind Kind { get; }

    /// <summary>Clean end of WAL (and which kind), or <see cref="EndOfWalReason.None"/> for corruption.</summary>
    public EndOfWalReason EndOfWal { get; internal set; }

    /// <summary>True when this is an end of WAL rather than corruption.</summary>
    public bool IsEndOfWal => EndOfWal != EndOfWalReason.None;

    /// <summary>The exact position of the problem (the record start, or the page address for page checks).</summary>
    public Lsn Lsn { get; }

    /// <summary>The record being read when the problem was found.</summary>
    public Lsn RecordLsn { get; }

    /// <summary>The segment file containing <see cref="Lsn"/>, when known.</summary>
    public string? SegmentFile { get; }

    /// <summary>Offset of <see cref="Lsn"/> within <see cref="SegmentFile"/>.</summary>
    public long FileOffset { get; }

    /// <summary>PostgreSQL 15's message for this check (what pg_waldump prints).</summary>
    public string Message { get; }

    /// <summary>For <see cref="CorruptionKind.BadPageMagic"/>: the magic number the page has.</summary>
    public ushort PageMagic { get; internal set; }

    /// <summary>The message with the exact record, file and offset.</summary>
    public override string ToString()
        => SegmentFile is null
            ? $"{Message} [{Kind}; record {RecordLsn}]"
            : $"{Message} [{Kind}; record {RecordLsn}; file {SegmentFile}, offset {FileOffset}]";
}
