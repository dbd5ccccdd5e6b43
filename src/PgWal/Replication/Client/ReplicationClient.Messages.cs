// ReplicationClient (messages): reading the server's messages outside COPY, and simple queries
// returning result sets (RowDescription, DataRow of text columns or NULL, CommandComplete) up to
// ReadyForQuery. An ErrorResponse is kept until ReadyForQuery arrives (so the connection stays in
// step and usable) and then thrown as PgServerException.
using System.Buffers;
using System.Text;
using PgWal.Replication.Protocol;

namespace PgWal.Replication.Client;

/// <summary>A column of a result set.</summary>
/// <param name="Name">The column name.</param>
/// <param name="TypeOid">The type's OID (25 text, 23 int4, 20 int8, 26 oid).</param>
public readonly record struct ColumnDescription(string Name, int TypeOid);

/// <summary>One result of a simple query: its columns, its rows of text values (null = NULL) and its command tag.</summary>
/// <param name="Columns">The columns.</param>
/// <param name="Rows">The values as UTF-8 text.</param>
/// <param name="CommandTag">The CommandComplete tag.</param>
/// <param name="RawRows">The same values as the bytes sent (a history file must be kept byte for byte).</param>
public sealed record QueryResult(IReadOnlyList<ColumnDescription> Columns, IReadOnlyList<string?[]> Rows, string CommandTag, IReadOnlyList<byte[]?[]> RawRows);

public sealed partial class ReplicationClient
{
    // A replication command returns a handful of rows; more is a broken or hostile server.
    private const int MaxRows = 100_000;

    // The next message; the end of the connection is an error here.
    private async ValueTask<PgMessage> ReadAsync(int maxBody, CancellationToken cancellation)
        => await _connection.ReadMessageAsync(maxBody, cancellation).ConfigureAwait(false)
            ?? throw new ProtocolException("server closed the connection unexpectedly");

    // A body as one span (copied only when the pipe split it).
    private static ReadOnlySpan<byte> Span(PgMessage message) => message.Body.IsSingleSegment ? message.Body.FirstSpan : message.Body.ToArray();

    // Messages that may arrive at any time: ParameterStatus, NoticeResponse, NotificationResponse.
    // An ErrorResponse here is thrown at once (startup: FATAL; the server closes the connection).
    private void HandleAsynchronous(PgMessage message, string during)
    {
        switch (message.Type)
        {
            case (byte)'S':
            {
                var body = new PgBodyReader(Span(message), "ParameterStatus");
                string name = body.ReadCString();
                string value = body.ReadCString();
                body.EnsureEnd();
                _parameters[name] = value;
                break;
            }
            case (byte)'N':
                Notice?.Invoke(PgServerException.Decode(Span(message)));
                break;
            case (byte)'A':
                break;
            case (byte)'E':
                throw PgServerException.Decode(Span(message));
            default:
                throw new ProtocolException($"unexpected message type '{Show(message.Type)}' during {during}");
        }
    }

    /// <summary>Called with each NoticeResponse (warnings from the server).</summary>
    public Action<PgServerException>? Notice { get; set; }

    internal static string Show(byte type) => PgMessageReader.Show(type);

    /// <summary>Runs <paramref name="command"/> (simple query) and returns its results.</summary>
    /// <exception cref="PgServerException">The server reported an error (the connection stays usable).</exception>
    /// <exception cref="ProtocolException">The server broke the protocol.</exception>
    public async Task<IReadOnlyList<QueryResult>> QueryAsync(string command, CancellationToken cancellation = default)
    {
        await SendQueryAsync(command, cancellation).ConfigureAwait(false);
        return await ReadResultsAsync(null, $"in the response to {CommandName(command)}", cancellation).ConfigureAwait(false);
    }

    /// <summary>
    /// The result sets up to ReadyForQuery (starting with <paramref name="first"/> when it was read
    /// already). An ErrorResponse among them is thrown after ReadyForQuery, so the session stays in step.
    /// </summary>
    /// <param name="first">A message read already, or null.</param>
    /// <param name="where">Where in the exchange, for the error on an unexpected message ("after the end of streaming").</param>
    /// <param name="cancellation">Stops the wait.</param>
    private async Task<List<QueryResult>> ReadResultsAsync(PgMessage? first, string where, CancellationToken cancellation)
    {
        var results = new List<QueryResult>();
        var assembler = new ResultAssembler();
        PgServerException? error = null;
        var message = first ?? await ReadAsync(MaxControlMessage, cancellation).ConfigureAwait(false);
        while (message.Type != (byte)'Z')
        {
            if (message.Type == (byte)'E')
                error ??= PgServerException.Decode(Span(message));
            else if (!assembler.Take(this, message, results))
                throw new ProtocolException($"unexpected message type '{Show(message.Type)}' {where}");
            message = await ReadAsync(MaxControlMessage, cancellation).ConfigureAwait(false);
        }
        if (error != null)
            throw error;
        return results;
    }

