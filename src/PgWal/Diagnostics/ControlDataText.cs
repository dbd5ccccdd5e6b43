// ControlDataText: the exact standard output of PostgreSQL 15's pg_controldata (src/bin/pg_controldata/
// pg_controldata.c) in the C locale: the CRC and WAL-segment-size warnings, then one "label: value"
// line per field, labels padded to column 39. Times are strftime("%c") of localtime(): C locale
// "%a %b %e %H:%M:%S %Y", or "???" when localtime() fails (tm_year outside int). The zone offset
// comes from TimeZoneInfo.Local, which rounds local mean time (zone offsets before standard time,
// e.g. -4:56:02 in New York before 1883) to whole minutes, so only such old times can differ from libc.
// pg_controldata's stderr (the byte-ordering warning) is not part of this text.
using System.Globalization;
using System.Text;
using PgWal.Format;

namespace PgWal.Diagnostics;

/// <summary>Formats a <see cref="ControlFileData"/> exactly as <c>pg_controldata</c> 15 prints it.</summary>
public static class ControlDataText
{
    private const string CrcWarning =
        "WARNING: Calculated CRC checksum does not match value stored in file.\n" +
        "Either the file is corrupt, or it has a different layout than this program\n" +
        "is expecting.  The results below are untrustworthy.\n\n";

    private static readonly string[] s_weekdays = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
    private static readonly string[] s_months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

    /// <summary>
    /// pg_controldata's standard output for <paramref name="data"/> (LANG=C / LC_ALL=C), every line
    /// ending in <c>\n</c>. <paramref name="crcMatches"/> false adds pg_controldata's CRC warning.
    /// </summary>
    public static string Format(ControlFileData data, bool crcMatches) => Format(data, crcMatches, TimeZoneInfo.Local);

