// WalStatistics: per resource manager and per record type counts and sizes, rendered exactly as
// pg_waldump --stats / --stats=record (xlogstats.c XLogRecStoreStats, pg_waldump.c
// XLogDumpDisplayStats / XLogDumpStatsRow). Transaction records are keyed by info >> 4 & 7, as
// PostgreSQL does, because their top info bit is a flag.
using PgWal.Diagnostics.Text;
using PgWal.Format;
using PgWal.Read;
using PgWal.Rmgr;

namespace PgWal.Diagnostics.Dump;

/// <summary>Accumulates pg_waldump-style WAL statistics.</summary>
public sealed class WalStatistics
{
    private readonly ulong[] _count = new ulong[256 * 16];
    private readonly ulong[] _recordLength = new ulong[256 * 16];
    private readonly ulong[] _imageLength = new ulong[256 * 16];

    /// <summary>LSN of the first record counted.</summary>
    public Lsn Start { get; set; }

    /// <summary>End of the last record counted (Invalid when none).</summary>
    public Lsn End { get; private set; }

    private WalVersion _version;   // of the records counted: record type names differ between versions

    /// <summary>Records counted.</summary>
    public ulong Count { get; private set; }

    /// <summary>Counts <paramref name="record"/>.</summary>
    public void Add(DecodedRecord record)
    {
        Count++;
        _version = record.Version;
        byte rmid = record.RmgrId;
        int recid = record.Info >> 4;
        if (rmid == RmgrIds.Transaction)
            recid &= 0x07;
        int slot = rmid * 16 + recid;
        _count[slot]++;
        _recordLength[slot] += record.RecordLength;
        _imageLength[slot] += record.ImageLength;
        End = record.NextLsn;
    }

    /// <summary>Renders the table (nothing when no record was counted).</summary>
    public void Render(TextBuffer o, RecordDescribers describers, bool perRecord)
    {
        if (!End.IsValid)
            return;
        ulong totalCount = 0, totalRec = 0, totalFpi = 0;
        for (int slot = 0; slot < _count.Length; slot++)
        {
            if (!RmgrIds.IsValid((byte)(slot / 16)))
                continue;
            totalCount += _count[slot];
            totalRec += _recordLength[slot];
            totalFpi += _imageLength[slot];
        }
        ulong totalLen = totalRec + totalFpi;

        o.Append("WAL statistics between "u8).AppendLsn(Start).Append(" and "u8).AppendLsn(End).Append(":\n"u8);
        HeaderLine(o, "Type", "N", "(%)", "Record size", "(%)", "FPI size", "(%)", "Combined size", "(%)");
        HeaderLine(o, "----", "-", "---", "-----------", "---", "--------", "---", "-------------", "---");
        for (int rmid = 0; rmid < 256; rmid++)
        {
            if (!RmgrIds.IsValid((byte)rmid))
                continue;
            var describer = describers[(byte)rmid];
            if (!perRecord)
            {
                ulong count = 0, rec = 0, fpi = 0;
                for (int r = 0; r < 16; r++)
                {
                    count += _count[rmid * 16 + r];
                    rec += _recordLength[rmid * 16 + r];
                    fpi += _imageLength[rmid * 16 + r];
                }
                if (RmgrIds.IsCustom((byte)rmid) && count == 0)
                    continue;
                Row(o, describer.Name, count, totalCount, rec, totalRec, fpi, totalFpi, rec + fpi, totalLen);
            }
            else
            {
                for (int r = 0; r < 16; r++)
                {
                    int slot = rmid * 16 + r;
                    if (_count[slot] == 0)
                        continue;
                    string id = describer.Identify((byte)(r << 4), _version) ?? $"UNKNOWN ({r << 4:x})";
                    Row(o, $"{describer.Name}/{id}", _count[slot], totalCount, _recordLength[slot], totalRec,
                        _imageLength[slot], totalFpi, _recordLength[slot] + _imageLength[slot], totalLen);
                }
            }
        }
        o.AppendPadded("", -27).Append(' ').AppendPadded("--------", 20).Append(' ').AppendPadded("", 8)
            .Append(' ').AppendPadded("--------", 20).Append(' ').AppendPadded("", 8)
            .Append(' ').AppendPadded("--------", 20).Append(' ').AppendPadded("", 8)
            .Append(' ').AppendPadded("--------", 20).Append('\n');
        double recPct = totalLen != 0 ? 100 * (double)totalRec / totalLen : 0;
        double fpiPct = totalLen != 0 ? 100 * (double)totalFpi / totalLen : 0;
        o.AppendPadded("Total", -27).Append(' ')
            .AppendUInt(Count, 20).Append(' ').AppendPadded("", -9)
            .AppendUInt(totalRec, 20).Append(' ').AppendPadded($"[{PgTimestamp.FormatFixed2(recPct)}%]", -9)
            .AppendUInt(totalFpi, 20).Append(' ').AppendPadded($"[{PgTimestamp.FormatFixed2(fpiPct)}%]", -9)
            .AppendUInt(totalLen, 20).Append(' ').AppendPadded("[100%]", -6).Append('\n');
    }

    private static void HeaderLine(TextBuffer o, string a, string b, string c, string d, string e, string f, string g, string h, string i)
        => o.AppendPadded(a, -27).Append(' ').AppendPadded(b, 20).Append(' ').AppendPadded(c, 8).Append(' ')
            .AppendPadded(d, 20).Append(' ').AppendPadded(e, 8).Append(' ').AppendPadded(f, 20).Append(' ')
            .AppendPadded(g, 8).Append(' ').AppendPadded(h, 20).Append(' ').AppendPadded(i, 8).Append('\n');

    private static void Row(TextBuffer o, string name, ulong n, ulong totalCount, ulong rec, ulong totalRec,
        ulong fpi, ulong totalFpi, ulong tot, ulong totalLen)
    {
        double nPct = totalCount != 0 ? 100 * (double)n / totalCount : 0;
        double recPct = totalRec != 0 ? 100 * (double)rec / totalRec : 0;
        double fpiPct = totalFpi != 0 ? 100 * (double)fpi / totalFpi : 0;
        double totPct = totalLen != 0 ? 100 * (double)tot / totalLen : 0;
        o.AppendPadded(name, -27).Append(' ')
            .AppendUInt(n, 20).Append(" ("u8).AppendFixed2(nPct, 6).Append(") "u8)
            .AppendUInt(rec, 20).Append(" ("u8).AppendFixed2(recPct, 6).Append(") "u8)
            .AppendUInt(fpi, 20).Append(" ("u8).AppendFixed2(fpiPct, 6).Append(") "u8)
            .AppendUInt(tot, 20).Append(" ("u8).AppendFixed2(totPct, 6).Append(")\n"u8);
    }
}
