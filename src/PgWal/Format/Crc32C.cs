// Crc32C: CRC-32C (Castagnoli), PostgreSQL's pg_crc32c. Reflected polynomial 0x82F63B78,
// initial value 0xFFFFFFFF, final XOR 0xFFFFFFFF. Append() is the raw register update with no
// inversion, so a CRC can be built in pieces (records: payload first, then header bytes 0..19).
// On x86-64 the SSE4.2 instruction is used; long inputs run three independent streams over
// adjacent blocks (the instruction has 3-cycle latency but 1-cycle throughput) and combine them
// with precomputed "advance the register over N zero bytes" operators, which are linear in GF(2).
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;

namespace PgWal.Format;

/// <summary>CRC-32C as PostgreSQL computes it for WAL records and pg_control.</summary>
public static class Crc32C
{
    /// <summary>The register value before any byte is fed (PostgreSQL's <c>INIT_CRC32C</c>).</summary>
    public const uint InitialValue = 0xFFFFFFFF;

    // Block sizes for the three-stream path; each needs operators for 1x and 2x its length.
    private const int LargeBlock = 2048;
    private const int SmallBlock = 256;

    private static readonly uint[] s_shiftLarge1 = BuildShiftTable(LargeBlock);
    private static readonly uint[] s_shiftLarge2 = BuildShiftTable(2 * LargeBlock);
    private static readonly uint[] s_shiftSmall1 = BuildShiftTable(SmallBlock);
    private static readonly uint[] s_shiftSmall2 = BuildShiftTable(2 * SmallBlock);

    /// <summary>CRC-32C of <paramref name="data"/> (initialised, finalised).</summary>
    public static uint Compute(ReadOnlySpan<byte> data) => ~Append(InitialValue, data);

    /// <summary>
    /// Feeds <paramref name="data"/> into a running CRC register (PostgreSQL's <c>COMP_CRC32C</c>).
    /// Start from <see cref="InitialValue"/> and finish with <see cref="Finish"/>.
    /// </summary>
    public static uint Append(uint crc, ReadOnlySpan<byte> data)
    {
        ref byte p = ref MemoryMarshal.GetReference(data);
        int length = data.Length;
        if (Sse42.X64.IsSupported)
        {
            if (length >= 3 * SmallBlock)
                return AppendInterleaved(crc, ref p, length);
            return AppendSse(crc, ref p, length);
        }
        return AppendPortable(crc, ref p, length);
    }

    /// <summary>Final inversion (PostgreSQL's <c>FIN_CRC32C</c>).</summary>
    public static uint Finish(uint crc) => ~crc;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint AppendSse(uint crc, ref byte p, int length)
    {
        ulong c = crc;
        int i = 0;
        for (; i + 32 <= length; i += 32)
        {
            c = Sse42.X64.Crc32(c, Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref p, i)));
            c = Sse42.X64.Crc32(c, Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref p, i + 8)));
            c = Sse42.X64.Crc32(c, Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref p, i + 16)));
            c = Sse42.X64.Crc32(c, Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref p, i + 24)));
        }
        for (; i + 8 <= length; i += 8)
            c = Sse42.X64.Crc32(c, Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref p, i)));
        uint r = (uint)c;
        if (i + 4 <= length)
        {
            r = Sse42.Crc32(r, Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref p, i)));
            i += 4;
        }
        for (; i < length; i++)
            r = Sse42.Crc32(r, Unsafe.Add(ref p, i));
        return r;
    }

    private static uint AppendInterleaved(uint crc, ref byte p, int length)
    {
        int offset = 0;
        while (length - offset >= 3 * LargeBlock)
        {
            crc = ThreeStreams(crc, ref Unsafe.Add(ref p, offset), LargeBlock, s_shiftLarge1, s_shiftLarge2);
            offset += 3 * LargeBlock;
        }
        while (length - offset >= 3 * SmallBlock)
        {
            crc = ThreeStreams(crc, ref Unsafe.Add(ref p, offset), SmallBlock, s_shiftSmall1, s_shiftSmall2);
            offset += 3 * SmallBlock;
        }
        return AppendSse(crc, ref Unsafe.Add(ref p, offset), length - offset);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint ThreeStreams(uint crc, ref byte p, int block, uint[] shift1, uint[] shift2)
    {
        ulong a = crc, b = 0, c = 0;
        ref byte pb = ref Unsafe.Add(ref p, block);
        ref byte pc = ref Unsafe.Add(ref p, 2 * block);
        for (int i = 0; i < block; i += 8)
        {
            a = Sse42.X64.Crc32(a, Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref p, i)));
            b = Sse42.X64.Crc32(b, Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref pb, i)));
            c = Sse42.X64.Crc32(c, Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref pc, i)));
        }
        // register(after A||B||C) = advance(a, 2*block) ^ advance(b, block) ^ c
        return Shift(shift2, (uint)a) ^ Shift(shift1, (uint)b) ^ (uint)c;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint Shift(uint[] table, uint crc)
    {
        ref uint t = ref MemoryMarshal.GetArrayDataReference(table);
        return Unsafe.Add(ref t, (int)(crc & 0xFF))
             ^ Unsafe.Add(ref t, 256 + (int)((crc >> 8) & 0xFF))
             ^ Unsafe.Add(ref t, 512 + (int)((crc >> 16) & 0xFF))
             ^ Unsafe.Add(ref t, 768 + (int)(crc >> 24));
    }

    private static uint AppendPortable(uint crc, ref byte p, int length)
    {
        int i = 0;
        for (; i + 8 <= length; i += 8)
            crc = BitOperations.Crc32C(crc, Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref p, i)));
        for (; i < length; i++)
            crc = BitOperations.Crc32C(crc, Unsafe.Add(ref p, i));
        return crc;
    }

    // The register after feeding `zeroBytes` zero bytes is a linear function of the starting
    // register; tabulate it byte-lane by byte-lane (4 x 256 entries) from the 32 basis vectors.
    private static uint[] BuildShiftTable(int zeroBytes)
    {
        Span<byte> zeros = stackalloc byte[zeroBytes];
        zeros.Clear();
        Span<uint> basis = stackalloc uint[32];
        for (int bit = 0; bit < 32; bit++)
            basis[bit] = AppendPortable(1u << bit, ref MemoryMarshal.GetReference(zeros), zeroBytes);
        var table = new uint[4 * 256];
        for (int lane = 0; lane < 4; lane++)
        {
            for (int value = 0; value < 256; value++)
            {
                uint r = 0;
                for (int j = 0; j < 8; j++)
                {
                    if ((value & (1 << j)) != 0)
                        r ^= basis[lane * 8 + j];
                }
                table[lane * 256 + value] = r;
            }
        }
        return table;
    }
}
