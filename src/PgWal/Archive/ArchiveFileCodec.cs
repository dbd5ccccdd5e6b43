// ArchiveFileCodec: writes and reads archive files (Format/ArchiveFileHeader) as streams of chunks,
// with two buffers of about ChunkSize each: a 1 GB segment costs no more memory than a 16 MB one,
// and nothing is allocated from a length read off the disk before that length is checked.
using Microsoft.Win32.SafeHandles;
using PgWal.Compression;
using PgWal.Format;
using PgWal.Storage;

namespace PgWal.Archive;

/// <summary>Receives the original bytes of an archived file, in order, a chunk at a time.</summary>
internal delegate void ChunkSink(ReadOnlySpan<byte> chunk, long offset);

internal static class ArchiveFileCodec
{
    private static int Bound(ArchiveCodec codec) => codec switch
    {
        ArchiveCodec.Lz4 => NativeCodecs.Lz4CompressBound(ArchiveFileHeader.ChunkSize),
        ArchiveCodec.Zstd => NativeCodecs.ZstdCompressBound(ArchiveFileHeader.ChunkSize),
        _ => ArchiveFileHeader.ChunkSize,
    };

    /// <summary>Writes <paramref name="length"/> bytes of <paramref name="source"/> as an archive file into <paramref name="target"/> (fsynced).</summary>
    public static void Write(SafeFileHandle source, long length, string sourcePath, SafeFileHandle target, string targetPath, ArchiveCodec codec)
    {
        ArchiveCodecs.RequireAvailable(codec);
        var input = GC.AllocateUninitializedArray<byte>(ArchiveFileHeader.ChunkSize);
        var output = codec == ArchiveCodec.None ? input : GC.AllocateUninitializedArray<byte>(ArchiveFileHeader.ChunkHeaderSize + Bound(codec));
        uint originalCrc = Crc32C.InitialValue, storedCrc = Crc32C.InitialValue;
        long read = 0, written = ArchiveFileHeader.Size;
        while (read < length)
        {
            int want = (int)Math.Min(ArchiveFileHeader.ChunkSize, length - read);
            int got = FileSystemWalStorage.ReadFully(source, input.AsSpan(0, want), read);
            if (got != want)
                throw new ArchiveException($"could not read file \"{sourcePath}\": it shrank to {read + got} bytes while being archived");
            originalCrc = Crc32C.Append(originalCrc, input.AsSpan(0, want));
            ReadOnlySpan<byte> stored;
            if (codec == ArchiveCodec.None)
            {
                stored = input.AsSpan(0, want);
            }
            else
            {
                var body = output.AsSpan(ArchiveFileHeader.ChunkHeaderSize);
                int n = codec == ArchiveCodec.Lz4 ? NativeCodecs.Lz4Compress(input.AsSpan(0, want), body) : NativeCodecs.ZstdCompress(input.AsSpan(0, want), body);
                if (n <= 0)
                    throw new ArchiveException($"{ArchiveCodecs.Name(codec)} compression of \"{sourcePath}\" failed at offset {read}");
                System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(output, (uint)n);
                stored = output.AsSpan(0, ArchiveFileHeader.ChunkHeaderSize + n);
            }
            storedCrc = Crc32C.Append(storedCrc, stored);
            RandomAccess.Write(target, stored, written);
            written += stored.Length;
            read += want;
        }
        var header = new ArchiveFileHeader(codec, (ulong)length, (ulong)(written - ArchiveFileHeader.Size), Crc32C.Finish(originalCrc), Crc32C.Finish(storedCrc));
        Span<byte> head = stackalloc byte[ArchiveFileHeader.Size];
        header.Write(head);
        RandomAccess.Write(target, head, 0);
        FileSystemWalStorage.SyncHandle(target, dataOnly: false, targetPath);
    }

