// DescribeText: small helpers shared by the rmgrdesc ports: little-endian field reads at C struct
// offsets, relpathperm() (common/relpath.c, PostgreSQL 15 tablespace directory), "%u/%u/%u"
// relation triples, C's "%g" for doubles, and standby_desc_invalidations() (standbydesc.c), which
// both the Transaction and Standby descriptions use.
using System.Buffers.Binary;
using System.Globalization;
using PgWal.Diagnostics.Text;
using PgWal.Format;

namespace PgWal.Rmgr.Describe;

internal static class DescribeText
{
    /// <summary><c>GLOBALTABLESPACE_OID</c> (pg_global).</summary>
    private const uint GlobalTablespace = 1664;

    /// <summary><c>DEFAULTTABLESPACE_OID</c> (pg_default).</summary>
    private const uint DefaultTablespace = 1663;

    /// <summary><c>sizeof(SharedInvalidationMessage)</c>.</summary>
    internal const int InvalidationMessageSize = 16;

    /// <summary><c>sizeof(RelFileNode)</c>.</summary>
    internal const int RelFileNodeSize = 12;

    internal static ushort U16(ReadOnlySpan<byte> d, int offset) => BinaryPrimitives.ReadUInt16LittleEndian(d[offset..]);

    internal static uint U32(ReadOnlySpan<byte> d, int offset) => BinaryPrimitives.ReadUInt32LittleEndian(d[offset..]);

    internal static int I32(ReadOnlySpan<byte> d, int offset) => BinaryPrimitives.ReadInt32LittleEndian(d[offset..]);

    internal static ulong U64(ReadOnlySpan<byte> d, int offset) => BinaryPrimitives.ReadUInt64LittleEndian(d[offset..]);

    internal static long I64(ReadOnlySpan<byte> d, int offset) => BinaryPrimitives.ReadInt64LittleEndian(d[offset..]);

    /// <summary>C's <c>bool ? 'T' : 'F'</c>.</summary>
    internal static char TF(bool value) => value ? 'T' : 'F';

    /// <summary><c>0x%02X</c>.</summary>
    internal static TextBuffer AppendHex2(this TextBuffer o, uint value) => o.Append("0x"u8).AppendHex(value, 2);

    /// <summary>A RelFileNode at <paramref name="offset"/> as <c>%u/%u/%u</c> (spc/db/rel).</summary>
    internal static TextBuffer AppendRelTriple(this TextBuffer o, ReadOnlySpan<byte> d, int offset)
        => o.AppendUInt(U32(d, offset)).Append('/').AppendUInt(U32(d, offset + 4)).Append('/').AppendUInt(U32(d, offset + 8));

    /// <summary>A FullTransactionId as <c>%u:%u</c> (epoch:xid).</summary>
    /// <summary>
    /// PostgreSQL 16's array_desc over <paramref name="count"/> OffsetNumbers at
    /// <paramref name="offset"/>: " []", or " [" + the numbers joined by ", " + "]". Prints only the
    /// elements the data holds (a damaged record must not throw).
    /// </summary>
    internal static TextBuffer AppendOffsetArray(this TextBuffer o, ReadOnlySpan<byte> d, int offset, int count)
    {
        if (count == 0)
            return o.Append(" []"u8);
        o.Append(" ["u8);
        for (int i = 0; i < count && offset + 2 * i + 2 <= d.Length; i++)
        {
            if (i > 0)
                o.Append(", "u8);
            o.AppendUInt(U16(d, offset + 2 * i));
        }
        return o.Append(']');
    }

    internal static TextBuffer AppendFullXid(this TextBuffer o, ulong fullXid)
        => o.AppendUInt(fullXid >> 32).Append(':').AppendUInt((uint)fullXid);

    /// <summary>
    /// TABLESPACE_VERSION_DIRECTORY, "PG_" major "_" CATALOG_VERSION_NO, of each version's release
    /// (what its tools print; a beta build prints its own catalog version).
    /// </summary>
    internal static ReadOnlySpan<byte> TablespaceVersionDirectory(WalVersion version) => version switch
    {
        WalVersion.Pg16 => "PG_16_202307071"u8,
        WalVersion.Pg17 => "PG_17_202406281"u8,
        WalVersion.Pg18 => "PG_18_202506291"u8,
        _ => "PG_15_202209061"u8,
    };

    /// <summary>
    /// relpathperm() of the RelFileNode at <paramref name="offset"/>: <c>global/REL</c>,
    /// <c>base/DB/REL</c> or <c>pg_tblspc/SPC/PG_MAJOR_CATVERSION/DB/REL</c> (per version), plus <c>_fork</c> for
    /// forks other than main. An out-of-range fork (PostgreSQL would index past forkNames[]) prints "_?".
    /// </summary>
    internal static TextBuffer AppendRelPath(this TextBuffer o, ReadOnlySpan<byte> d, int offset, int fork, WalVersion version = WalVersion.Pg15)
    {
        uint spc = U32(d, offset), db = U32(d, offset + 4), rel = U32(d, offset + 8);
        if (spc == GlobalTablespace)
            o.Append("global/"u8);
        else if (spc == DefaultTablespace)
            o.Append("base/"u8).AppendUInt(db).Append('/');
        else
            o.Append("pg_tblspc/"u8).AppendUInt(spc).Append('/').Append(TablespaceVersionDirectory(version)).Append('/').AppendUInt(db).Append('/');
        o.AppendUInt(rel);
        if (fork != 0)
        {
            o.Append(fork switch
            {
                1 => "_fsm"u8,
                2 => "_vm"u8,
                3 => "_init"u8,
                _ => "_?"u8,
            });
        }
        return o;
    }

