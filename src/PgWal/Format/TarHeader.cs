// TarHeader: the 512-byte ustar header PostgreSQL's base backups use (tarCreateHeader): name up
// to 99 bytes (directories end in '/'), mode, uid/gid, size and mtime in octal, the checksum over
// the header with its own field as spaces, type '0' file / '5' directory, magic "ustar" version
// "00", owner names. An archive ends with two zero blocks; file data is padded to 512.
using System.Text;

namespace PgWal.Format;

/// <summary>Builds ustar headers.</summary>
public static class TarHeader
{
    /// <summary>A tar block.</summary>
    public const int BlockSize = 512;

    /// <summary>Writes a header for <paramref name="name"/> into <paramref name="header"/> (512 bytes).</summary>
    /// <exception cref="ArgumentException">The name is longer than 99 bytes ("file name too long for tar format").</exception>
    public static void Write(Span<byte> header, string name, bool directory, long size, int mode, DateTimeOffset modified)
    {
        header[..BlockSize].Clear();
        if (directory && !name.EndsWith('/'))
            name += "/";
        int length = Encoding.UTF8.GetByteCount(name);
        if (length > 99)
            throw new ArgumentException($"file name too long for tar format: \"{name}\"", nameof(name));
        Encoding.UTF8.GetBytes(name, header);
        Octal(header.Slice(100, 8), mode & 0xFFF);
        Octal(header.Slice(108, 8), 0);
        Octal(header.Slice(116, 8), 0);
        Octal(header.Slice(124, 12), directory ? 0 : size);
        Octal(header.Slice(136, 12), Math.Max(0, modified.ToUnixTimeSeconds()));
        header[156] = directory ? (byte)'5' : (byte)'0';
        "ustar\0"u8.CopyTo(header[257..]);
        "00"u8.CopyTo(header[263..]);
        "postgres"u8.CopyTo(header[265..]);
        "postgres"u8.CopyTo(header[297..]);
        header.Slice(148, 8).Fill((byte)' ');
        int sum = 0;
        foreach (byte b in header[..BlockSize])
            sum += b;
        Octal(header.Slice(148, 7), sum);   // 6 digits and NUL; the last byte stays a space
    }

    /// <summary>Zero bytes that pad <paramref name="size"/> bytes of data to a block.</summary>
    public static int Padding(long size) => (int)((BlockSize - size % BlockSize) % BlockSize);

    // len-1 octal digits, zero-padded, then NUL.
    private static void Octal(Span<byte> field, long value)
    {
        int digits = field.Length - 1;
        for (int i = digits - 1; i >= 0; i--)
        {
            field[i] = (byte)('0' + (value & 7));
            value >>= 3;
        }
        if (value != 0)
            throw new ArgumentOutOfRangeException(nameof(value), "value too large for a tar header field");
        field[digits] = 0;
    }
}
