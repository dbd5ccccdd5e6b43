// PgConnection: one protocol 3.0 connection over a stream (a socket's NetworkStream, or the
// SslStream TLS put on top of it), read and written through System.IO.Pipelines. The same type
// serves the walsender (server) and the walreceiver and tools (client): framing is
// PgMessageReader's, building is PgMessageWriter's, this only moves bytes.
//
// Reading: a message's body is a slice of the pipe's buffer, valid until the next read from this
// connection (the pipe is advanced past it only then), so a 128 kB XLogData is never copied.
// Reads are not thread-safe: one reader at a time. Writing: Writer builds messages into the pipe;
// FlushAsync sends them. Writes are not thread-safe either: callers that write from two tasks
// (a streaming loop and its reply handler) serialise them with WriteLock.
using System.Buffers;
using System.IO.Pipelines;

namespace PgWal.Replication.Protocol;

/// <summary>A protocol 3.0 connection over a stream.</summary>
public sealed class PgConnection : IAsyncDisposable
{
    private Stream _stream;
    private PipeReader _reader;
    private PipeWriter _writer;
    private ReadOnlySequence<byte> _buffer;   // what the last ReadAsync returned, minus what was taken
    private bool _haveBuffer;                 // _buffer is a live view of the pipe (not yet advanced)
    private bool _completed;                  // the peer closed its side

    /// <summary>Wraps <paramref name="stream"/> (owned: disposed with the connection).</summary>
    public PgConnection(Stream stream)
    {
        _stream = stream;
        (_reader, _writer) = Pipes(stream);
        Writer = new PgMessageWriter(_writer);
    }

    /// <summary>Builds messages into the send pipe; <see cref="FlushAsync"/> sends them.</summary>
    public PgMessageWriter Writer { get; private set; }

    /// <summary>Serialises writers when two tasks write to this connection.</summary>
    public SemaphoreSlim WriteLock { get; } = new(1, 1);

    /// <summary>The stream underneath (after <see cref="UpgradeAsync"/>, the TLS stream).</summary>
    public Stream Stream => _stream;

