// NativeCodecs: lz4 and zstd through the system's liblz4 / libzstd (P/Invoke), the same libraries
// PostgreSQL links for wal_compression = lz4 | zstd. lz4 images are raw LZ4 blocks
// (LZ4_compress_default / LZ4_decompress_safe); zstd images are zstd frames (ZSTD_compress at
// ZSTD_CLEVEL_DEFAULT / ZSTD_decompress). A missing library is reported, not thrown from a static
// constructor, so reading WAL without compressed images never needs either library.
using System.Reflection;
using System.Runtime.InteropServices;

namespace PgWal.Compression;

/// <summary>The system's lz4 and zstd libraries, as PostgreSQL uses them for full-page images.</summary>
public static partial class NativeCodecs
{
    private const string Lz4Library = "pgwal_lz4";
    private const string ZstdLibrary = "pgwal_zstd";

    // zstd's ZSTD_CLEVEL_DEFAULT, what PostgreSQL passes to ZSTD_compress.
    private const int ZstdDefaultLevel = 3;

    static NativeCodecs()
    {
        NativeLibrary.SetDllImportResolver(typeof(NativeCodecs).Assembly, Resolve);
    }

    private static IntPtr Resolve(string name, Assembly assembly, DllImportSearchPath? path)
    {
        string[] candidates = name switch
        {
            Lz4Library => ["liblz4.so.1", "liblz4.so", "liblz4.1.dylib", "liblz4.dylib", "lz4"],
            ZstdLibrary => ["libzstd.so.1", "libzstd.so", "libzstd.1.dylib", "libzstd.dylib", "zstd"],
            _ => [],
        };
        foreach (var candidate in candidates)
        {
            if (NativeLibrary.TryLoad(candidate, assembly, path, out var handle))
                return handle;
        }
        return IntPtr.Zero;
    }

    /// <summary>True when liblz4 can be loaded.</summary>
    public static bool IsLz4Available => Probe(static () => Lz4VersionNumber());

    /// <summary>True when libzstd can be loaded.</summary>
    public static bool IsZstdAvailable => Probe(static () => (int)ZstdVersionNumber());

    private static bool Probe(Func<int> call)
    {
        try
        {
            return call() > 0;
        }
        catch (DllNotFoundException)
        {
            return false;
        }
        catch (EntryPointNotFoundException)
        {
            return false;
        }
    }

    /// <summary>Compresses into a raw LZ4 block; returns the compressed length, or 0 when it does not fit.</summary>
    public static unsafe int Lz4Compress(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        fixed (byte* s = source)
        fixed (byte* d = destination)
            return LZ4_compress_default(s, d, source.Length, destination.Length);
    }

    /// <summary>Decompresses a raw LZ4 block; returns the output length, or a value &lt;= 0 on corrupt input.</summary>
    public static unsafe int Lz4Decompress(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        fixed (byte* s = source)
        fixed (byte* d = destination)
            return LZ4_decompress_safe(s, d, source.Length, destination.Length);
    }

    /// <summary>Worst-case LZ4 output size for <paramref name="inputLength"/> bytes.</summary>
    public static int Lz4CompressBound(int inputLength) => LZ4_compressBound(inputLength);

    /// <summary>Compresses into a zstd frame at the default level; returns the length, or -1 on failure.</summary>
    public static unsafe int ZstdCompress(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        fixed (byte* s = source)
        fixed (byte* d = destination)
        {
            nuint r = ZSTD_compress(d, (nuint)destination.Length, s, (nuint)source.Length, ZstdDefaultLevel);
            return ZSTD_isError(r) != 0 ? -1 : (int)r;
        }
    }

    /// <summary>Decompresses a zstd frame; returns the output length, or -1 on corrupt input.</summary>
    public static unsafe int ZstdDecompress(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        fixed (byte* s = source)
        fixed (byte* d = destination)
        {
            nuint r = ZSTD_decompress(d, (nuint)destination.Length, s, (nuint)source.Length);
            return ZSTD_isError(r) != 0 ? -1 : (int)r;
        }
    }

    /// <summary>Worst-case zstd output size for <paramref name="inputLength"/> bytes.</summary>
    public static int ZstdCompressBound(int inputLength) => (int)ZSTD_compressBound((nuint)inputLength);

    [LibraryImport(Lz4Library, EntryPoint = "LZ4_versionNumber")]
    private static partial int Lz4VersionNumber();

    [LibraryImport(Lz4Library)]
    private static unsafe partial int LZ4_compress_default(byte* src, byte* dst, int srcSize, int dstCapacity);

    [LibraryImport(Lz4Library)]
    private static unsafe partial int LZ4_decompress_safe(byte* src, byte* dst, int compressedSize, int dstCapacity);

    [LibraryImport(Lz4Library)]
    private static partial int LZ4_compressBound(int inputSize);

    [LibraryImport(ZstdLibrary, EntryPoint = "ZSTD_versionNumber")]
    private static partial uint ZstdVersionNumber();

    [LibraryImport(ZstdLibrary)]
    private static unsafe partial nuint ZSTD_compress(byte* dst, nuint dstCapacity, byte* src, nuint srcSize, int compressionLevel);

    [LibraryImport(ZstdLibrary)]
    private static unsafe partial nuint ZSTD_decompress(byte* dst, nuint dstCapacity, byte* src, nuint compressedSize);

    [LibraryImport(ZstdLibrary)]
    private static partial uint ZSTD_isError(nuint code);

    [LibraryImport(ZstdLibrary)]
    private static partial nuint ZSTD_compressBound(nuint srcSize);
}