    /// <summary>
    /// C's <c>%g</c> (6 significant digits, round-half-even on the exact binary value, trailing zeros
    /// removed, exponent form when the exponent is below -4 or at least 6).
    /// </summary>
    internal static TextBuffer AppendG(this TextBuffer o, double value)
    {
        const int precision = 6;
        bool negative = BitConverter.DoubleToInt64Bits(value) < 0;
        if (double.IsNaN(value))
            return o.Append(negative ? "-nan"u8 : "nan"u8);
        if (negative)
            o.Append('-');
        if (double.IsInfinity(value))
            return o.Append("inf"u8);
        if (value == 0)
            return o.Append('0');

        // "d.ddd…E+xxx" with 40 exact fraction digits (.NET formats exactly at this precision).
        Span<char> text = stackalloc char[64];
        Math.Abs(value).TryFormat(text, out int length, "E40", CultureInfo.InvariantCulture);
        Span<byte> digits = stackalloc byte[41];
        digits[0] = (byte)(text[0] - '0');
        for (int i = 1; i < 41; i++)
            digits[i] = (byte)(text[i + 1] - '0');
        int exponent = int.Parse(text[43..length], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);

        // Round to `precision` digits, ties to even (a tie needs every further digit to be zero).
        bool roundUp = digits[precision] > 5
            || (digits[precision] == 5 && (digits[(precision + 1)..].ContainsAnyExcept((byte)0) || (digits[precision - 1] & 1) != 0));
        if (roundUp)
        {
            int i = precision - 1;
            while (i >= 0 && digits[i] == 9)
                digits[i--] = 0;
            if (i >= 0)
            {
                digits[i]++;
            }
            else
            {
                digits[0] = 1;
                exponent++;
            }
        }
        int significant = precision;
        while (significant > 1 && digits[significant - 1] == 0)
            significant--;

        if (exponent < -4 || exponent >= precision)
        {
            o.Append((char)('0' + digits[0]));
            if (significant > 1)
            {
                o.Append('.');
                for (int i = 1; i < significant; i++)
                    o.Append((char)('0' + digits[i]));
            }
            o.Append('e').Append(exponent < 0 ? '-' : '+');
            int abs = Math.Abs(exponent);
            if (abs < 10)
                o.Append('0');
            return o.AppendUInt((uint)abs);
        }
        if (exponent < 0)
        {
            o.Append("0."u8);
            for (int i = -1; i > exponent; i--)
                o.Append('0');
            for (int i = 0; i < significant; i++)
                o.Append((char)('0' + digits[i]));
            return o;
        }
        for (int i = 0; i <= exponent; i++)
            o.Append((char)('0' + digits[i]));
        if (significant > exponent + 1)
        {
            o.Append('.');
            for (int i = exponent + 1; i < significant; i++)
                o.Append((char)('0' + digits[i]));
        }
        return o;
    }

    /// <summary>
    /// standby_desc_invalidations(): <paramref name="nmsgs"/> 16-byte SharedInvalidationMessages at
    /// <paramref name="offset"/> (only the complete ones present are printed).
    /// </summary>
    internal static void AppendInvalidations(TextBuffer o, ReadOnlySpan<byte> d, int offset, int nmsgs,
        uint dbId, uint tsId, bool relcacheInitFileInval)
    {
        if (nmsgs <= 0)
            return;
        if (relcacheInitFileInval)
            o.Append("; relcache init file inval dbid "u8).AppendUInt(dbId).Append(" tsid "u8).AppendUInt(tsId);
        o.Append("; inval msgs:"u8);
        for (int i = 0; i < nmsgs; i++)
        {
            long at = offset + (long)i * InvalidationMessageSize;
            if (offset < 0 || at + InvalidationMessageSize > d.Length)
                return;
            int m = (int)at;
            sbyte id = (sbyte)d[m];
            switch (id)
            {
                case >= 0:
                    o.Append(" catcache "u8).AppendInt(id);
                    break;
                case -1:
                    o.Append(" catalog "u8).AppendUInt(U32(d, m + 8));
                    break;
                case -2:
                    o.Append(" relcache "u8).AppendUInt(U32(d, m + 8));
                    break;
                case -3:
                    o.Append(" smgr"u8);
                    break;
                case -4:
                    o.Append(" relmap db "u8).AppendUInt(U32(d, m + 4));
                    break;
                case -5:
                    o.Append(" snapshot "u8).AppendUInt(U32(d, m + 8));
                    break;
                default:
                    o.Append(" unrecognized id "u8).AppendInt(id);
                    break;
            }
        }
    }
}
