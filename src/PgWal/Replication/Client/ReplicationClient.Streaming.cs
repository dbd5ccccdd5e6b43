// ReplicationClient (streaming): START_REPLICATION and the COPY-both phase (reference §2.8, §3).
// Server → client: XLogData 'w' (25-byte header: type, dataStart, walEnd, sendTime; then WAL
// bytes), keepalive 'k' (exactly 18 bytes). Client → server: status update 'r' (34 bytes) and
// CopyDone. Every way streaming ends is a result, not a guess (§3.4):
//   server CopyDone (end of a historic timeline, or the answer to ours) → FinishStreamingAsync
//   reads the optional next-timeline row, the two CommandCompletes and ReadyForQuery;
//   CommandComplete inside COPY ("COPY 0", server shutdown) → StreamMessageKind.ServerShutdown;
//   ErrorResponse → PgServerException once ReadyForQuery (or the end of the connection) arrived.
// The hot path allocates nothing: a message's WAL bytes are a slice of the pipe's buffer, valid
// until the next read.
using System.Buffers;
using System.Buffers.Binary;
using PgWal.Replication.Protocol;

namespace PgWal.Replication.Client;

/// <summary>What a read during streaming returned.</summary>
public enum StreamMessageKind
{
    /// <summary>XLogData: <see cref="StreamMessage.Data"/> is WAL from <see cref="StreamMessage.DataStart"/>.</summary>
    XLogData,
    /// <summary>Primary keepalive.</summary>
    Keepalive,
    /// <summary>The server sent CopyDone: call <see cref="ReplicationClient.FinishStreamingAsync"/>.</summary>
    EndOfStream,
    /// <summary>The server ended COPY with CommandComplete (it is shutting down); the connection is over.</summary>
    ServerShutdown,
}

/// <summary>One message of the COPY-both phase; <see cref="Data"/> is valid until the next read.</summary>
public readonly struct StreamMessage
{
    internal StreamMessage(StreamMessageKind kind, Lsn dataStart, Lsn walEnd, long sendTime, bool replyRequested, ReadOnlySequence<byte> data)
    {
        Kind = kind;
        DataStart = dataStart;
        WalEnd = walEnd;
        SendTime = sendTime;
        ReplyRequested = replyRequested;
        Data = data;
    }

    /// <summary>What it is.</summary>
    public StreamMessageKind Kind { get; }
    /// <summary>XLogData: the WAL position of the first byte of <see cref="Data"/>.</summary>
    public Lsn DataStart { get; }
    /// <summary>The server's end of WAL when it sent this (not the end of <see cref="Data"/>).</summary>
    public Lsn WalEnd { get; }
    /// <summary>The server's clock: microseconds since 2000-01-01 UTC.</summary>
    public long SendTime { get; }
    /// <summary>Keepalive: the server wants a status update now.</summary>
    public bool ReplyRequested { get; }
    /// <summary>XLogData: the WAL bytes.</summary>
    public ReadOnlySequence<byte> Data { get; }
    /// <summary>XLogData: the position after the last byte of <see cref="Data"/>.</summary>
    public Lsn DataEnd => DataStart + (ulong)Data.Length;
}

/// <summary>How START_REPLICATION ended: on a historic timeline, the timeline that follows and where.</summary>
/// <param name="NextTimeline">The next timeline (invalid when the stream simply ended).</param>
/// <param name="NextTimelineStart">Where the next timeline starts (the switch point).</param>
public readonly record struct StreamEnd(TimelineId NextTimeline, Lsn NextTimelineStart);