    /// <summary>
    /// Reads the archive file at <paramref name="path"/>, giving its original bytes to
    /// <paramref name="sink"/> in order, and checks the header, every chunk and both checksums.
    /// The sink's bytes are provisional until this returns: damage found later throws.
    /// </summary>
    /// <exception cref="ArchiveException">The file is damaged (<see cref="ArchiveException.Damaged"/>).</exception>
    public static ArchiveFileHeader Read(SafeFileHandle file, string path, ChunkSink sink)
    {
        long fileLength = RandomAccess.GetLength(file);
        Span<byte> head = stackalloc byte[ArchiveFileHeader.Size];
        int got = FileSystemWalStorage.ReadFully(file, head, 0);
        if (ArchiveFileHeader.TryRead(head[..got], out var header) is { } problem)
            throw Damaged(path, problem);
        if (header.StoredLength != (ulong)(fileLength - ArchiveFileHeader.Size))
            throw Damaged(path, $"header says {header.StoredLength} stored bytes, the file has {fileLength - ArchiveFileHeader.Size}");
        if (header.OriginalLength > ArchiveCodecs.MaxOriginalLength)
            throw Damaged(path, $"original length {header.OriginalLength} is beyond {ArchiveCodecs.MaxOriginalLength}");
        if (header.Codec == ArchiveCodec.None && header.OriginalLength != header.StoredLength)
            throw Damaged(path, $"uncompressed, yet {header.OriginalLength} original and {header.StoredLength} stored bytes");
        ArchiveCodecs.RequireAvailable(header.Codec);
        int bound = Bound(header.Codec);
        var stored = GC.AllocateUninitializedArray<byte>(bound);
        var original = header.Codec == ArchiveCodec.None ? stored : GC.AllocateUninitializedArray<byte>(ArchiveFileHeader.ChunkSize);
        uint originalCrc = Crc32C.InitialValue, storedCrc = Crc32C.InitialValue;
        long position = ArchiveFileHeader.Size, produced = 0;
        Span<byte> lengthBytes = stackalloc byte[ArchiveFileHeader.ChunkHeaderSize];
        while ((ulong)produced < header.OriginalLength)
        {
            int want = (int)Math.Min(ArchiveFileHeader.ChunkSize, (long)header.OriginalLength - produced);
            if (header.Codec == ArchiveCodec.None)
            {
                if (FileSystemWalStorage.ReadFully(file, original.AsSpan(0, want), position) != want)
                    throw Damaged(path, $"ends at {position}, inside its data");
                position += want;
                storedCrc = Crc32C.Append(storedCrc, original.AsSpan(0, want));
            }
            else
            {
                if (FileSystemWalStorage.ReadFully(file, lengthBytes, position) != lengthBytes.Length)
                    throw Damaged(path, $"ends at {position}, inside chunk {produced / ArchiveFileHeader.ChunkSize}");
                uint chunkLength = System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(lengthBytes);
                if (chunkLength == 0 || chunkLength > bound || position + ArchiveFileHeader.ChunkHeaderSize + chunkLength > fileLength)
                    throw Damaged(path, $"chunk {produced / ArchiveFileHeader.ChunkSize} at offset {position} has an impossible length {chunkLength}");
                storedCrc = Crc32C.Append(storedCrc, lengthBytes);
                var chunk = stored.AsSpan(0, (int)chunkLength);
                FileSystemWalStorage.ReadFully(file, chunk, position + ArchiveFileHeader.ChunkHeaderSize);
                storedCrc = Crc32C.Append(storedCrc, chunk);
                int n = header.Codec == ArchiveCodec.Lz4 ? NativeCodecs.Lz4Decompress(chunk, original.AsSpan(0, want)) : NativeCodecs.ZstdDecompress(chunk, original.AsSpan(0, want));
                if (n != want)
                    throw Damaged(path, $"chunk {produced / ArchiveFileHeader.ChunkSize} at offset {position} does not decompress to {want} bytes");
                position += ArchiveFileHeader.ChunkHeaderSize + chunkLength;
            }
            originalCrc = Crc32C.Append(originalCrc, original.AsSpan(0, want));
            sink(original.AsSpan(0, want), produced);
            produced += want;
        }
        if (position != fileLength)
            throw Damaged(path, $"{fileLength - position} bytes follow the last chunk");
        if (Crc32C.Finish(storedCrc) != header.StoredCrc)
            throw Damaged(path, $"stored data checksum mismatch (header {header.StoredCrc:X8}, computed {Crc32C.Finish(storedCrc):X8})");
        if (Crc32C.Finish(originalCrc) != header.OriginalCrc)
            throw Damaged(path, $"restored data checksum mismatch (header {header.OriginalCrc:X8}, computed {Crc32C.Finish(originalCrc):X8})");
        return header;
    }

    private static ArchiveException Damaged(string path, string problem) => new($"archive file \"{path}\" is damaged: {problem}", damaged: true);
}