    /// <summary>As <see cref="Format(ControlFileData, bool)"/>, with times in <paramref name="zone"/> (pg_controldata's TZ).</summary>
    internal static string Format(ControlFileData data, bool crcMatches, TimeZoneInfo zone)
    {
        ArgumentNullException.ThrowIfNull(data);
        var o = new StringBuilder(2048);
        if (!crcMatches)
            o.Append(CrcWarning);

        int segmentSize = unchecked((int)data.WalSegmentSize); // pg_controldata: int WalSegSz
        if (!WalGeometry.IsValidSegmentSize(segmentSize))
        {
            o.Append("WARNING: invalid WAL segment size\n");
            o.Append(Inv($"The WAL segment size stored in the file, {segmentSize} {(segmentSize == 1 ? "byte" : "bytes")}, is not a power of two\n"));
            o.Append("between 1 MB and 1 GB.  The file is corrupt and the results below are\nuntrustworthy.\n\n");
        }

        CheckPoint cp = data.CheckPointCopy;
        Line(o, "pg_control version number:", Inv($"{data.ControlVersion}"));
        Line(o, "Catalog version number:", Inv($"{data.CatalogVersionNo}"));
        Line(o, "Database system identifier:", Inv($"{data.SystemIdentifier}"));
        Line(o, "Database cluster state:", StateText(data.State));
        Line(o, "pg_control last modified:", CTime(data.Time, zone));
        Line(o, "Latest checkpoint location:", data.CheckPointLocation.ToString());
        Line(o, "Latest checkpoint's REDO location:", cp.Redo.ToString());
        Line(o, "Latest checkpoint's REDO WAL file:", RedoFileName(cp.Redo, cp.ThisTimeline, segmentSize));
        Line(o, "Latest checkpoint's TimeLineID:", Inv($"{cp.ThisTimeline.Value}"));
        Line(o, "Latest checkpoint's PrevTimeLineID:", Inv($"{cp.PrevTimeline.Value}"));
        Line(o, "Latest checkpoint's full_page_writes:", OnOff(cp.FullPageWrites));
        Line(o, "Latest checkpoint's NextXID:", Inv($"{(uint)(cp.NextXid >> 32)}:{(uint)cp.NextXid}"));
        Line(o, "Latest checkpoint's NextOID:", Inv($"{cp.NextOid}"));
        Line(o, "Latest checkpoint's NextMultiXactId:", Inv($"{cp.NextMulti}"));
        Line(o, "Latest checkpoint's NextMultiOffset:", Inv($"{cp.NextMultiOffset}"));
        Line(o, "Latest checkpoint's oldestXID:", Inv($"{cp.OldestXid}"));
        Line(o, "Latest checkpoint's oldestXID's DB:", Inv($"{cp.OldestXidDb}"));
        Line(o, "Latest checkpoint's oldestActiveXID:", Inv($"{cp.OldestActiveXid}"));
        Line(o, "Latest checkpoint's oldestMultiXid:", Inv($"{cp.OldestMulti}"));
        Line(o, "Latest checkpoint's oldestMulti's DB:", Inv($"{cp.OldestMultiDb}"));
        Line(o, "Latest checkpoint's oldestCommitTsXid:", Inv($"{cp.OldestCommitTsXid}"));
        Line(o, "Latest checkpoint's newestCommitTsXid:", Inv($"{cp.NewestCommitTsXid}"));
        Line(o, "Time of latest checkpoint:", CTime(cp.Time, zone));
        Line(o, "Fake LSN counter for unlogged rels:", data.UnloggedLsn.ToString());
        Line(o, "Minimum recovery ending location:", data.MinRecoveryPoint.ToString());
        Line(o, "Min recovery ending loc's timeline:", Inv($"{data.MinRecoveryPointTimeline.Value}"));
        Line(o, "Backup start location:", data.BackupStartPoint.ToString());
        Line(o, "Backup end location:", data.BackupEndPoint.ToString());
        Line(o, "End-of-backup record required:", data.BackupEndRequired ? "yes" : "no");
        Line(o, "wal_level setting:", WalLevelText(data.WalLevel));
        Line(o, "wal_log_hints setting:", OnOff(data.WalLogHints));
        Line(o, "max_connections setting:", Inv($"{data.MaxConnections}"));
        Line(o, "max_worker_processes setting:", Inv($"{data.MaxWorkerProcesses}"));
        Line(o, "max_wal_senders setting:", Inv($"{data.MaxWalSenders}"));
        Line(o, "max_prepared_xacts setting:", Inv($"{data.MaxPreparedXacts}"));
        Line(o, "max_locks_per_xact setting:", Inv($"{data.MaxLocksPerXact}"));
        Line(o, "track_commit_timestamp setting:", OnOff(data.TrackCommitTimestamp));
        Line(o, "Maximum data alignment:", Inv($"{data.MaxAlign}"));
        Line(o, "Database block size:", Inv($"{data.BlockSize}"));
        Line(o, "Blocks per segment of large relation:", Inv($"{data.RelSegSize}"));
        Line(o, "WAL block size:", Inv($"{data.WalBlockSize}"));
        Line(o, "Bytes per WAL segment:", Inv($"{data.WalSegmentSize}"));
        Line(o, "Maximum length of identifiers:", Inv($"{data.NameDataLen}"));
        Line(o, "Maximum columns in an index:", Inv($"{data.IndexMaxKeys}"));
        Line(o, "Maximum size of a TOAST chunk:", Inv($"{data.ToastMaxChunkSize}"));
        Line(o, "Size of a large-object chunk:", Inv($"{data.LargeObjectBlockSize}"));
        Line(o, "Date/time type storage:", "64-bit integers");
        Line(o, "Float8 argument passing:", data.Float8ByVal ? "by value" : "by reference");
        Line(o, "Data page checksum version:", Inv($"{data.DataChecksumVersion}"));
        if (data.DefaultCharSignedness is { } signedness)
            Line(o, "Default char data signedness:", signedness ? "signed" : "unsigned");   // 18 on
        Line(o, "Mock authentication nonce:", data.MockAuthenticationNonce.ToString());
        return o.ToString();
    }

    /// <summary>
    /// C's <c>strftime("%c", localtime(&amp;t))</c> in the C locale, e.g. <c>Thu Jan  1 00:00:00 1970</c>;
    /// <c>???</c> where glibc's <c>localtime</c> fails (the year does not fit <c>tm_year</c>).
    /// </summary>
    public static string CTime(long unixSeconds) => CTime(unixSeconds, TimeZoneInfo.Local);

