// PgTimestamp: PostgreSQL time values as its frontend tools print them. timestamptz_to_str
// (pg_waldump's compat.c) converts microseconds since 2000-01-01 to local time with strftime
// "%Y-%m-%d %H:%M:%S", ".%06d" of the C remainder, and the zone abbreviation "%Z"; libc is used
// for the same zone rules and abbreviations. Also C-exact "%.2f" for the statistics tables.
using System.Globalization;
using System.Numerics;
using System.Text;
using PgWal.Storage.Native;

namespace PgWal.Diagnostics;

/// <summary>Formats PostgreSQL timestamps and numbers exactly as PostgreSQL's frontend tools do.</summary>
public static class PgTimestamp
{
    /// <summary>Seconds from the Unix epoch to PostgreSQL's epoch (2000-01-01 UTC).</summary>
    public const long PostgresEpochUnixSeconds = 946_684_800;

    [ThreadStatic] private static long t_cachedSecond;
    [ThreadStatic] private static string? t_cachedPrefix;
    [ThreadStatic] private static string? t_cachedZone;

    /// <summary>Converts a <see cref="DateTimeOffset"/> to a <c>TimestampTz</c> (µs since 2000-01-01 UTC).</summary>
    public static long FromDateTimeOffset(DateTimeOffset time)
        => (time.ToUnixTimeMilliseconds() - PostgresEpochUnixSeconds * 1000) * 1000 + (time.Ticks / 10 % 1000);

    /// <summary>Converts a <c>TimestampTz</c> to a <see cref="DateTimeOffset"/> (UTC).</summary>
    public static DateTimeOffset ToDateTimeOffset(long timestampTz)
        => DateTimeOffset.FromUnixTimeSeconds(PostgresEpochUnixSeconds).AddTicks(timestampTz * 10);

    /// <summary>pg_waldump's <c>timestamptz_to_str</c>, e.g. <c>2026-11-21 09:48:26.745834 UTC</c>.</summary>
    public static string Format(long timestampTz)
    {
        var (prefix, micros, zone) = Parts(timestampTz);
        return $"{prefix}.{FormatMicros(micros)} {zone}";
    }

    /// <summary>C's <c>"%06d"</c> of the microsecond remainder (which is negative before 2000).</summary>
    internal static string FormatMicros(int micros) => micros < 0
        ? "-" + (-micros).ToString("D5", CultureInfo.InvariantCulture)
        : micros.ToString("D6", CultureInfo.InvariantCulture);

    /// <summary>The cached "date time" prefix, the C remainder of microseconds, and the zone abbreviation.</summary>
    internal static (string Prefix, int Micros, string Zone) Parts(long timestampTz)
    {
        long seconds = timestampTz / 1_000_000 + PostgresEpochUnixSeconds; // C division: truncates toward zero
        int micros = (int)(timestampTz % 1_000_000);                         // C remainder: sign of the dividend
        if (t_cachedPrefix is null || t_cachedSecond != seconds)
        {
            (t_cachedPrefix, t_cachedZone) = LocalTime(seconds);
            t_cachedSecond = seconds;
        }
        return (t_cachedPrefix, micros, t_cachedZone!);
    }

    private static unsafe (string Prefix, string Zone) LocalTime(long unixSeconds)
    {
        if (!OperatingSystem.IsWindows())
        {
            try
            {
                var tm = new LibC.Tm();
                long t = unixSeconds;
                if (LibC.localtime_r(ref t, ref tm) != IntPtr.Zero)
                {
                    byte* buf = stackalloc byte[128];
                    byte* fmt = stackalloc byte[3] { (byte)'%', (byte)'Z', 0 };
                    nuint n = LibC.strftime(buf, 128, fmt, ref tm);
                    string zone = Encoding.UTF8.GetString(buf, (int)n);
                    string prefix = string.Create(CultureInfo.InvariantCulture,
                        $"{tm.Year + 1900:D4}-{tm.Mon + 1:D2}-{tm.MDay:D2} {tm.Hour:D2}:{tm.Min:D2}:{tm.Sec:D2}");
                    return (prefix, zone);
                }
            }
            catch (DllNotFoundException)
            {
            }
            catch (EntryPointNotFoundException)
            {
            }
        }
        var local = TimeZoneInfo.ConvertTime(DateTimeOffset.FromUnixTimeSeconds(unixSeconds), TimeZoneInfo.Local);
        return (local.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture),
            TimeZoneInfo.Local.Id == "UTC" || TimeZoneInfo.Local.Id == "Etc/UTC" ? "UTC" : TimeZoneInfo.Local.StandardName);
    }

    /// <summary>
    /// C's <c>printf("%.2f")</c>: rounds the exact binary value, ties to even (glibc), unlike .NET's "F2".
    /// </summary>
    public static string FormatFixed2(double value)
    {
        if (double.IsNaN(value) || double.IsInfinity(value))
            return value.ToString(CultureInfo.InvariantCulture);
        bool negative = value < 0 || (value == 0 && double.IsNegative(value));
        double abs = Math.Abs(value);
        // abs = mantissa * 2^exponent exactly.
        long bits = BitConverter.DoubleToInt64Bits(abs);
        int rawExponent = (int)((bits >> 52) & 0x7FF);
        long mantissa = bits & 0xF_FFFF_FFFF_FFFF;
        if (rawExponent == 0)
            rawExponent = 1;
        else
            mantissa |= 1L << 52;
        int exponent = rawExponent - 1075;
        // hundredths = abs * 100 = mantissa * 100 * 2^exponent; round half to even.
        BigInteger scaled = new BigInteger(mantissa) * 100;
        BigInteger hundredths;
        if (exponent >= 0)
        {
            hundredths = scaled << exponent;
        }
        else
        {
            BigInteger divisor = BigInteger.One << -exponent;
            hundredths = BigInteger.DivRem(scaled, divisor, out BigInteger remainder);
            BigInteger twice = remainder * 2;
            int cmp = twice.CompareTo(divisor);
            if (cmp > 0 || (cmp == 0 && !hundredths.IsEven))
                hundredths += 1;
        }
        BigInteger whole = BigInteger.DivRem(hundredths, 100, out BigInteger frac);
        return string.Create(CultureInfo.InvariantCulture, $"{(negative ? "-" : "")}{whole}.{(int)frac:D2}");
    }
}
