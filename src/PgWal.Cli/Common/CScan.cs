// CScan: the sscanf conversions pg_waldump uses to read option values, with C's leniency:
// leading whitespace is skipped, "%u" accepts a sign (negative values wrap), "%X" accepts an
// optional 0x prefix, and trailing text after the last conversion is ignored; and pg_resetwal's
// whole-string strtoul.
namespace PgWal.Cli.Common;

internal static class CScan
{
    /// <summary><c>sscanf(s, "%u")</c>.</summary>
    public static bool TryUInt(ReadOnlySpan<char> s, out uint value) => TryUInt(ref s, out value);

    /// <summary><c>sscanf(s, "%d")</c>.</summary>
    public static bool TryInt(ReadOnlySpan<char> s, out int value)
    {
        value = 0;
        if (!TryInteger(ref s, 10, out bool negative, out ulong magnitude, out bool overflow))
            return false;
        long v = overflow || magnitude > long.MaxValue ? (negative ? long.MinValue : long.MaxValue) : (negative ? -(long)magnitude : (long)magnitude);
        value = unchecked((int)v);
        return true;
    }

    /// <summary><c>sscanf(s, "%X/%X")</c> into an LSN.</summary>
    public static bool TryLsn(ReadOnlySpan<char> s, out Lsn lsn)
    {
        lsn = default;
        if (!TryHex(ref s, out uint hi) || s.IsEmpty || s[0] != '/')
            return false;
        s = s[1..];
        if (!TryHex(ref s, out uint lo))
            return false;
        lsn = Lsn.FromParts(hi, lo);
        return true;
    }

    /// <summary><c>sscanf(s, "%u/%u/%u")</c>; returns how many conversions succeeded.</summary>
    public static int ScanRelation(ReadOnlySpan<char> s, out uint a, out uint b, out uint c)
    {
        a = b = c = 0;
        if (!TryUInt(ref s, out a))
            return 0;
        if (s.IsEmpty || s[0] != '/')
            return 1;
        s = s[1..];
        if (!TryUInt(ref s, out b))
            return 1;
        if (s.IsEmpty || s[0] != '/')
            return 2;
        s = s[1..];
        return TryUInt(ref s, out c) ? 3 : 2;
    }

    /// <summary><c>sscanf(s, "custom%03d")</c>.</summary>
    public static bool TryCustomRmgr(ReadOnlySpan<char> s, out int id)
    {
        id = 0;
        if (!s.StartsWith("custom", StringComparison.Ordinal))
            return false;
        s = s[6..];
        // %03d: at most three characters, sign included, after optional whitespace.
        s = s.TrimStart(" \t\n\v\f\r");
        int take = Math.Min(3, s.Length);
        var field = s[..take];
        int end = 0;
        if (end < field.Length && (field[end] == '+' || field[end] == '-'))
            end++;
        int digitsStart = end;
        while (end < field.Length && char.IsAsciiDigit(field[end]))
            end++;
        if (end == digitsStart)
            return false;
        id = int.Parse(field[..end], System.Globalization.CultureInfo.InvariantCulture);
        return true;
    }

    /// <summary>
    /// <c>strtoul(s, &amp;end, 0)</c> where the whole string must be the number (pg_resetwal's check:
    /// <c>end == s || *end != '\0' || errno != 0</c> is an error): base from the prefix (0x hex,
    /// 0 octal, else decimal), a sign (negatives wrap), overflow rejected (ERANGE).
    /// </summary>
    public static bool TryStrtoulWhole(ReadOnlySpan<char> s, out ulong value)
    {
        value = 0;
        var t = s.TrimStart(" \t\n\v\f\r");
        bool negative = false;
        if (!t.IsEmpty && (t[0] == '+' || t[0] == '-'))
        {
            negative = t[0] == '-';
            t = t[1..];
        }
        int radix = 10;
        if (t.Length >= 2 && t[0] == '0' && (t[1] == 'x' || t[1] == 'X') && t.Length >= 3 && Uri.IsHexDigit(t[2]))
        {
            radix = 16;
            t = t[2..];
        }
        else if (t.Length >= 1 && t[0] == '0')
        {
            radix = 8;
        }
        if (t.IsEmpty)
            return false;
        ulong magnitude = 0;
        foreach (char c in t)
        {
            int d = Uri.IsHexDigit(c) ? Uri.FromHex(c) : -1;
            if (d < 0 || d >= radix || magnitude > (ulong.MaxValue - (ulong)d) / (ulong)radix)
                return false;   // trailing text, or ERANGE
            magnitude = magnitude * (ulong)radix + (ulong)d;
        }
        value = negative ? unchecked(0 - magnitude) : magnitude;
        return true;
    }

    private static bool TryUInt(ref ReadOnlySpan<char> s, out uint value) => TryUnsigned(ref s, 10, out value);

    private static bool TryHex(ref ReadOnlySpan<char> s, out uint value) => TryUnsigned(ref s, 16, out value);

    // "%u" / "%X": strtoul's value (negatives wrap, overflow saturates) truncated to 32 bits.
    private static bool TryUnsigned(ref ReadOnlySpan<char> s, int radix, out uint value)
    {
        value = 0;
        if (!TryInteger(ref s, radix, out bool negative, out ulong magnitude, out bool overflow))
            return false;
        ulong v = overflow ? ulong.MaxValue : (negative ? unchecked(0 - magnitude) : magnitude);
        value = unchecked((uint)v);
        return true;
    }

    // strtoul-style: whitespace, sign, optional 0x for base 16, digits. Consumes what it parsed.
    private static bool TryInteger(ref ReadOnlySpan<char> s, int radix, out bool negative, out ulong magnitude, out bool overflow)
    {
        negative = false;
        magnitude = 0;
        overflow = false;
        var t = s.TrimStart(" \t\n\v\f\r");
        if (!t.IsEmpty && (t[0] == '+' || t[0] == '-'))
        {
            negative = t[0] == '-';
            t = t[1..];
        }
        if (radix == 16 && t.Length >= 3 && t[0] == '0' && (t[1] == 'x' || t[1] == 'X') && Uri.IsHexDigit(t[2]))
            t = t[2..];
        int n = 0;
        while (n < t.Length)
        {
            int d = radix == 16 ? (Uri.IsHexDigit(t[n]) ? Uri.FromHex(t[n]) : -1) : (char.IsAsciiDigit(t[n]) ? t[n] - '0' : -1);
            if (d < 0)
                break;
            if (magnitude > (ulong.MaxValue - (ulong)d) / (ulong)radix)
                overflow = true;
            else
                magnitude = magnitude * (ulong)radix + (ulong)d;
            n++;
        }
        if (n == 0)
            return false;
        s = t[n..];
        return true;
    }
}
