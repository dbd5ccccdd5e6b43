// ReplicationClient (commands): the walsender's one-result commands with PostgreSQL 15's result
// shapes (reference §2): IDENTIFY_SYSTEM, SHOW, TIMELINE_HISTORY, CREATE/DROP/READ_REPLICATION_SLOT.
// Each result is checked for its row and column counts and its values parsed into typed
// positions; a shape that does not match is a ProtocolException naming the command.
using System.Globalization;
using PgWal.Replication.Protocol;

namespace PgWal.Replication.Client;

/// <summary>IDENTIFY_SYSTEM's row.</summary>
/// <param name="SystemIdentifier">The cluster's system identifier.</param>
/// <param name="Timeline">The server's current timeline.</param>
/// <param name="FlushedUpTo">The server's WAL flush position (xlogpos).</param>
/// <param name="DatabaseName">NULL for a physical connection.</param>
public sealed record SystemIdentification(ulong SystemIdentifier, TimelineId Timeline, Lsn FlushedUpTo, string? DatabaseName);

/// <summary>READ_REPLICATION_SLOT's row for an existing slot.</summary>
/// <param name="SlotType">"physical".</param>
/// <param name="RestartLsn">Where the slot keeps WAL from (Invalid while it keeps none).</param>
/// <param name="RestartTimeline">The timeline of <paramref name="RestartLsn"/> (0 when unknown).</param>
public sealed record ReplicationSlotInfo(string SlotType, Lsn RestartLsn, TimelineId RestartTimeline);

/// <summary>A timeline history file as TIMELINE_HISTORY returns it.</summary>
/// <param name="FileName">"%08X.history".</param>
/// <param name="Content">The file's bytes.</param>
public sealed record TimelineHistoryFile(string FileName, byte[] Content);

public sealed partial class ReplicationClient
{
    /// <summary>IDENTIFY_SYSTEM.</summary>
    public async Task<SystemIdentification> IdentifySystemAsync(CancellationToken cancellation = default)
    {
        var row = await SingleRowAsync("IDENTIFY_SYSTEM", 4, cancellation).ConfigureAwait(false);
        if (!ulong.TryParse(row[0], NumberStyles.None, CultureInfo.InvariantCulture, out ulong systemId))
            throw Bad("IDENTIFY_SYSTEM", $"system identifier \"{row[0]}\"");
        return new SystemIdentification(systemId, ParseTimeline("IDENTIFY_SYSTEM", row[1]), ParseLsn("IDENTIFY_SYSTEM", row[2]), row[3]);
    }

    /// <summary>SHOW <paramref name="name"/>: the setting as SQL SHOW prints it (with units).</summary>
    public async Task<string> ShowAsync(string name, CancellationToken cancellation = default)
    {
        var row = await SingleRowAsync("SHOW " + name, 1, cancellation).ConfigureAwait(false);
        return row[0] ?? throw Bad("SHOW", $"NULL value of {name}");
    }

    /// <summary>SHOW wal_segment_size, parsed as pg_receivewal does ("16MB"; MB or GB; a power of two from 1 MB to 1 GB).</summary>
    public async Task<int> ShowWalSegmentSizeAsync(CancellationToken cancellation = default)
    {
        string text = await ShowAsync("wal_segment_size", cancellation).ConfigureAwait(false);
        return ParseWalSegmentSize(text);
    }

    /// <summary>Parses "16MB" / "1GB" into bytes; errors as pg_receivewal's.</summary>
    /// <exception cref="ProtocolException">No unit, an unknown unit, or not a valid segment size.</exception>
    public static int ParseWalSegmentSize(string text)
    {
        int digits = 0;
        while (digits < text.Length && char.IsAsciiDigit(text[digits]))
            digits++;
        if (digits == 0 || text.Length - digits != 2 || !long.TryParse(text.AsSpan(0, digits), NumberStyles.None, CultureInfo.InvariantCulture, out long value))
            throw new ProtocolException($"WAL segment size could not be parsed: \"{text}\"");
        long bytes = text[digits..] switch
        {
            "MB" => value * 1024 * 1024,
            "GB" => value * 1024 * 1024 * 1024,
            _ => throw new ProtocolException($"WAL segment size could not be parsed: \"{text}\""),
        };
        if (!Format.WalGeometry.IsValidSegmentSize(bytes))
            throw new ProtocolException($"WAL segment size must be a power of two between 1 MB and 1 GB, but the remote server reported a value of {bytes} bytes");
        return (int)bytes;
    }

    /// <summary>SHOW data_directory_mode as a mode (0700 or 0750).</summary>
    public async Task<UnixFileMode> ShowDataDirectoryModeAsync(CancellationToken cancellation = default)
    {
        string text = await ShowAsync("data_directory_mode", cancellation).ConfigureAwait(false);
        try
        {
            return (UnixFileMode)Convert.ToInt32(text, 8);
        }
        catch (Exception e) when (e is FormatException or OverflowException or ArgumentException)
        {
            throw new ProtocolException($"invalid data_directory_mode \"{text}\"");
        }
    }