    /// <summary>As <see cref="CTime(long)"/> in <paramref name="zone"/>.</summary>
    internal static string CTime(long unixSeconds, TimeZoneInfo zone)
    {
        // glibc's limit is |t| < ~6.78e16 (tm_year in int); beyond 1e17 the sum below could overflow.
        if (unixSeconds is > 100_000_000_000_000_000 or < -100_000_000_000_000_000)
            return "???";
        long local = unixSeconds + OffsetSeconds(zone, unixSeconds);
        long days = Math.DivRem(local, 86_400, out long secondOfDay);
        if (secondOfDay < 0)
        {
            days--;
            secondOfDay += 86_400;
        }
        var (year, month, day) = CivilFromDays(days);
        long tmYear = year - 1900;
        if (tmYear is > int.MaxValue or < int.MinValue)
            return "???";
        int weekday = (int)(((days + 4) % 7 + 7) % 7); // 1970-01-01 was a Thursday
        // glibc's %Y prints tm_year + 1900 in int arithmetic: unpadded, signed, wrapping at 2^31.
        int printedYear = unchecked((int)tmYear + 1900);
        return Inv($"{s_weekdays[weekday]} {s_months[month - 1]} {day,2} {secondOfDay / 3600:D2}:{secondOfDay / 60 % 60:D2}:{secondOfDay % 60:D2} {printedYear}");
    }

    // The zone's UTC offset at an instant. TimeZoneInfo covers years 1..9999 only: later instants are
    // moved back by whole 400-year Gregorian cycles (same calendar, so the zone's yearly rule gives the
    // same offset, as glibc's POSIX-TZ tail does); earlier ones take the year-1 offset (local mean time).
    private static long OffsetSeconds(TimeZoneInfo zone, long unixSeconds)
    {
        const long MinSeconds = -62_135_596_800, MaxSeconds = 253_402_300_799;
        const long Cycle = 146_097L * 86_400; // 400 years
        if (unixSeconds > MaxSeconds)
            unixSeconds -= ((unixSeconds - MaxSeconds) / Cycle + 1) * Cycle;
        else if (unixSeconds < MinSeconds)
            unixSeconds = MinSeconds;
        return (long)zone.GetUtcOffset(DateTimeOffset.FromUnixTimeSeconds(unixSeconds)).TotalSeconds;
    }

    // Proleptic Gregorian date of a day count from 1970-01-01 (H. Hinnant's civil_from_days).
    private static (long Year, int Month, int Day) CivilFromDays(long days)
    {
        long z = days + 719_468;
        long era = (z >= 0 ? z : z - 146_096) / 146_097;
        long dayOfEra = z - era * 146_097;
        long yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365;
        long dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100);
        long mp = (5 * dayOfYear + 2) / 153;
        int day = (int)(dayOfYear - (153 * mp + 2) / 5 + 1);
        int month = (int)(mp < 10 ? mp + 3 : mp - 9);
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day);
    }

    // XLByteToSeg + XLogFileName with pg_controldata's int segment size, which may be corrupt
    // (SegmentFileName needs a valid WalGeometry); "???" when it is not positive.
    private static string RedoFileName(Lsn redo, TimelineId timeline, int segmentSize)
    {
        if (segmentSize <= 0)
            return "???";
        ulong segment = redo.Value / (ulong)segmentSize;
        ulong perId = 0x1_0000_0000UL / (ulong)segmentSize;
        return Inv($"{timeline.Value:X8}{(uint)(segment / perId):X8}{(uint)(segment % perId):X8}");
    }

    internal static string StateText(DatabaseState state) => state switch
    {
        DatabaseState.StartingUp => "starting up",
        DatabaseState.ShutDown => "shut down",
        DatabaseState.ShutDownInRecovery => "shut down in recovery",
        DatabaseState.ShuttingDown => "shutting down",
        DatabaseState.InCrashRecovery => "in crash recovery",
        DatabaseState.InArchiveRecovery => "in archive recovery",
        DatabaseState.InProduction => "in production",
        _ => "unrecognized status code",
    };

    private static string WalLevelText(int level) => level switch
    {
        0 => "minimal",
        1 => "replica",
        2 => "logical",
        _ => "unrecognized wal_level",
    };

    private static string OnOff(bool value) => value ? "on" : "off";

    // Values start in column 39: labels are padded with spaces to 38 characters. The two commit-ts
    // labels are 38 characters themselves, so no space follows them (as in pg_controldata.c).
    private static void Line(StringBuilder o, string label, string value)
    {
        o.Append(label);
        if (label.Length < 38)
            o.Append(' ', 38 - label.Length);
        o.Append(value).Append('\n');
    }

    private static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