    private static (PipeReader, PipeWriter) Pipes(Stream stream)
        => (PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: 64 * 1024, minimumReadSize: 16 * 1024, leaveOpen: true)),
            PipeWriter.Create(stream, new StreamPipeWriterOptions(minimumBufferSize: 64 * 1024, leaveOpen: true)));

    /// <summary>
    /// The body of a message of <paramref name="type"/> and exactly <paramref name="bodyLength"/>
    /// bytes, in the send pipe's own memory (no copy: the caller fills it, e.g. by reading a file
    /// into it), then <see cref="CommitMessage"/>. Not committing discards it.
    /// </summary>
    public Span<byte> ReserveMessage(byte type, int bodyLength)
    {
        var span = _writer.GetSpan(5 + bodyLength);
        span[0] = type;
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(span[1..], bodyLength + 4);
        return span.Slice(5, bodyLength);
    }

    /// <summary>Adds the message <see cref="ReserveMessage"/> returned to what will be sent.</summary>
    public void CommitMessage(int bodyLength) => _writer.Advance(5 + bodyLength);

    /// <summary>Sends what <see cref="Writer"/> built.</summary>
    public async ValueTask FlushAsync(CancellationToken cancellation = default)
    {
        var result = await _writer.FlushAsync(cancellation).ConfigureAwait(false);
        if (result.IsCanceled)
            throw new OperationCanceledException(cancellation);
    }

    /// <summary>
    /// Reads the first packet of a connection (StartupMessage, SSLRequest, GSSENCRequest,
    /// CancelRequest); null when the peer closed the connection before sending one.
    /// </summary>
    /// <exception cref="ProtocolException">The packet is malformed, or the connection ended inside it.</exception>
    public async ValueTask<StartupPacket?> ReadStartupAsync(CancellationToken cancellation = default)
    {
        while (true)
        {
            if (_haveBuffer && PgMessageReader.TryReadStartup(ref _buffer, out var packet))
                return packet;
            if (!await FillAsync(cancellation).ConfigureAwait(false))
                return null;
        }
    }

    /// <summary>
    /// Reads one message; null when the peer closed the connection between messages. Its body is
    /// valid until the next read.
    /// </summary>
    /// <param name="maxBodyLength">A longer body is a protocol violation, not an allocation.</param>
    /// <param name="cancellation">Stops the wait for bytes.</param>
    /// <exception cref="ProtocolException">The length is invalid, or the connection ended inside a message.</exception>
    public async ValueTask<PgMessage?> ReadMessageAsync(int maxBodyLength, CancellationToken cancellation = default)
    {
        while (true)
        {
            if (_haveBuffer && PgMessageReader.TryReadMessage(ref _buffer, maxBodyLength, out var message))
                return message;
            if (!await FillAsync(cancellation).ConfigureAwait(false))
                return null;
        }
    }

    /// <summary>Whether a whole message is already buffered (so a read would not wait).</summary>
    public bool HasBufferedMessage
    {
        get
        {
            if (!_haveBuffer)
                return _reader.TryRead(out var result) && Keep(result) && HasBufferedMessage;
            var copy = _buffer;
            try
            {
                return PgMessageReader.TryReadMessage(ref copy, int.MaxValue - 5, out _);
            }
            catch (ProtocolException)
            {
                return true;   // the read will report it
            }
        }
    }

    /// <summary>The peer has closed its side (what is buffered is all there will be).</summary>
    public bool PeerClosed => _completed;

    /// <summary>Bytes received and not yet taken as messages (a TLS upgrade requires none).</summary>
    public long BufferedBytes => _haveBuffer ? _buffer.Length : 0;

    // Advances the pipe past what was taken (invalidating earlier bodies) and waits for more bytes;
    // false at a clean end of input, an error when the input ends inside a packet.
    private async ValueTask<bool> FillAsync(CancellationToken cancellation)
    {
        if (_haveBuffer)
        {
            bool hadPartial = _buffer.Length > 0;
            _reader.AdvanceTo(_buffer.Start, _buffer.End);
            _haveBuffer = false;
            if (_completed)
            {
                if (hadPartial)
                    throw new ProtocolException("unexpected EOF within message length word or body");
                return false;
            }
        }
        var result = await _reader.ReadAsync(cancellation).ConfigureAwait(false);
        if (result.IsCanceled)
            throw new OperationCanceledException(cancellation);
        Keep(result);
        if (result.IsCompleted && result.Buffer.Length == 0)
            return false;
        return true;
    }

    private bool Keep(ReadResult result)
    {
        _buffer = result.Buffer;
        _haveBuffer = true;
        _completed = result.IsCompleted;
        return true;
    }

    /// <summary>
    /// Replaces the stream (after SSLRequest was answered 'S': <paramref name="upgrade"/> runs the
    /// TLS handshake on the current stream and returns the encrypted one).
    /// </summary>
    /// <exception cref="ProtocolException">Bytes arrived after the request, before the handshake.</exception>
    public async ValueTask UpgradeAsync(Func<Stream, ValueTask<Stream>> upgrade)
    {
        if (BufferedBytes > 0)
            throw new ProtocolException("received unencrypted data after SSL request");
        await _writer.FlushAsync().ConfigureAwait(false);
        if (_haveBuffer)
        {
            _reader.AdvanceTo(_buffer.End);
            _haveBuffer = false;
        }
        await _reader.CompleteAsync().ConfigureAwait(false);
        await _writer.CompleteAsync().ConfigureAwait(false);
        _stream = await upgrade(_stream).ConfigureAwait(false);
        (_reader, _writer) = Pipes(_stream);
        Writer = new PgMessageWriter(_writer);
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        try
        {
            await _writer.CompleteAsync().ConfigureAwait(false);
            await _reader.CompleteAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException)
        {
            // the peer is gone; nothing left to send
        }
        await _stream.DisposeAsync().ConfigureAwait(false);
        WriteLock.Dispose();
    }
}
