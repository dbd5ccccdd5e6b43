// CheckPoint: the 88-byte payload of XLOG CHECKPOINT_SHUTDOWN / CHECKPOINT_ONLINE records and of
// pg_control's checkPointCopy (pg_control.h). Offsets (LP64):
//   0 redo u64 | 8 ThisTimeLineID u32 | 12 PrevTimeLineID u32 | 16 fullPageWrites bool | 17-19 pad
//   20 wal_level i32 (17+; padding in 15/16) | 24 nextXid u64 (epoch<<32|xid) | 32 nextOid | 36 nextMulti
//   40 nextMultiOffset | 44 oldestXid | 48 oldestXidDB | 52 oldestMulti | 56 oldestMultiDB | 60 pad
//   64 time i64 (Unix seconds) | 72 oldestCommitTsXid | 76 newestCommitTsXid | 80 oldestActiveXid | 84 pad
using System.Buffers.Binary;

namespace PgWal.Format;

/// <summary>A checkpoint description (PostgreSQL's <c>CheckPoint</c> struct).</summary>
public readonly record struct CheckPoint
{
    /// <summary><c>sizeof(CheckPoint)</c>.</summary>
    public const int Size = 88;

    /// <summary>Where replay must start (REDO point).</summary>
    public Lsn Redo { get; init; }
    /// <summary>Current timeline.</summary>
    public TimelineId ThisTimeline { get; init; }
    /// <summary>Previous timeline (differs only when this checkpoint starts a timeline).</summary>
    public TimelineId PrevTimeline { get; init; }
    /// <summary>full_page_writes setting.</summary>
    public bool FullPageWrites { get; init; }
    /// <summary>wal_level (stored only by PostgreSQL 17+; 0 otherwise).</summary>
    public int WalLevel { get; init; }
    /// <summary>Next full transaction id (epoch in the high 32 bits).</summary>
    public ulong NextXid { get; init; }
    /// <summary>Next OID.</summary>
    public uint NextOid { get; init; }
    /// <summary>Next MultiXactId.</summary>
    public uint NextMulti { get; init; }
    /// <summary>Next MultiXact offset.</summary>
    public uint NextMultiOffset { get; init; }
    /// <summary>Oldest unfrozen xid.</summary>
    public uint OldestXid { get; init; }
    /// <summary>Database holding the oldest xid.</summary>
    public uint OldestXidDb { get; init; }
    /// <summary>Oldest MultiXactId.</summary>
    public uint OldestMulti { get; init; }
    /// <summary>Database holding the oldest multi.</summary>
    public uint OldestMultiDb { get; init; }
    /// <summary>Time of the checkpoint, Unix seconds.</summary>
    public long Time { get; init; }
    /// <summary>Oldest xid with a commit timestamp.</summary>
    public uint OldestCommitTsXid { get; init; }
    /// <summary>Newest xid with a commit timestamp.</summary>
    public uint NewestCommitTsXid { get; init; }
    /// <summary>Oldest running xid (online checkpoints with wal_level &gt;= replica).</summary>
    public uint OldestActiveXid { get; init; }

    /// <summary>Decodes 88 bytes (padding is ignored, whatever it holds).</summary>
    public static CheckPoint Read(ReadOnlySpan<byte> b) => new()
    {
        Redo = new Lsn(BinaryPrimitives.ReadUInt64LittleEndian(b)),
        ThisTimeline = new TimelineId(BinaryPrimitives.ReadUInt32LittleEndian(b[8..])),
        PrevTimeline = new TimelineId(BinaryPrimitives.ReadUInt32LittleEndian(b[12..])),
        FullPageWrites = b[16] != 0,
        WalLevel = BinaryPrimitives.ReadInt32LittleEndian(b[20..]),
        NextXid = BinaryPrimitives.ReadUInt64LittleEndian(b[24..]),
        NextOid = BinaryPrimitives.ReadUInt32LittleEndian(b[32..]),
        NextMulti = BinaryPrimitives.ReadUInt32LittleEndian(b[36..]),
        NextMultiOffset = BinaryPrimitives.ReadUInt32LittleEndian(b[40..]),
        OldestXid = BinaryPrimitives.ReadUInt32LittleEndian(b[44..]),
        OldestXidDb = BinaryPrimitives.ReadUInt32LittleEndian(b[48..]),
        OldestMulti = BinaryPrimitives.ReadUInt32LittleEndian(b[52..]),
        OldestMultiDb = BinaryPrimitives.ReadUInt32LittleEndian(b[56..]),
        Time = BinaryPrimitives.ReadInt64LittleEndian(b[64..]),
        OldestCommitTsXid = BinaryPrimitives.ReadUInt32LittleEndian(b[72..]),
        NewestCommitTsXid = BinaryPrimitives.ReadUInt32LittleEndian(b[76..]),
        OldestActiveXid = BinaryPrimitives.ReadUInt32LittleEndian(b[80..]),
    };

    /// <summary>Encodes 88 bytes with zero padding (PostgreSQL 15 layout: wal_level is not stored).</summary>
    public void Write(Span<byte> b)
    {
        b[..Size].Clear();
        BinaryPrimitives.WriteUInt64LittleEndian(b, Redo.Value);
        BinaryPrimitives.WriteUInt32LittleEndian(b[8..], ThisTimeline.Value);
        BinaryPrimitives.WriteUInt32LittleEndian(b[12..], PrevTimeline.Value);
        b[16] = FullPageWrites ? (byte)1 : (byte)0;
        BinaryPrimitives.WriteUInt64LittleEndian(b[24..], NextXid);
        BinaryPrimitives.WriteUInt32LittleEndian(b[32..], NextOid);
        BinaryPrimitives.WriteUInt32LittleEndian(b[36..], NextMulti);
        BinaryPrimitives.WriteUInt32LittleEndian(b[40..], NextMultiOffset);
        BinaryPrimitives.WriteUInt32LittleEndian(b[44..], OldestXid);
        BinaryPrimitives.WriteUInt32LittleEndian(b[48..], OldestXidDb);
        BinaryPrimitives.WriteUInt32LittleEndian(b[52..], OldestMulti);
        BinaryPrimitives.WriteUInt32LittleEndian(b[56..], OldestMultiDb);
        BinaryPrimitives.WriteInt64LittleEndian(b[64..], Time);
        BinaryPrimitives.WriteUInt32LittleEndian(b[72..], OldestCommitTsXid);
        BinaryPrimitives.WriteUInt32LittleEndian(b[76..], NewestCommitTsXid);
        BinaryPrimitives.WriteUInt32LittleEndian(b[80..], OldestActiveXid);
    }
}
