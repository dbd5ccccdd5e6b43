// RecordBuilder: collects one WAL record the way PostgreSQL's XLogBeginInsert / XLogRegisterData /
// XLogRegisterBuffer / XLogRegisterBufData do, as a typed, reusable object. Registered data is
// copied in, so callers may reuse their buffers immediately; page images are referenced (the page
// must stay unchanged until the record is inserted). Size limits are enforced at registration, so
// an oversized record is refused before anything reaches the WAL. Not thread-safe.
using PgWal.Format;

namespace PgWal.Insert;

/// <summary>Builds one WAL record: resource manager, info, main data and block references.</summary>
public sealed class RecordBuilder
{
    internal sealed class BlockSlot
    {
        public bool InUse;
        public RelFileLocator Rel;
        public ForkNumber Fork;
        public BlockNumber Block;
        public BlockRegistration Flags;
        public ReadOnlyMemory<byte> Page;
        public byte[] Data = [];
        public int DataLength;
    }

    private readonly BlockSlot[] _blocks = new BlockSlot[BlockReferenceFormat.MaxBlockId + 1];
    private byte[] _mainData = new byte[256];
    private bool _begun;

    /// <summary>Creates an empty builder.</summary>
    public RecordBuilder()
    {
        for (int i = 0; i < _blocks.Length; i++)
            _blocks[i] = new BlockSlot();
    }

    /// <summary>Resource manager id of the record being built.</summary>
    public byte RmgrId { get; private set; }

    /// <summary><c>xl_info</c> of the record being built.</summary>
    public byte Info { get; private set; }

    /// <summary><c>xl_xid</c> of the record being built.</summary>
    public uint Xid { get; private set; }

    /// <summary>Replication origin to record (0 = none).</summary>
    public ushort Origin { get; private set; }

    /// <summary>Top-level transaction id to record (0 = none).</summary>
    public uint TopLevelXid { get; private set; }

    /// <summary>Highest registered block id + 1.</summary>
    internal int BlockLimit { get; private set; }

    internal ReadOnlySpan<byte> MainData => _mainData.AsSpan(0, MainDataLength);

    /// <summary>Main data registered so far.</summary>
    public int MainDataLength { get; private set; }

    internal BlockSlot GetSlot(int blockId) => _blocks[blockId];

    /// <summary>
    /// Starts a new record (PostgreSQL's <c>XLogBeginInsert</c>), discarding anything registered before.
    /// </summary>
    /// <param name="rmgrId">Resource manager: a builtin id, or 128–255 for application records.</param>
    /// <param name="info">Record type in the high nibble; the low nibble may carry XLR_SPECIAL_REL_UPDATE / XLR_CHECK_CONSISTENCY.</param>
    /// <param name="xid">Transaction id (0 = none).</param>
    public RecordBuilder Begin(byte rmgrId, byte info, uint xid = 0)
    {
        if (!RmgrIds.IsValid(rmgrId))
            throw new ArgumentOutOfRangeException(nameof(rmgrId), rmgrId, "resource manager id must be 0..21 or 128..255");
        if ((info & ~(RecordHeader.RmgrInfoMask | RecordHeader.SpecialRelUpdate | RecordHeader.CheckConsistency)) != 0)
            throw new ArgumentException($"invalid xlog info mask {info:X2}", nameof(info));
        Clear();
        _begun = true;
        RmgrId = rmgrId;
        Info = info;
        Xid = xid;
        return this;
    }

    /// <summary>Appends main data (PostgreSQL's <c>XLogRegisterData</c>).</summary>
    /// <exception cref="RecordTooLargeException">The record would exceed the size limit.</exception>
    public RecordBuilder RegisterData(ReadOnlySpan<byte> data)
    {
        EnsureBegun();
        long newLength = (long)MainDataLength + data.Length;
        if (newLength > RecordHeader.MaxTotalLength)
            throw new RecordTooLargeException(
                $"oversized WAL record: main data would be {newLength} bytes (of maximum {RecordHeader.MaxTotalLength} bytes); rmid {RmgrId}");
        if (newLength > _mainData.Length)
            Array.Resize(ref _mainData, (int)Math.Min(Math.Max(newLength, (long)_mainData.Length * 2), Array.MaxLength));
        data.CopyTo(_mainData.AsSpan(MainDataLength));
        MainDataLength = (int)newLength;
        return this;
    }

