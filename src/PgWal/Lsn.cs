// Lsn: a byte address in the WAL stream (PostgreSQL's XLogRecPtr, xlogdefs.h).
// Text form is PostgreSQL's "%X/%X": high 32 bits, '/', low 32 bits, upper-case hex, no padding.
// pg_waldump prints record addresses with the low half padded to 8 digits; that is the "P" format.
using System.Buffers;
using System.Buffers.Text;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace PgWal;

/// <summary>
/// A position in the write-ahead log: the number of bytes from the start of the WAL stream
/// (PostgreSQL's <c>XLogRecPtr</c>). <see cref="Invalid"/> (0) means "no position".
/// </summary>
/// <remarks>
/// Formats as <c>X/X</c> (e.g. <c>0/1588BB0</c>); the <c>"P"</c> format pads the low half to eight
/// digits as pg_waldump prints record addresses (<c>0/01588BB0</c>).
/// </remarks>
/// <param name="Value">The 64-bit byte address.</param>
public readonly record struct Lsn(ulong Value)
    : IComparable<Lsn>, ISpanFormattable, IUtf8SpanFormattable, ISpanParsable<Lsn>
{
    /// <summary>The invalid position (0), PostgreSQL's <c>InvalidXLogRecPtr</c>.</summary>
    public static readonly Lsn Invalid = default;

    /// <summary>True when this is not <see cref="Invalid"/>.</summary>
    public bool IsValid => Value != 0;

    /// <summary>High 32 bits (PostgreSQL's "xlogid").</summary>
    public uint High => (uint)(Value >> 32);

    /// <summary>Low 32 bits (PostgreSQL's "xrecoff").</summary>
    public uint Low => (uint)Value;

    /// <summary>Builds an LSN from its two 32-bit halves.</summary>
    public static Lsn FromParts(uint high, uint low) => new(((ulong)high << 32) | low);

    /// <summary>The position <paramref name="bytes"/> bytes later.</summary>
    public static Lsn operator +(Lsn lsn, ulong bytes) => new(checked(lsn.Value + bytes));

    /// <summary>The position <paramref name="bytes"/> bytes earlier.</summary>
    public static Lsn operator -(Lsn lsn, ulong bytes) => new(checked(lsn.Value - bytes));

    /// <summary>Number of bytes from <paramref name="earlier"/> to <paramref name="later"/>.</summary>
    public static ulong operator -(Lsn later, Lsn earlier) => checked(later.Value - earlier.Value);

    /// <summary>Rounds up to a multiple of 8 (PostgreSQL's MAXALIGN), where records start.</summary>
    public Lsn AlignUp() => new((Value + 7) & ~7UL);

    /// <inheritdoc/>
    public int CompareTo(Lsn other) => Value.CompareTo(other.Value);

    /// <summary>Compares positions.</summary>
    public static bool operator <(Lsn a, Lsn b) => a.Value < b.Value;
    /// <summary>Compares positions.</summary>
    public static bool operator >(Lsn a, Lsn b) => a.Value > b.Value;
    /// <summary>Compares positions.</summary>
    public static bool operator <=(Lsn a, Lsn b) => a.Value <= b.Value;
    /// <summary>Compares positions.</summary>
    public static bool operator >=(Lsn a, Lsn b) => a.Value >= b.Value;

    /// <summary>The larger of two positions.</summary>
    public static Lsn Max(Lsn a, Lsn b) => a.Value >= b.Value ? a : b;

    /// <summary>The smaller of two positions.</summary>
    public static Lsn Min(Lsn a, Lsn b) => a.Value <= b.Value ? a : b;

    /// <summary>Formats as <c>X/X</c>.</summary>
    public override string ToString() => $"{High:X}/{Low:X}";

    /// <summary>Formats as <c>X/XXXXXXXX</c> (low half padded to 8 digits, as pg_waldump prints).</summary>
    public string ToPaddedString() => $"{High:X}/{Low:X8}";

    /// <summary>Formats with <c>null</c>/<c>""</c> = <c>X/X</c> or <c>"P"</c> = padded low half.</summary>
    public string ToString(string? format, IFormatProvider? formatProvider)
        => IsPadded(format) ? ToPaddedString() : ToString();

    /// <inheritdoc/>
    public bool TryFormat(Span<char> destination, out int charsWritten, ReadOnlySpan<char> format, IFormatProvider? provider)
    {
        charsWritten = 0;
        if (!High.TryFormat(destination, out int a, "X", CultureInfo.InvariantCulture) || a >= destination.Length)
            return false;
        destination[a] = '/';
        if (!Low.TryFormat(destination[(a + 1)..], out int b, IsPadded(format) ? "X8" : "X", CultureInfo.InvariantCulture))
            return false;
        charsWritten = a + 1 + b;
        return true;
    }

    /// <inheritdoc/>
    public bool TryFormat(Span<byte> utf8Destination, out int bytesWritten, ReadOnlySpan<char> format, IFormatProvider? provider)
    {
        bytesWritten = 0;
        if (!Utf8Formatter.TryFormat(High, utf8Destination, out int a, new StandardFormat('X')) || a >= utf8Destination.Length)
            return false;
        utf8Destination[a] = (byte)'/';
        var lowFormat = IsPadded(format) ? new StandardFormat('X', 8) : new StandardFormat('X');
        if (!Utf8Formatter.TryFormat(Low, utf8Destination[(a + 1)..], out int b, lowFormat))
            return false;
        bytesWritten = a + 1 + b;
        return true;
    }

    private static bool IsPadded(ReadOnlySpan<char> format) => format.Length == 1 && (format[0] == 'P' || format[0] == 'p');

    /// <summary>Parses <c>X/X</c> (1–8 hex digits on each side, either case).</summary>
    /// <exception cref="FormatException">The text is not an LSN.</exception>
    public static Lsn Parse(string s) => Parse(s.AsSpan(), null);

    /// <inheritdoc/>
    public static Lsn Parse(string s, IFormatProvider? provider) => Parse(s.AsSpan(), provider);

    /// <inheritdoc/>
    public static Lsn Parse(ReadOnlySpan<char> s, IFormatProvider? provider)
        => TryParse(s, provider, out var lsn) ? lsn : throw new FormatException($"invalid WAL location: \"{s}\"");

    /// <inheritdoc/>
    public static bool TryParse([NotNullWhen(true)] string? s, IFormatProvider? provider, out Lsn result)
        => TryParse(s.AsSpan(), provider, out result);

    /// <summary>Parses <c>X/X</c> (1–8 hex digits on each side, either case).</summary>
    public static bool TryParse(ReadOnlySpan<char> s, out Lsn result) => TryParse(s, null, out result);

    /// <inheritdoc/>
    public static bool TryParse(ReadOnlySpan<char> s, IFormatProvider? provider, out Lsn result)
    {
        result = default;
        int slash = s.IndexOf('/');
        if (slash <= 0 || slash > 8 || s.Length - slash - 1 is < 1 or > 8)
            return false;
        if (!uint.TryParse(s[..slash], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out uint hi) ||
            !uint.TryParse(s[(slash + 1)..], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out uint lo))
            return false;
        result = FromParts(hi, lo);
        return true;
    }
}
