// UnalignedLE: little-endian reads at a byte offset from a reference, without a bounds check each.
// For decoders on their hot path that have already checked, once, that the bytes are there (a
// record header after slicing it to its 24 bytes, a block header after comparing the bytes left).
// Everything else reads through BinaryPrimitives on spans.
using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace PgWal.Format;

internal static class UnalignedLE
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static byte U8(ref byte start, int offset) => Unsafe.Add(ref start, offset);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ushort U16(ref byte start, int offset)
    {
        ushort v = Unsafe.ReadUnaligned<ushort>(ref Unsafe.Add(ref start, offset));
        return BitConverter.IsLittleEndian ? v : BinaryPrimitives.ReverseEndianness(v);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint U32(ref byte start, int offset)
    {
        uint v = Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref start, offset));
        return BitConverter.IsLittleEndian ? v : BinaryPrimitives.ReverseEndianness(v);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong U64(ref byte start, int offset)
    {
        ulong v = Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref start, offset));
        return BitConverter.IsLittleEndian ? v : BinaryPrimitives.ReverseEndianness(v);
    }
}