public sealed partial class ReplicationClient
{
    private const int XLogDataHeader = 25;
    private const int KeepaliveLength = 18;
    private const int StatusUpdateLength = 34;
    private static readonly DateTime PostgresEpoch = new(2000, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    private bool _streaming;         // between CopyBothResponse and the end of COPY
    private bool _serverCopyDone;    // the server sent CopyDone
    private bool _clientCopyDone;    // we sent CopyDone

    /// <summary>Whether a whole message is already received (so the next read will not wait): the end of a batch when false.</summary>
    public bool HasBufferedMessage => _connection.HasBufferedMessage;

    /// <summary>Now as PostgreSQL's TimestampTz (microseconds since 2000-01-01 UTC).</summary>
    public static long PgNow() => (DateTime.UtcNow - PostgresEpoch).Ticks / 10;

    /// <summary>
    /// START_REPLICATION [SLOT "slot"] start TIMELINE tli. Returns null when COPY-both began (read
    /// with <see cref="ReadStreamAsync"/>), or the end directly when the server answered without
    /// COPY (a historic timeline whose switch point is at or before <paramref name="start"/>).
    /// </summary>
    /// <exception cref="PgServerException">The server refused (unknown slot, timeline not in its history ...).</exception>
    public async Task<StreamEnd?> StartReplicationAsync(string? slot, Lsn start, TimelineId timeline, CancellationToken cancellation = default)
    {
        string command = $"START_REPLICATION {(slot != null ? "SLOT " + QuoteIdentifier(slot) + " " : "")}{start} TIMELINE {timeline.Value}";
        await SendQueryAsync(command, cancellation).ConfigureAwait(false);
        _serverCopyDone = _clientCopyDone = false;
        while (true)
        {
            var message = await ReadAsync(MaxControlMessage, cancellation).ConfigureAwait(false);
            switch (message.Type)
            {
                case (byte)'W':
                    CheckCopyResponse(message, "CopyBothResponse");
                    _streaming = true;
                    return null;
                case (byte)'E':
                    throw await ErrorUntilReadyAsync(message, cancellation).ConfigureAwait(false);
                case (byte)'T' or (byte)'D' or (byte)'C':
                    // No COPY: the next-timeline result right away (§2.8 step 3).
                    return await ReadStreamResultsAsync(message, cancellation).ConfigureAwait(false);
                default:
                    HandleAsynchronous(message, "START_REPLICATION");
                    break;
            }
        }
    }

    private static void CheckCopyResponse(PgMessage message, string name)
    {
        var body = new PgBodyReader(Span(message), name);
        body.ReadByte();
        int columns = body.ReadInt16();
        if (columns < 0)
            throw new ProtocolException($"invalid {name} message: negative column count");
        for (int i = 0; i < columns; i++)
            body.ReadInt16();
        body.EnsureEnd();
    }

    /// <summary>Reads the next streaming message.</summary>
    /// <exception cref="PgServerException">The server ended streaming with an error.</exception>
    /// <exception cref="ProtocolException">A malformed or unexpected message.</exception>
    public async ValueTask<StreamMessage> ReadStreamAsync(CancellationToken cancellation = default)
    {
        if (!_streaming)
            throw new InvalidOperationException("not streaming");
        while (true)
        {
            var message = await ReadAsync(MaxCopyMessage, cancellation).ConfigureAwait(false);
            switch (message.Type)
            {
                case (byte)'d':
                    if (_serverCopyDone)
                        throw new ProtocolException("CopyData after CopyDone");
                    return DecodeCopyData(message.Body);
                case (byte)'c':
                    if (message.Body.Length != 0)
                        throw new ProtocolException($"invalid CopyDone message: {message.Body.Length} bytes of body");
                    _serverCopyDone = true;
                    return new StreamMessage(StreamMessageKind.EndOfStream, default, default, 0, false, default);
                case (byte)'C':
                    // Shutdown: "COPY 0" with no CopyDone (§3.4); the server closes the connection next.
                    _streaming = false;
                    return new StreamMessage(StreamMessageKind.ServerShutdown, default, default, 0, false, default);
                case (byte)'E':
                    _streaming = false;
                    throw await ErrorUntilReadyAsync(message, cancellation).ConfigureAwait(false);
                default:
                    HandleAsynchronous(message, "streaming");
                    break;
            }
        }
    }

    /// <summary>Decodes one CopyData payload of the COPY-both phase.</summary>
    /// <exception cref="ProtocolException">An unknown type, or a length that does not fit it.</exception>
    public static StreamMessage DecodeCopyData(ReadOnlySequence<byte> payload)
    {
        if (payload.Length == 0)
            throw new ProtocolException("streaming header too small: an empty CopyData message");
        Span<byte> header = stackalloc byte[XLogDataHeader];
        byte type = payload.FirstSpan[0];
        switch (type)
        {
            case (byte)'w':
            {
                if (payload.Length < XLogDataHeader)
                    throw new ProtocolException($"streaming header too small: XLogData of {payload.Length} bytes, the header alone is {XLogDataHeader}");
                payload.Slice(0, XLogDataHeader).CopyTo(header);
                var start = new Lsn(BinaryPrimitives.ReadUInt64BigEndian(header[1..]));
                var walEnd = new Lsn(BinaryPrimitives.ReadUInt64BigEndian(header[9..]));
                long time = BinaryPrimitives.ReadInt64BigEndian(header[17..]);
                var data = payload.Slice(XLogDataHeader);
                if (ulong.MaxValue - start.Value < (ulong)data.Length)
                    throw new ProtocolException($"invalid XLogData: {data.Length} bytes from {start} pass the end of the WAL address space");
                return new StreamMessage(StreamMessageKind.XLogData, start, walEnd, time, false, data);
            }
            case (byte)'k':
            {
                if (payload.Length != KeepaliveLength)
                    throw new ProtocolException($"invalid keepalive message received from primary: {payload.Length} bytes, expected {KeepaliveLength}");
                payload.CopyTo(header);
                byte reply = header[17];
                if (reply > 1)
                    throw new ProtocolException($"invalid keepalive message received from primary: reply flag {reply}");
                return new StreamMessage(StreamMessageKind.Keepalive, default,
                    new Lsn(BinaryPrimitives.ReadUInt64BigEndian(header[1..])), BinaryPrimitives.ReadInt64BigEndian(header[9..]), reply == 1, default);
            }
            default:
                throw new ProtocolException($"unrecognized streaming header: \"{Show(type)}\"");
        }
    }

    /// <summary>Sends a standby status update ('r': write, flush, apply, now, reply flag); Invalid = unknown.</summary>
    public async ValueTask SendStatusAsync(Lsn write, Lsn flush, Lsn apply, bool replyRequested = false, CancellationToken cancellation = default)
    {
        await _connection.WriteLock.WaitAsync(cancellation).ConfigureAwait(false);
        try
        {
            // After our CopyDone the server reads no more status (it would take it for a command).
            if (!_streaming || _clientCopyDone)
                return;
            Span<byte> status = stackalloc byte[StatusUpdateLength];
            status[0] = (byte)'r';
            BinaryPrimitives.WriteUInt64BigEndian(status[1..], write.Value);
            BinaryPrimitives.WriteUInt64BigEndian(status[9..], flush.Value);
            BinaryPrimitives.WriteUInt64BigEndian(status[17..], apply.Value);
            BinaryPrimitives.WriteInt64BigEndian(status[25..], PgNow());
            status[33] = replyRequested ? (byte)1 : (byte)0;
            _connection.Writer.CopyData(status);
            await _connection.FlushAsync(cancellation).ConfigureAwait(false);
        }
        finally
        {
            _connection.WriteLock.Release();
        }
    }

    /// <summary>Sends CopyDone (once): asks the server to end streaming. Safe from another task than the reader.</summary>
    public async Task SendCopyDoneAsync(CancellationToken cancellation = default)
    {
        await _connection.WriteLock.WaitAsync(cancellation).ConfigureAwait(false);
        try
        {
            if (!_streaming || _clientCopyDone)
                return;
            _clientCopyDone = true;
            _connection.Writer.CopyDone();
            await _connection.FlushAsync(cancellation).ConfigureAwait(false);
        }
        finally
        {
            _connection.WriteLock.Release();
        }
    }

    /// <summary>
    /// Ends streaming after the server's CopyDone (or to stop: sends ours, skips WAL still in
    /// flight): reads the next-timeline row if any, the CommandCompletes and ReadyForQuery.
    /// </summary>
    public async Task<StreamEnd> FinishStreamingAsync(CancellationToken cancellation = default)
    {
        await SendCopyDoneAsync(cancellation).ConfigureAwait(false);
        while (!_serverCopyDone)
        {
            var message = await ReadAsync(MaxCopyMessage, cancellation).ConfigureAwait(false);
            switch (message.Type)
            {
                case (byte)'d':
                    DecodeCopyData(message.Body);   // validated, then dropped: we asked to stop
                    break;
                case (byte)'c':
                    _serverCopyDone = true;
                    break;
                case (byte)'E':
                    _streaming = false;
                    throw await ErrorUntilReadyAsync(message, cancellation).ConfigureAwait(false);
                case (byte)'C':
                    // The server ended COPY on its own (shutdown) while we were stopping.
                    _streaming = false;
                    return default;
                default:
                    HandleAsynchronous(message, "the end of streaming");
                    break;
            }
        }
        _streaming = false;
        var first = await ReadAsync(MaxControlMessage, cancellation).ConfigureAwait(false);
        return await ReadStreamResultsAsync(first, cancellation).ConfigureAwait(false);
    }

    // After COPY: [RowDescription DataRow CommandComplete] CommandComplete ReadyForQuery.
    private async Task<StreamEnd> ReadStreamResultsAsync(PgMessage first, CancellationToken cancellation)
    {
        var results = await ReadResultsAsync(first, "after the end of streaming", cancellation).ConfigureAwait(false);
        var withRows = results.Where(r => r.Columns.Count > 0).ToList();
        if (withRows.Count == 0)
            return default;
        if (withRows.Count != 1 || withRows[0].Rows.Count != 1 || withRows[0].Columns.Count != 2)
            throw new ProtocolException("unexpected result set after end-of-timeline: expected 1 row and 2 fields");
        var row = withRows[0].Rows[0];
        return new StreamEnd(ParseTimeline("START_REPLICATION", row[0]), ParseLsn("START_REPLICATION", row[1]));
    }

    // An ErrorResponse ends the command; ReadyForQuery follows unless the server closed the connection.
    private async Task<PgServerException> ErrorUntilReadyAsync(PgMessage errorMessage, CancellationToken cancellation)
    {
        var error = PgServerException.Decode(Span(errorMessage));
        try
        {
            while (true)
            {
                var message = await _connection.ReadMessageAsync(MaxCopyMessage, cancellation).ConfigureAwait(false);
                if (message is null || message.Value.Type == (byte)'Z')
                    break;
            }
        }
        catch (IOException)
        {
            // the connection ended after the error: the error is what matters
        }
        return error;
    }
}
