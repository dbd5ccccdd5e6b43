// ReplicationClient (BASE_BACKUP): PostgreSQL 15's response (reference §2.9): result set 1 (start
// LSN, timeline), result set 2 (tablespaces, the main directory last), one CopyOut whose CopyData
// payloads start with 'n' (a new archive: name, tablespace path), 'd' (archive or manifest bytes),
// 'p' (progress: bytes so far), 'm' (the manifest follows), then result set 3 (end LSN, timeline),
// CommandComplete, ReadyForQuery. Split in two calls because pg_basebackup starts its WAL
// streamer between the tablespace list and the archives. Archive names are checked as
// pg_basebackup checks them; bytes go to an IBaseBackupSink as they arrive.
using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using PgWal.Replication.Protocol;

namespace PgWal.Replication.Client;

/// <summary>A tablespace row of BASE_BACKUP's second result set.</summary>
/// <param name="Oid">The tablespace OID, null for the main data directory.</param>
/// <param name="Location">The tablespace directory, null for the main data directory.</param>
/// <param name="SizeKilobytes">Estimated size in kB (with PROGRESS), or null.</param>
public sealed record BackupTablespace(uint? Oid, string? Location, long? SizeKilobytes);

/// <summary>Where a base backup starts.</summary>
/// <param name="StartLsn">The backup's start (the checkpoint's redo point).</param>
/// <param name="Timeline">Its timeline.</param>
/// <param name="Tablespaces">The archives to come, the main directory last.</param>
public sealed record BaseBackupStart(Lsn StartLsn, TimelineId Timeline, IReadOnlyList<BackupTablespace> Tablespaces);

/// <summary>Receives a base backup's archives and manifest as they arrive (one task; data valid during the call).</summary>
public interface IBaseBackupSink
{
    /// <summary>A new archive ("base.tar", "&lt;oid&gt;.tar") of the tablespace at <paramref name="tablespacePath"/> ("" for the main directory).</summary>
    void BeginArchive(string name, string tablespacePath);
    /// <summary>Bytes of the current archive.</summary>
    void ArchiveData(ReadOnlySequence<byte> data);
    /// <summary>The current archive is complete.</summary>
    void EndArchive();
    /// <summary>The manifest follows.</summary>
    void BeginManifest();
    /// <summary>Bytes of the manifest.</summary>
    void ManifestData(ReadOnlySequence<byte> data);
    /// <summary>Total archive bytes the server has sent so far.</summary>
    void Progress(long bytesDone);
}

public sealed partial class ReplicationClient
{
    /// <summary>Sends <paramref name="command"/> (a BASE_BACKUP) and reads up to the start of the archives.</summary>
    /// <exception cref="PgServerException">The server refused the backup.</exception>
    public async Task<BaseBackupStart> StartBaseBackupAsync(string command, CancellationToken cancellation = default)
    {
        await SendQueryAsync(command, cancellation).ConfigureAwait(false);
        var results = new List<QueryResult>();
        var assembler = new ResultAssembler();
        while (true)
        {
            var message = await ReadAsync(MaxControlMessage, cancellation).ConfigureAwait(false);
            if (message.Type == (byte)'E')
                throw await ErrorUntilReadyAsync(message, cancellation).ConfigureAwait(false);
            if (message.Type == (byte)'H')
            {
                CheckCopyResponse(message, "CopyOutResponse");
                break;
            }
            if (!assembler.Take(this, message, results))
                throw new ProtocolException($"unexpected message type '{Show(message.Type)}' in the response to BASE_BACKUP");
        }
        if (results.Count != 2 || results[0].Rows.Count != 1 || results[0].Columns.Count < 2)
            throw new ProtocolException("could not initiate base backup: expected the start position (1 row, 2 fields) and the tablespace list before the archives");
        var start = results[0].Rows[0];
        if (results[1].Rows.Count < 1 || results[1].Columns.Count < 3)
            throw new ProtocolException("no data returned from server: the tablespace list is empty");
        var tablespaces = results[1].Rows.Select(r => new BackupTablespace(
            r[0] == null ? null : uint.TryParse(r[0], out uint oid) ? oid : throw new ProtocolException($"invalid tablespace OID \"{r[0]}\""),
            r[1],
            r[2] == null ? null : long.TryParse(r[2], out long size) ? size : throw new ProtocolException($"invalid tablespace size \"{r[2]}\""))).ToList();
        return new BaseBackupStart(ParseLsn("BASE_BACKUP", start[0]), ParseTimeline("BASE_BACKUP", start[1]), tablespaces);
    }