    private async ValueTask SendQueryAsync(string command, CancellationToken cancellation)
    {
        await _connection.WriteLock.WaitAsync(cancellation).ConfigureAwait(false);
        try
        {
            _connection.Writer.Query(command);
            await _connection.FlushAsync(cancellation).ConfigureAwait(false);
        }
        finally
        {
            _connection.WriteLock.Release();
        }
    }

    private static string CommandName(string command)
    {
        int space = command.IndexOf(' ', StringComparison.Ordinal);
        return space < 0 ? command : command[..space];
    }

    // Builds result sets from RowDescription / DataRow / CommandComplete / EmptyQueryResponse.
    private sealed class ResultAssembler
    {
        private List<ColumnDescription>? _columns;
        private List<string?[]>? _rows;
        private List<byte[]?[]>? _rawRows;

        // false: not a result-set message.
        public bool Take(ReplicationClient client, PgMessage message, List<QueryResult> results)
        {
            switch (message.Type)
            {
                case (byte)'T':
                    _columns = ReadRowDescription(Span(message));
                    _rows = [];
                    _rawRows = [];
                    return true;
                case (byte)'D':
                    if (_columns == null || _rows == null || _rawRows == null)
                        throw new ProtocolException("server sent data (\"D\" message) without prior row description (\"T\" message)");
                    if (_rows.Count >= MaxRows)
                        throw new ProtocolException($"more than {MaxRows} rows in a replication command's result");
                    var raw = ReadDataRow(Span(message), _columns.Count);
                    _rawRows.Add(raw);
                    _rows.Add(Array.ConvertAll(raw, v => v == null ? null : Encoding.UTF8.GetString(v)));
                    return true;
                case (byte)'C':
                {
                    var body = new PgBodyReader(Span(message), "CommandComplete");
                    string tag = body.ReadCString();
                    body.EnsureEnd();
                    results.Add(new QueryResult(_columns ?? [], _rows ?? [], tag, _rawRows ?? []));
                    _columns = null;
                    _rows = null;
                    _rawRows = null;
                    return true;
                }
                case (byte)'I':
                    return true;
                case (byte)'S' or (byte)'N' or (byte)'A':
                    client.HandleAsynchronous(message, "a command");
                    return true;
                default:
                    return false;
            }
        }
    }

    internal static List<ColumnDescription> ReadRowDescription(ReadOnlySpan<byte> span)
    {
        var body = new PgBodyReader(span, "RowDescription");
        int count = body.ReadInt16();
        if (count < 0)
            throw new ProtocolException($"invalid RowDescription message: negative column count {count}");
        var columns = new List<ColumnDescription>(Math.Min(count, 64));
        for (int i = 0; i < count; i++)
        {
            string name = body.ReadCString();
            body.ReadInt32();                 // table OID
            body.ReadInt16();                 // column number
            int type = body.ReadInt32();
            body.ReadInt16();                 // type length
            body.ReadInt32();                 // type modifier
            short format = body.ReadInt16();
            if (format != 0)
                throw new ProtocolException($"invalid RowDescription message: column \"{name}\" has format {format}, a walsender sends text (0)");
            columns.Add(new ColumnDescription(name, type));
        }
        body.EnsureEnd();
        return columns;
    }

    internal static byte[]?[] ReadDataRow(ReadOnlySpan<byte> span, int expectedColumns)
    {
        var body = new PgBodyReader(span, "DataRow");
        int count = body.ReadInt16();
        if (count != expectedColumns)
            throw new ProtocolException($"unexpected field count in \"D\" message: {count}, the row description has {expectedColumns}");
        var values = new byte[]?[count];
        for (int i = 0; i < count; i++)
        {
            int length = body.ReadInt32();
            if (length == -1)
                continue;
            if (length < 0)
                throw new ProtocolException($"invalid DataRow message: field {i} has length {length}");
            values[i] = body.ReadBytes(length).ToArray();
        }
        body.EnsureEnd();
        return values;
    }
}
