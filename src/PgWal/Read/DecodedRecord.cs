// DecodedRecord: a validated, decoded WAL record (xlogreader.h DecodedXLogRecord), reused by the
// reader for every record so that reading allocates nothing per record. Everything it exposes,
// spans included, is valid only until the reader's next call.
using PgWal.Format;

namespace PgWal.Read;

/// <summary>
/// A WAL record that passed every check (header, CRC, body layout). The instance and its spans are
/// reused: they are valid until the next call on the reader that produced it.
/// </summary>
public sealed class DecodedRecord
{
    private readonly DecodedBlock[] _blocks = new DecodedBlock[BlockReferenceFormat.MaxBlockId + 1];
    private byte[] _buffer = [];
    private int _offset;
    private int _payloadOffset;     // where block images/data start in the record; block offsets are relative to it
    private int _mainDataOffset;    // within the record

    /// <summary>Where the record starts.</summary>
    public Lsn Lsn { get; private set; }

    /// <summary>
    /// Where the next record starts: the MAXALIGNed end, a page start when the record ends on a page
    /// boundary, or the next segment's start after an XLOG SWITCH (PostgreSQL's <c>EndRecPtr</c>).
    /// </summary>
    public Lsn NextLsn { get; internal set; }

    /// <summary>The fixed header.</summary>
    public RecordHeader Header => new(TotalLength, Xid, Prev, Info, RmgrId, _crc);
    // The header's fields one by one, each read from the record's bytes: a RecordHeader struct built
    // and then copied here stalled the reader on every record (a wide load of narrow stores).
    private uint _crc;

    /// <summary>The PostgreSQL version whose page magic the record was read under.</summary>
    public WalVersion Version { get; internal set; }

    /// <summary><c>xl_tot_len</c>: the whole record including images.</summary>
    public uint TotalLength { get; private set; }

    /// <summary><c>xl_xid</c>.</summary>
    public uint Xid { get; private set; }

    /// <summary><c>xl_prev</c>: the start of the previous record.</summary>
    public Lsn Prev { get; private set; }

    /// <summary><c>xl_info</c> including the generic low bits.</summary>
    public byte Info { get; private set; }

    /// <summary><c>xl_rmid</c>.</summary>
    public byte RmgrId { get; private set; }

    /// <summary>Replication origin, or 0 when none.</summary>
    public ushort Origin { get; private set; }

    /// <summary>Top-level transaction id of a subtransaction's first record, or 0.</summary>
    public uint TopLevelXid { get; private set; }

    /// <summary>Highest block id in use, or -1 when the record references no block.</summary>
    public int MaxBlockId { get; private set; }

    /// <summary>Sum of stored image lengths (pg_waldump's FPI size).</summary>
    public uint ImageLength { get; private set; }

    /// <summary><c>xl_tot_len</c> minus image bytes (pg_waldump's "rec" length).</summary>
    public uint RecordLength => TotalLength - ImageLength;

    /// <summary>Length of the main data.</summary>
    public int MainDataLength { get; private set; }

    /// <summary>The whole record, exactly <c>xl_tot_len</c> bytes, header included.</summary>
    public ReadOnlySpan<byte> Bytes => _buffer.AsSpan(_offset, (int)TotalLength);

    /// <summary>The main data (empty when none).</summary>
    public ReadOnlySpan<byte> MainData => _buffer.AsSpan(_offset + _mainDataOffset, MainDataLength);

    /// <summary>True when block id <paramref name="blockId"/> is in use.</summary>
    public bool HasBlock(int blockId) => blockId >= 0 && blockId <= MaxBlockId && _blocks[blockId].InUse;   // MaxBlockId is -1 without blocks: no unsigned compare

    /// <summary>The block reference with id <paramref name="blockId"/> (check <see cref="HasBlock"/>).</summary>
    public ref readonly DecodedBlock Block(int blockId) => ref _blocks[blockId];

