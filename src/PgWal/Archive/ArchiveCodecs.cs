// ArchiveCodecs: whole-file compression for the repository, through the system's liblz4 and libzstd
// (the same libraries as full-page images). Lengths are checked before anything is allocated.
using PgWal.Compression;
using PgWal.Format;

namespace PgWal.Archive;

internal static class ArchiveCodecs
{
    // Largest content the repository stores: a 1 GB segment (PostgreSQL's maximum).
    public const int MaxOriginalLength = 1024 * 1024 * 1024;

    public static string Name(ArchiveCodec codec) => codec switch
    {
        ArchiveCodec.Lz4 => "lz4",
        ArchiveCodec.Zstd => "zstd",
        _ => "none",
    };

    public static bool TryParse(string name, out ArchiveCodec codec)
    {
        codec = name switch { "lz4" => ArchiveCodec.Lz4, "zstd" => ArchiveCodec.Zstd, "none" => ArchiveCodec.None, _ => (ArchiveCodec)255 };
        return codec != (ArchiveCodec)255;
    }

    /// <summary>Throws when the codec's system library is missing.</summary>
    public static void RequireAvailable(ArchiveCodec codec)
    {
        if (codec == ArchiveCodec.Lz4 && !NativeCodecs.IsLz4Available)
            throw new ArchiveException("lz4 compression needs the system's liblz4 (Debian: apt-get install liblz4-1)");
        if (codec == ArchiveCodec.Zstd && !NativeCodecs.IsZstdAvailable)
            throw new ArchiveException("zstd compression needs the system's libzstd (Debian: apt-get install libzstd1)");
    }
}
