// CRC-32C throughput next to memcpy on the same buffer: PgWal's three-stream SSE4.2 code,
// a single SSE4.2 stream, and BitOperations.Crc32C (single stream, what .NET offers directly).
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;
using BenchmarkDotNet.Attributes;
using PgWal.Format;

namespace PgWal.Benchmarks;

[MemoryDiagnoser]
public class Crc32CBenchmarks
{
    private byte[] _source = [];
    private byte[] _destination = [];

    [Params(8192, 65536, 1 << 20)]
    public int Size { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _source = new byte[Size];
        _destination = new byte[Size];
        new Random(1).NextBytes(_source);
    }

    [Benchmark(Baseline = true, Description = "memcpy")]
    public void Memcpy() => _source.AsSpan().CopyTo(_destination);

    [Benchmark(Description = "PgWal Crc32C (3 streams)")]
    public uint PgWalCrc() => Crc32C.Compute(_source);

    [Benchmark(Description = "Sse42.X64.Crc32 single stream")]
    public uint Sse42SingleStream()
    {
        ref byte p = ref MemoryMarshal.GetArrayDataReference(_source);
        ulong crc = 0xFFFFFFFF;
        for (int i = 0; i + 8 <= _source.Length; i += 8)
            crc = Sse42.X64.Crc32(crc, Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref p, i)));
        return ~(uint)crc;
    }

    [Benchmark(Description = "BitOperations.Crc32C single stream")]
    public uint BitOperationsSingleStream()
    {
        ref byte p = ref MemoryMarshal.GetArrayDataReference(_source);
        uint crc = 0xFFFFFFFF;
        for (int i = 0; i + 8 <= _source.Length; i += 8)
            crc = BitOperations.Crc32C(crc, Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref p, i)));
        return ~crc;
    }
}
