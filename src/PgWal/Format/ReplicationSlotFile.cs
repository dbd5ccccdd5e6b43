// ReplicationSlotFile: pg_replslot/<name>/state in PostgreSQL 15's layout (ReplicationSlotOnDisk,
// 200 bytes, host byte order): magic, CRC-32C over everything after the checksum field, version 2,
// length 184, then ReplicationSlotPersistentData. Physical slots leave database, plugin and the
// logical fields zero.
using System.Buffers.Binary;
using System.Text;

namespace PgWal.Format;

/// <summary>ReplicationSlotPersistency.</summary>
public enum SlotPersistency
{
    /// <summary>RS_PERSISTENT: survives restarts.</summary>
    Persistent = 0,
    /// <summary>RS_EPHEMERAL: being created (logical); never kept.</summary>
    Ephemeral = 1,
    /// <summary>RS_TEMPORARY: lives with its session, never on disk.</summary>
    Temporary = 2,
}

/// <summary>What a slot's state file holds.</summary>
/// <param name="Name">The slot's name (1 to 63 of [a-z0-9_]).</param>
/// <param name="DatabaseOid">0 for a physical slot.</param>
/// <param name="Persistency">Only persistent slots are written.</param>
/// <param name="Xmin">Hot-standby feedback's xmin (0: none).</param>
/// <param name="CatalogXmin">catalog_xmin (0: none).</param>
/// <param name="RestartLsn">The oldest WAL the slot's consumer still needs (Invalid: none).</param>
/// <param name="InvalidatedAt">restart_lsn when the slot was invalidated (Invalid: never).</param>
/// <param name="ConfirmedFlush">Logical slots only.</param>
/// <param name="TwoPhaseAt">Logical slots only.</param>
/// <param name="TwoPhase">Logical slots only.</param>
/// <param name="Plugin">The output plugin; empty for a physical slot.</param>
public sealed record SlotStateData(string Name, uint DatabaseOid, SlotPersistency Persistency, uint Xmin, uint CatalogXmin,
    Lsn RestartLsn, Lsn InvalidatedAt, Lsn ConfirmedFlush, Lsn TwoPhaseAt, bool TwoPhase, string Plugin);

/// <summary>Encodes and decodes slot state files.</summary>
public static class ReplicationSlotFile
{
    /// <summary>The file's size.</summary>
    public const int Size = 200;
    /// <summary>SLOT_MAGIC.</summary>
    public const uint Magic = 0x01051CA1;
    /// <summary>SLOT_VERSION.</summary>
    public const uint Version = 2;
    private const int ChecksummedFrom = 8;
    private const int PersistentLength = Size - 16;   // the "length" field: everything after the version fields
    private const int NameDataLength = 64;

    /// <summary>The 200 bytes of <paramref name="data"/>.</summary>
    public static byte[] Encode(SlotStateData data)
    {
        var bytes = new byte[Size];
        var s = bytes.AsSpan();
        BinaryPrimitives.WriteUInt32LittleEndian(s[0..], Magic);
        BinaryPrimitives.WriteUInt32LittleEndian(s[8..], Version);
        BinaryPrimitives.WriteUInt32LittleEndian(s[12..], PersistentLength);
        WriteName(s.Slice(16, NameDataLength), data.Name);
        BinaryPrimitives.WriteUInt32LittleEndian(s[80..], data.DatabaseOid);
        BinaryPrimitives.WriteInt32LittleEndian(s[84..], (int)data.Persistency);
        BinaryPrimitives.WriteUInt32LittleEndian(s[88..], data.Xmin);
        BinaryPrimitives.WriteUInt32LittleEndian(s[92..], data.CatalogXmin);
        BinaryPrimitives.WriteUInt64LittleEndian(s[96..], data.RestartLsn.Value);
        BinaryPrimitives.WriteUInt64LittleEndian(s[104..], data.InvalidatedAt.Value);
        BinaryPrimitives.WriteUInt64LittleEndian(s[112..], data.ConfirmedFlush.Value);
        BinaryPrimitives.WriteUInt64LittleEndian(s[120..], data.TwoPhaseAt.Value);
        s[128] = data.TwoPhase ? (byte)1 : (byte)0;
        WriteName(s.Slice(129, NameDataLength), data.Plugin);
        BinaryPrimitives.WriteUInt32LittleEndian(s[4..], Crc32C.Compute(s[ChecksummedFrom..]));
        return bytes;
    }

    /// <summary>Decodes a state file, checking what RestoreSlotFromDisk checks.</summary>
    /// <exception cref="InvalidDataException">Wrong size, magic, version, length or checksum: the message names <paramref name="path"/>.</exception>
    public static SlotStateData Decode(ReadOnlySpan<byte> s, string path)
    {
        if (s.Length < 16)
            throw new InvalidDataException($"could not read file \"{path}\": read {s.Length} of {Size}");
        uint magic = BinaryPrimitives.ReadUInt32LittleEndian(s);
        if (magic != Magic)
            throw new InvalidDataException($"replication slot file \"{path}\" has wrong magic number: {magic} instead of {Magic}");
        uint version = BinaryPrimitives.ReadUInt32LittleEndian(s[8..]);
        if (version != Version)
            throw new InvalidDataException($"replication slot file \"{path}\" has unsupported version {version}");
        uint length = BinaryPrimitives.ReadUInt32LittleEndian(s[12..]);
        if (length != PersistentLength)
            throw new InvalidDataException($"replication slot file \"{path}\" has corrupted length {length}");
        if (s.Length != Size)
            throw new InvalidDataException($"could not read file \"{path}\": read {s.Length} of {Size}");
        uint stored = BinaryPrimitives.ReadUInt32LittleEndian(s[4..]);
        uint computed = Crc32C.Compute(s[ChecksummedFrom..]);
        if (stored != computed)
            throw new InvalidDataException($"checksum mismatch for replication slot file \"{path}\": is {computed}, should be {stored}");
        int persistency = BinaryPrimitives.ReadInt32LittleEndian(s[84..]);
        if (persistency is < 0 or > 2)
            throw new InvalidDataException($"replication slot file \"{path}\" has invalid persistency {persistency}");
        return new SlotStateData(ReadName(s.Slice(16, NameDataLength)), BinaryPrimitives.ReadUInt32LittleEndian(s[80..]), (SlotPersistency)persistency,
            BinaryPrimitives.ReadUInt32LittleEndian(s[88..]), BinaryPrimitives.ReadUInt32LittleEndian(s[92..]),
            new Lsn(BinaryPrimitives.ReadUInt64LittleEndian(s[96..])), new Lsn(BinaryPrimitives.ReadUInt64LittleEndian(s[104..])),
            new Lsn(BinaryPrimitives.ReadUInt64LittleEndian(s[112..])), new Lsn(BinaryPrimitives.ReadUInt64LittleEndian(s[120..])),
            s[128] != 0, ReadName(s.Slice(129, NameDataLength)));
    }

    private static void WriteName(Span<byte> field, string name)
    {
        int n = Encoding.UTF8.GetBytes(name, field[..(NameDataLength - 1)]);
        field[n..].Clear();
    }

    private static string ReadName(ReadOnlySpan<byte> field)
    {
        int nul = field.IndexOf((byte)0);
        return Encoding.UTF8.GetString(nul < 0 ? field : field[..nul]);
    }
}