    /// <summary>The per-block data of <paramref name="blockId"/> (empty when none).</summary>
    public ReadOnlySpan<byte> BlockData(int blockId)
    {
        if (!HasBlock(blockId))
            return default;
        ref readonly var b = ref _blocks[blockId];
        return _buffer.AsSpan(_offset + _payloadOffset + b.DataOffset, b.DataLength);
    }

    /// <summary>The stored image bytes of <paramref name="blockId"/> (hole removed, maybe compressed).</summary>
    public ReadOnlySpan<byte> BlockImage(int blockId)
    {
        if (!HasBlock(blockId) || !_blocks[blockId].HasImage)
            return default;
        ref readonly var b = ref _blocks[blockId];
        return _buffer.AsSpan(_offset + _payloadOffset + b.ImageOffset, b.ImageLength);
    }

    /// <summary>True when any block carries an image.</summary>
    public bool HasAnyImage
    {
        get
        {
            for (int i = 0; i <= MaxBlockId; i++)
            {
                if (_blocks[i].InUse && _blocks[i].HasImage)
                    return true;
            }
            return false;
        }
    }

    /// <summary>
    /// Rebuilds the 8 kB page image of <paramref name="blockId"/> into <paramref name="page"/>:
    /// decompresses and re-inserts the zeroed hole (PostgreSQL's <c>RestoreBlockImage</c>).
    /// </summary>
    /// <returns>Null on success, otherwise PostgreSQL's error text.</returns>
    public string? TryRestoreImage(int blockId, Span<byte> page) => ImageRestorer.Restore(this, blockId, page);

    /// <summary>
    /// A copy that owns its bytes and stays valid after the reader moves on (recovery keeps the
    /// records of a transaction this way until its commit).
    /// </summary>
    public DecodedRecord Clone()
    {
        var copy = new DecodedRecord
        {
            _buffer = Bytes.ToArray(), _offset = 0, _payloadOffset = _payloadOffset, _mainDataOffset = _mainDataOffset,
            Lsn = Lsn, NextLsn = NextLsn, TotalLength = TotalLength, Xid = Xid, Prev = Prev, Info = Info, RmgrId = RmgrId, _crc = _crc, Version = Version, Origin = Origin, TopLevelXid = TopLevelXid,
            MaxBlockId = MaxBlockId, ImageLength = ImageLength, MainDataLength = MainDataLength,
        };
        for (int i = 0; i <= MaxBlockId; i++)
            copy._blocks[i] = _blocks[i];
        return copy;
    }

    // Points the instance at the record whose header (already validated) starts at buffer[offset].
    internal void Reset(Lsn lsn, byte[] buffer, int offset)
    {
        Lsn = lsn;
        _buffer = buffer;
        _offset = offset;
        var header = buffer.AsSpan(offset, RecordHeader.Size);
        TotalLength = RecordHeader.ReadTotalLength(header);
        Xid = RecordHeader.ReadXid(header);
        Prev = RecordHeader.ReadPrev(header);
        Info = RecordHeader.ReadInfo(header);
        RmgrId = RecordHeader.ReadRmgrId(header);
        _crc = RecordHeader.ReadCrc(header);
        Origin = 0;
        TopLevelXid = 0;
        ImageLength = 0;
        MainDataLength = 0;
        _payloadOffset = 0;
        _mainDataOffset = 0;
        MaxBlockId = -1;   // slots up to the new MaxBlockId are all written by the decoder (gaps cleared)
    }

    internal void SetOrigin(ushort origin) => Origin = origin;

    internal void SetTopLevelXid(uint xid) => TopLevelXid = xid;

    internal void SetMainDataLength(int length) => MainDataLength = length;

    // After the sub-headers: the payload starts at `payloadOffset`; the main data follows the
    // blocks' `blockBytes`; `imageBytes` of them are images.
    internal void SetPayload(int payloadOffset, int blockBytes, uint imageBytes)
    {
        _payloadOffset = payloadOffset;
        _mainDataOffset = payloadOffset + blockBytes;
        ImageLength = imageBytes;
    }

    internal ref DecodedBlock BlockSlot(int blockId) => ref _blocks[blockId];

    internal void SetMaxBlockId(int id) => MaxBlockId = id;

}