    /// <summary>
    /// Registers a block reference (PostgreSQL's <c>XLogRegisterBuffer</c> / <c>XLogRegisterBlock</c>).
    /// </summary>
    /// <param name="blockId">0–32, unique within the record.</param>
    /// <param name="rel">The relation.</param>
    /// <param name="fork">The fork.</param>
    /// <param name="block">The block number.</param>
    /// <param name="flags">Image and layout options.</param>
    /// <param name="page">The 8 kB page, needed when an image may be taken.</param>
    public RecordBuilder RegisterBlock(int blockId, RelFileLocator rel, ForkNumber fork, BlockNumber block,
        BlockRegistration flags = BlockRegistration.None, ReadOnlyMemory<byte> page = default)
    {
        EnsureBegun();
        if ((uint)blockId > BlockReferenceFormat.MaxBlockId)
            throw new ArgumentOutOfRangeException(nameof(blockId), blockId, "too many registered buffers: block id must be 0..32");
        if ((byte)fork > (byte)ForkNumber.Init)
            throw new ArgumentOutOfRangeException(nameof(fork), fork, "invalid fork number");
        var slot = _blocks[blockId];
        if (slot.InUse)
            throw new InvalidOperationException($"duplicate block id {blockId}");
        bool mayNeedImage = (flags & BlockRegistration.NoImage) == 0;
        if (mayNeedImage && page.Length != BlockReferenceFormat.DataPageSize)
            throw new ArgumentException($"block {blockId}: a page of {BlockReferenceFormat.DataPageSize} bytes is required unless NoImage or WillInit is set", nameof(page));
        slot.InUse = true;
        slot.Rel = rel;
        slot.Fork = fork;
        slot.Block = block;
        slot.Flags = flags;
        slot.Page = page.Length == BlockReferenceFormat.DataPageSize ? page : default;
        slot.DataLength = 0;
        BlockLimit = Math.Max(BlockLimit, blockId + 1);
        return this;
    }

    /// <summary>Appends per-block data to a registered block (PostgreSQL's <c>XLogRegisterBufData</c>).</summary>
    /// <exception cref="RecordTooLargeException">More than 65,535 bytes for one block.</exception>
    public RecordBuilder RegisterBlockData(int blockId, ReadOnlySpan<byte> data)
    {
        EnsureBegun();
        if ((uint)blockId > BlockReferenceFormat.MaxBlockId || !_blocks[blockId].InUse)
            throw new InvalidOperationException($"no block with id {blockId} registered in WAL record");
        var slot = _blocks[blockId];
        int newLength = slot.DataLength + data.Length;
        if (newLength > BlockReferenceFormat.MaxBlockDataLength)
            throw new RecordTooLargeException(
                $"too much WAL data: block {blockId} would carry {newLength} bytes (maximum {BlockReferenceFormat.MaxBlockDataLength})");
        if (newLength > slot.Data.Length)
            Array.Resize(ref slot.Data, Math.Max(newLength, Math.Min(slot.Data.Length * 2, BlockReferenceFormat.MaxBlockDataLength)));
        data.CopyTo(slot.Data.AsSpan(slot.DataLength));
        slot.DataLength = newLength;
        return this;
    }

    /// <summary>Records a replication origin (the <c>XLR_BLOCK_ID_ORIGIN</c> sub-header).</summary>
    public RecordBuilder SetOrigin(ushort origin)
    {
        EnsureBegun();
        Origin = origin;
        return this;
    }

    /// <summary>Records the top-level transaction id (the <c>XLR_BLOCK_ID_TOPLEVEL_XID</c> sub-header).</summary>
    public RecordBuilder SetTopLevelXid(uint xid)
    {
        EnsureBegun();
        TopLevelXid = xid;
        return this;
    }

    /// <summary>Discards everything registered (PostgreSQL's <c>XLogResetInsertion</c>).</summary>
    public void Clear()
    {
        for (int i = 0; i < BlockLimit; i++)
        {
            var slot = _blocks[i];
            slot.InUse = false;
            slot.Page = default;
            slot.DataLength = 0;
        }
        BlockLimit = 0;
        MainDataLength = 0;
        Origin = 0;
        TopLevelXid = 0;
        _begun = false;
    }

    internal bool IsBegun => _begun;

    private void EnsureBegun()
    {
        if (!_begun)
            throw new InvalidOperationException("XLogBeginInsert was not called: call Begin first");
    }
}