    /// <summary>TIMELINE_HISTORY <paramref name="timeline"/>; the file name must be the one for that timeline, the content is kept byte for byte.</summary>
    public async Task<TimelineHistoryFile> TimelineHistoryAsync(TimelineId timeline, CancellationToken cancellation = default)
    {
        var results = await QueryAsync($"TIMELINE_HISTORY {timeline.Value}", cancellation).ConfigureAwait(false);
        var row = OnlyRow("TIMELINE_HISTORY", results, 2);
        string expected = $"{timeline.Value:X8}.history";
        if (row[0] != expected)
            throw Bad("TIMELINE_HISTORY", $"file name \"{row[0]}\", expected \"{expected}\"");
        var raw = results.First(r => r.Columns.Count > 0).RawRows[0];
        return new TimelineHistoryFile(expected, raw[1] ?? throw Bad("TIMELINE_HISTORY", "NULL content"));
    }

    /// <summary>CREATE_REPLICATION_SLOT "name" [TEMPORARY] PHYSICAL [( RESERVE_WAL)] as pg_receivewal and pg_basebackup send it.</summary>
    /// <returns>The slot's name as the server reports it.</returns>
    public async Task<string> CreateReplicationSlotAsync(string name, bool temporary, bool reserveWal, CancellationToken cancellation = default)
    {
        string command = $"CREATE_REPLICATION_SLOT {QuoteIdentifier(name)}{(temporary ? " TEMPORARY" : "")} PHYSICAL{(reserveWal ? " ( RESERVE_WAL)" : "")}";
        var row = await SingleRowAsync(command, 4, cancellation).ConfigureAwait(false);
        return row[0] ?? throw Bad("CREATE_REPLICATION_SLOT", "NULL slot name");
    }

    /// <summary>DROP_REPLICATION_SLOT "name" [WAIT].</summary>
    public async Task DropReplicationSlotAsync(string name, bool wait = false, CancellationToken cancellation = default)
    {
        var results = await QueryAsync($"DROP_REPLICATION_SLOT {QuoteIdentifier(name)}{(wait ? " WAIT" : "")}", cancellation).ConfigureAwait(false);
        if (results.Any(r => r.Columns.Count > 0))
            throw Bad("DROP_REPLICATION_SLOT", "it returned rows");
    }

    /// <summary>READ_REPLICATION_SLOT name; null when the slot does not exist.</summary>
    public async Task<ReplicationSlotInfo?> ReadReplicationSlotAsync(string name, CancellationToken cancellation = default)
    {
        var row = await SingleRowAsync($"READ_REPLICATION_SLOT {QuoteIdentifier(name)}", 3, cancellation).ConfigureAwait(false);
        if (row[0] == null)
            return null;
        Lsn restart = row[1] == null ? Lsn.Invalid : ParseLsn("READ_REPLICATION_SLOT", row[1]);
        TimelineId tli = row[2] == null ? default : ParseTimeline("READ_REPLICATION_SLOT", row[2]);
        return new ReplicationSlotInfo(row[0]!, restart, tli);
    }

    /// <summary>A slot name or identifier in double quotes ("" for a quote).</summary>
    public static string QuoteIdentifier(string name) => "\"" + name.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    private async Task<string?[]> SingleRowAsync(string command, int columns, CancellationToken cancellation)
        => OnlyRow(CommandName(command), await QueryAsync(command, cancellation).ConfigureAwait(false), columns);

    private static string?[] OnlyRow(string command, IReadOnlyList<QueryResult> results, int columns)
    {
        var withRows = results.Where(r => r.Columns.Count > 0).ToList();
        if (withRows.Count != 1 || withRows[0].Rows.Count != 1 || withRows[0].Columns.Count < columns)
        {
            int rows = withRows.Sum(r => r.Rows.Count);
            int fields = withRows.Count > 0 ? withRows[0].Columns.Count : 0;
            throw new ProtocolException($"could not run {command}: got {rows} rows and {fields} fields, expected 1 rows and {columns} or more fields");
        }
        return withRows[0].Rows[0];
    }

    internal static Lsn ParseLsn(string command, string? text)
        => Lsn.TryParse(text, null, out var lsn) ? lsn : throw Bad(command, $"WAL location \"{text}\"");

    internal static TimelineId ParseTimeline(string command, string? text)
        => uint.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out uint tli) && tli > 0
            ? new TimelineId(tli)
            : throw Bad(command, $"timeline \"{text}\"");

    private static ProtocolException Bad(string command, string what) => new($"invalid response to {command}: {what}");
}