    /// <summary>Reads the archives and manifest into <paramref name="sink"/>, then the end position.</summary>
    /// <returns>The backup's end LSN and timeline.</returns>
    /// <exception cref="PgServerException">The server failed the backup (XX001: a checksum error).</exception>
    public async Task<(Lsn EndLsn, TimelineId Timeline)> ReadBaseBackupAsync(IBaseBackupSink sink, CancellationToken cancellation = default)
    {
        bool inArchive = false, inManifest = false;
        while (true)
        {
            var message = await ReadAsync(MaxCopyMessage, cancellation).ConfigureAwait(false);
            if (message.Type == (byte)'c')
                break;
            if (message.Type == (byte)'E')
                throw await ErrorUntilReadyAsync(message, cancellation).ConfigureAwait(false);
            if (message.Type != (byte)'d')
            {
                HandleAsynchronous(message, "the base backup's COPY");
                continue;
            }
            var payload = message.Body;
            if (payload.Length == 0)
                throw new ProtocolException("empty COPY message in the base backup stream");
            byte kind = payload.FirstSpan[0];
            switch (kind)
            {
                case (byte)'n':
                {
                    if (inManifest)
                        throw new ProtocolException("archives should precede manifest");
                    var body = new PgBodyReader(Span(message)[1..], "new archive");
                    string name = body.ReadCString();
                    string path = body.ReadCString();
                    body.EnsureEnd();
                    if (name.Length == 0 || name[0] == '.' || name.Contains('/') || name.Contains('\\'))
                        throw new ProtocolException($"invalid archive name: \"{name}\"");
                    if (inArchive)
                        sink.EndArchive();
                    sink.BeginArchive(name, path);
                    inArchive = true;
                    break;
                }
                case (byte)'d':
                    if (inManifest)
                        sink.ManifestData(payload.Slice(1));
                    else if (inArchive)
                        sink.ArchiveData(payload.Slice(1));
                    else
                        throw new ProtocolException("unexpected payload data before the first archive");
                    break;
                case (byte)'p':
                {
                    if (payload.Length != 9)
                        throw new ProtocolException($"progress report message of {payload.Length - 1} bytes, expected 8");
                    Span<byte> eight = stackalloc byte[8];
                    payload.Slice(1).CopyTo(eight);
                    sink.Progress(BinaryPrimitives.ReadInt64BigEndian(eight));
                    break;
                }
                case (byte)'m':
                    if (payload.Length != 1 || inManifest)
                        throw new ProtocolException("invalid manifest message");
                    if (inArchive)
                        sink.EndArchive();
                    inArchive = false;
                    inManifest = true;
                    sink.BeginManifest();
                    break;
                default:
                    throw new ProtocolException($"unrecognized archive stream message: \"{Show(kind)}\"");
            }
        }
        if (inArchive)
            sink.EndArchive();
        var results = await ReadResultsAsync(null, "after the base backup's archives", cancellation).ConfigureAwait(false);
        var withRows = results.Where(r => r.Columns.Count > 0).ToList();
        if (withRows.Count != 1 || withRows[0].Rows.Count != 1 || withRows[0].Columns.Count < 2)
            throw new ProtocolException("could not get write-ahead log end position from server: expected 1 row and 2 fields");
        var row = withRows[0].Rows[0];
        return (ParseLsn("BASE_BACKUP", row[0]), ParseTimeline("BASE_BACKUP", row[1]));
    }

    /// <summary>A string literal for a replication command ('' doubles a quote; standard_conforming_strings is on).</summary>
    public static string QuoteLiteral(string value) => "'" + value.Replace("'", "''", StringComparison.Ordinal) + "'";

    /// <summary>BASE_BACKUP as pg_basebackup 15 sends it (reference §2.9).</summary>
    public static string BaseBackupCommand(string label, bool progress, bool fastCheckpoint, bool includeWal, bool waitForArchive,
        bool tablespaceMap, string? manifestChecksums)
    {
        var text = new StringBuilder("BASE_BACKUP ( LABEL ").Append(QuoteLiteral(label));
        if (progress)
            text.Append(",  PROGRESS");
        if (fastCheckpoint)
            text.Append(",  CHECKPOINT 'fast'");
        if (includeWal)
            text.Append(",  WAL");
        if (!waitForArchive)
            text.Append(",  WAIT 0");
        if (tablespaceMap)
            text.Append(",  TABLESPACE_MAP");
        text.Append(",  MANIFEST 'yes'");
        if (manifestChecksums != null)
            text.Append(",  MANIFEST_CHECKSUMS ").Append(QuoteLiteral(manifestChecksums));
        return text.Append(",  TARGET 'client')").ToString();
    }
}
