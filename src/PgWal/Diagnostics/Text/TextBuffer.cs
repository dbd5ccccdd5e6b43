// TextBuffer: a growable UTF-8 buffer with printf-style appenders (PostgreSQL's StringInfo), used
// to produce pg_waldump-identical text without per-record allocations. Integers are formatted
// straight into the byte buffer; strings are assumed to be mostly ASCII.
using System.Runtime.CompilerServices;
using System.Text;

namespace PgWal.Diagnostics.Text;

/// <summary>A reusable UTF-8 text buffer with PostgreSQL <c>StringInfo</c>-like appenders.</summary>
public sealed class TextBuffer
{
    private byte[] _buffer;
    private int _length;

    /// <summary>Creates a buffer with <paramref name="capacity"/> bytes.</summary>
    public TextBuffer(int capacity = 256) => _buffer = new byte[Math.Max(capacity, 16)];

    /// <summary>Bytes written.</summary>
    public int Length => _length;

    /// <summary>The text written so far.</summary>
    public ReadOnlySpan<byte> Written => _buffer.AsSpan(0, _length);

    /// <summary>Empties the buffer (keeps capacity).</summary>
    public void Clear() => _length = 0;

    /// <summary>Cuts the text back to <paramref name="length"/> bytes.</summary>
    public void Truncate(int length) => _length = Math.Min(length, _length);

    /// <summary>The text as a string.</summary>
    public override string ToString() => Encoding.UTF8.GetString(Written);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private Span<byte> Reserve(int bytes)
    {
        if (_length + bytes > _buffer.Length)
            Grow(bytes);
        return _buffer.AsSpan(_length);
    }

    private void Grow(int bytes)
    {
        int size = Math.Max(_buffer.Length * 2, _length + bytes);
        Array.Resize(ref _buffer, size);
    }

    /// <summary>Appends UTF-8 bytes (e.g. a <c>"..."u8</c> literal).</summary>
    public TextBuffer Append(ReadOnlySpan<byte> utf8)
    {
        utf8.CopyTo(Reserve(utf8.Length));
        _length += utf8.Length;
        return this;
    }

    /// <summary>Appends a string.</summary>
    public TextBuffer Append(string? text)
    {
        if (string.IsNullOrEmpty(text))
            return this;
        var dest = Reserve(Encoding.UTF8.GetMaxByteCount(text.Length));
        // Names and descriptions are almost always ASCII: copy chars directly.
        int i = 0;
        for (; i < text.Length; i++)
        {
            char c = text[i];
            if (c >= 0x80)
                break;
            dest[i] = (byte)c;
        }
        _length += i < text.Length ? i + Encoding.UTF8.GetBytes(text.AsSpan(i), dest[i..]) : i;
        return this;
    }

    /// <summary>Appends one ASCII character.</summary>
    public TextBuffer Append(char c)
    {
        if (c < 0x80)
        {
            Reserve(1)[0] = (byte)c;
            _length++;
            return this;
        }
        return Append(c.ToString());
    }

    /// <summary>Appends a NUL-terminated C string held in <paramref name="bytes"/> (all of it when no NUL).</summary>
    public TextBuffer AppendCString(ReadOnlySpan<byte> bytes)
    {
        int nul = bytes.IndexOf((byte)0);
        return Append(nul < 0 ? bytes : bytes[..nul]);
    }

    /// <summary><c>%u</c> / <c>%lu</c>.</summary>
    public TextBuffer AppendUInt(ulong value)
    {
        _length += WriteDecimal(Reserve(20), value);
        return this;
    }

    /// <summary><c>%d</c> / <c>%ld</c>.</summary>
    public TextBuffer AppendInt(long value)
    {
        if (value >= 0)
            return AppendUInt((ulong)value);
        var dest = Reserve(21);
        dest[0] = (byte)'-';
        _length += 1 + WriteDecimal(dest[1..], unchecked(0UL - (ulong)value));
        return this;
    }

    /// <summary><c>%*u</c>: right-aligned in <paramref name="width"/> columns, space padded.</summary>
    public TextBuffer AppendUInt(ulong value, int width)
    {
        int digits = CountDigits(value);
        var dest = Reserve(Math.Max(width, digits));
        int pad = width - digits;
        if (pad > 0)
            dest[..pad].Fill((byte)' ');
        else
            pad = 0;
        WriteDecimal(dest[pad..], value, digits);
        _length += pad + digits;
        return this;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int CountDigits(ulong value)
    {
        int digits = 1;
        while (value >= 10)
        {
            value /= 10;
            digits++;
        }
        return digits;
    }

    private static int WriteDecimal(Span<byte> dest, ulong value) => WriteDecimal(dest, value, CountDigits(value));

    private static int WriteDecimal(Span<byte> dest, ulong value, int digits)
    {
        for (int i = digits - 1; i >= 0; i--)
        {
            ulong q = value / 10;
            dest[i] = (byte)('0' + (value - q * 10));
            value = q;
        }
        return digits;
    }

    /// <summary><c>%*s</c> (right-aligned) or <c>%-*s</c> (left-aligned, negative width).</summary>
    public TextBuffer AppendPadded(string text, int width)
    {
        int len = Encoding.UTF8.GetByteCount(text);
        if (width < 0)
            return Append(text).Pad(-width - len);
        return Pad(width - len).Append(text);
    }

    /// <summary>Appends <paramref name="count"/> spaces (none when not positive).</summary>
    public TextBuffer Pad(int count)
    {
        if (count <= 0)
            return this;
        Reserve(count).Slice(0, count).Fill((byte)' ');
        _length += count;
        return this;
    }

    /// <summary><c>%X</c> (upper) / <c>%x</c> (lower), zero-padded to <paramref name="minDigits"/>.</summary>
    public TextBuffer AppendHex(ulong value, int minDigits = 0, bool upper = true)
    {
        int digits = 1;
        for (ulong v = value >> 4; v != 0; v >>= 4)
            digits++;
        digits = Math.Max(digits, minDigits);
        var dest = Reserve(digits);
        var alphabet = upper ? "0123456789ABCDEF"u8 : "0123456789abcdef"u8;
        for (int i = digits - 1; i >= 0; i--, value >>= 4)
            dest[i] = alphabet[(int)(value & 0xF)];
        _length += digits;
        return this;
    }

    /// <summary>An LSN as <c>%X/%X</c>, or <c>%X/%08X</c> when <paramref name="padded"/>.</summary>
    public TextBuffer AppendLsn(Lsn lsn, bool padded = false)
        => AppendHex(lsn.High).Append('/').AppendHex(lsn.Low, padded ? 8 : 0);

    /// <summary>A PostgreSQL <c>TimestampTz</c> as pg_waldump prints it (local time, microseconds, zone).</summary>
    public TextBuffer AppendTimestamp(long timestampTz)
    {
        var (prefix, micros, zone) = PgTimestamp.Parts(timestampTz);
        Append(prefix).Append('.');
        if (micros >= 0)
        {
            WriteDecimal(Reserve(6), (ulong)micros, 6);
            _length += 6;
        }
        else
        {
            Append(PgTimestamp.FormatMicros(micros));
        }
        return Append(' ').Append(zone);
    }

    /// <summary>
    /// <c>%.2f</c> with C's rounding (exact binary value, ties to even), right-aligned in
    /// <paramref name="width"/> columns.
    /// </summary>
    public TextBuffer AppendFixed2(double value, int width = 0)
    {
        string s = PgTimestamp.FormatFixed2(value);
        return Pad(width - s.Length).Append(s);
    }
}
