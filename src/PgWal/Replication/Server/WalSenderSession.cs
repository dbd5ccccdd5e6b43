// WalSenderSession: one replication connection, as PostgreSQL's walsender backend serves it.
// Two tasks: the reader owns the connection's input for the session's whole life (so a client
// that goes away is noticed at once, also while streaming waits for WAL); it handles what arrives
// during COPY-both itself (status updates, feedback, CopyDone) and hands everything else to the
// command loop through a channel (copied: bodies are only valid until the next read). The command
// loop is the only writer, except the streaming loop it runs. An ERROR ends the command with
// ErrorResponse + ReadyForQuery and drops the session's temporary slots; a FATAL, a protocol
// violation or the peer's end closes the connection.
using System.Buffers;
using System.Diagnostics;
using System.Net;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using PgWal.Replication.Protocol;

namespace PgWal.Replication.Server;

internal sealed partial class WalSenderSession
{
    private const int MaxQueryLength = 1 << 20;       // a replication command is short; this bounds the copy
    private const int MaxCopyMessageLength = 1 << 16; // status updates and feedback are 33 and 24 bytes

    private readonly WalSenderServer _server;
    private readonly PgConnection _connection;
    private readonly ILogger _logger;
    private readonly Channel<(byte Type, byte[] Body)> _commands = Channel.CreateUnbounded<(byte, byte[])>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
    private readonly CancellationTokenSource _lifetime = new();   // the connection is over
    private readonly SemaphoreSlim _wake = new(0, 1);             // WAL flushed, a reply arrived, or streaming must end
    private readonly SemaphoreSlim _queryTaken = new(0, 1);       // the command loop knows whether a query streams
    private int _queryTakenSignalled;                             // once per query
    private CancellationTokenSource? _command;                    // the running command; a CancelRequest cancels it

    // Written by the reader task, read by the streaming loop and by Snapshot.
    private long _lastReceiptTicks = Stopwatch.GetTimestamp();
    private ulong _writeLsn, _flushLsn, _applyLsn, _sentLsn;
    private long _replyTimeTz;
    private int _replyRequested;    // 1: the client asked for a keepalive now
    private int _copyDoneReceived;  // 1: the client ended COPY-both
    private int _streaming;         // 1: COPY-both is on (the reader handles 'd' and 'c')
    private volatile string? _slot; // the slot START_REPLICATION uses
    private long _flushStartedTicks; // >0 while a send is blocked on the socket

    public WalSenderSession(WalSenderServer server, Stream stream, EndPoint? remote, int pid, int secretKey, ILogger logger)
    {
        _server = server;
        _connection = new PgConnection(stream);
        Remote = remote as IPEndPoint ?? new IPEndPoint(IPAddress.Loopback, 0);
        Pid = pid;
        SecretKey = secretKey;
        _logger = logger;
        BackendStart = DateTimeOffset.UtcNow;
    }

    public int Pid { get; }

    public int SecretKey { get; }

    public IPEndPoint Remote { get; }

    public DateTimeOffset BackendStart { get; }

    public string User { get; private set; } = "";

    public string ApplicationName { get; private set; } = "";

    public bool Tls { get; private set; }

    /// <summary>startup, catchup, streaming, backup, stopping (pg_stat_replication.state); "idle" between commands.</summary>
    public volatile string State = "startup";

    /// <summary>Counted against max_wal_senders (authenticated).</summary>
    public bool Counted { get; private set; }

    public LagTracker Lag { get; } = new();

    public void Wake()
    {
        if (_wake.CurrentCount == 0)
        {
            try
            {
                _wake.Release();
            }
            catch (SemaphoreFullException)
            {
                // already awake
            }
        }
    }

    /// <summary>A CancelRequest with this session's key: the running command ends with 57014.</summary>
    public void Cancel()
    {
        try
        {
            Volatile.Read(ref _command)?.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // the command ended meanwhile
        }
        Wake();
    }

    /// <summary>Drops the connection now (timeout, slot invalidated, server abort).</summary>
    public void Abort(string why)
    {
        if (_lifetime.IsCancellationRequested)
            return;
        _logger.LogWarning("terminating walsender process {Pid}: {Why}", Pid, why);
        _lifetime.Cancel();
        try
        {
            _connection.Stream.Dispose();
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException)
        {
            // already gone
        }
        Wake();
    }

    /// <summary>wal_sender_timeout: silent while streaming, or not reading what is sent.</summary>
    public void CheckTimeout(TimeSpan timeout)
    {
        if (timeout <= TimeSpan.Zero)
            return;
        long blocked = Volatile.Read(ref _flushStartedTicks);
        if (blocked != 0 && Stopwatch.GetElapsedTime(blocked) > timeout)
            Abort("the client has not read what was sent for wal_sender_timeout");
        else if (Volatile.Read(ref _streaming) == 1 && Stopwatch.GetElapsedTime(Volatile.Read(ref _lastReceiptTicks)) > timeout)
            Abort("terminating walsender process due to replication timeout");
    }

    public WalSenderInfo Snapshot()
    {
        var lags = Lag.Current;
        return new WalSenderInfo(Pid, User, ApplicationName, Remote.Address, Remote.Port, BackendStart, State,
            new Lsn(Volatile.Read(ref _sentLsn)), new Lsn(Volatile.Read(ref _writeLsn)), new Lsn(Volatile.Read(ref _flushLsn)), new Lsn(Volatile.Read(ref _applyLsn)),
            lags.Write, lags.Flush, lags.Apply, Volatile.Read(ref _replyTimeTz) is var t and not 0 ? Diagnostics.PgTimestamp.ToDateTimeOffset(t) : null, _slot);
    }

    public async Task RunAsync()
    {
        try
        {
            if (!await StartupAsync().ConfigureAwait(false))
                return;
            var reader = Task.Run(ReadLoopAsync);
            await CommandLoopAsync().ConfigureAwait(false);
            _lifetime.Cancel();
            await reader.ConfigureAwait(false);
        }
        catch (Exception e) when (IsDisconnect(e))
        {
            _logger.LogDebug("walsender {Pid}: connection ended: {Message}", Pid, e.Message);
        }
        catch (ProtocolException e)
        {
            _logger.LogWarning("walsender {Pid} ({Remote}): {Message}", Pid, Remote, e.Message);
            await TryFatalAsync(e.SqlState, e.Message).ConfigureAwait(false);
        }
        catch (ReplicationError e) when (e.Fatal)
        {
            _logger.LogWarning("walsender {Pid} ({Remote}): FATAL: {Message}", Pid, Remote, e.Message);
            await TryFatalAsync(e.SqlState, e.Message, e.Detail).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            _logger.LogError(e, "walsender {Pid} ({Remote}) failed", Pid, Remote);
            await TryFatalAsync("XX000", e.Message).ConfigureAwait(false);
        }
        finally
        {
            _lifetime.Cancel();
            _server.Slots?.ReleaseSession(Pid);
            await _connection.DisposeAsync().ConfigureAwait(false);
            _server.Remove(this);
        }
    }

    private bool IsDisconnect(Exception e)
        => e is IOException and not ProtocolException || e is ObjectDisposedException || (e is OperationCanceledException && _lifetime.IsCancellationRequested);

    private async Task TryFatalAsync(string sqlState, string message, string? detail = null)
    {
        try
        {
            using var flushTimeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            _connection.Writer.ErrorResponse("FATAL", sqlState, message, detail);
            await _connection.FlushAsync(flushTimeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or OperationCanceledException or InvalidOperationException)
        {
            // the client is gone; the log has it
        }
    }

    // The only reader after startup. Ends at the client's end, a Terminate, or a violation (which
    // it reports and which then ends the session).
    private async Task ReadLoopAsync()
    {
        try
        {
            while (!_lifetime.IsCancellationRequested)
            {
                bool streaming = Volatile.Read(ref _streaming) == 1;
                var message = await _connection.ReadMessageAsync(streaming ? MaxCopyMessageLength : MaxQueryLength, _lifetime.Token).ConfigureAwait(false);
                Volatile.Write(ref _lastReceiptTicks, Stopwatch.GetTimestamp());
                if (message is not { } m)
                    break;
                if (Volatile.Read(ref _streaming) == 1 && m.Type is (byte)'d' or (byte)'c')
                {
                    HandleCopyMessage(m);
                    continue;
                }
                if (Volatile.Read(ref _streaming) == 1 && m.Type != (byte)'X')
                    throw new ProtocolException($"invalid standby message type \"{(char)m.Type}\"");
                if (m.Type is (byte)'d' or (byte)'c' or (byte)'f')
                    continue;   // CopyData/CopyDone/CopyFail outside COPY: ignored, as PostgreSQL does
                await _commands.Writer.WriteAsync((m.Type, m.Body.ToArray()), _lifetime.Token).ConfigureAwait(false);
                if (m.Type == (byte)'X')
                    break;
                // What follows a query is read in the mode the query leaves (COPY-both or not), as
                // PostgreSQL reads its input in order: wait until the command loop knows.
                if (m.Type == (byte)'Q')
                    await _queryTaken.WaitAsync(_lifetime.Token).ConfigureAwait(false);
            }
            _commands.Writer.TryComplete();
        }
        catch (Exception e)
        {
            _readerFailure = e;
            _commands.Writer.TryComplete(e);
        }
        finally
        {
            _readerDone = true;
            Wake();
        }
    }

    private async Task CommandLoopAsync()
    {
        bool skipToSync = false;
        while (await _commands.Reader.WaitToReadAsync().ConfigureAwait(false))
        {
            var (type, body) = await _commands.Reader.ReadAsync().ConfigureAwait(false);
            switch ((char)type)
            {
                case 'X':
                    return;
                case 'Q':
                    skipToSync = false;
                    await RunQueryAsync(body).ConfigureAwait(false);
                    break;
                case 'S':
                    skipToSync = false;
                    _connection.Writer.ReadyForQuery();
                    await FlushAsync().ConfigureAwait(false);
                    break;
                case 'P' or 'B' or 'E' or 'D' or 'C' or 'H':
                    if (!skipToSync)
                        await ReportErrorAsync(new ReplicationError("08P01", "extended query protocol not supported in a replication connection"), readyForQuery: false).ConfigureAwait(false);
                    skipToSync = true;
                    break;
                case 'F':
                    await ReportErrorAsync(new ReplicationError("08P01", "fastpath function calls not supported in a replication connection"), readyForQuery: true).ConfigureAwait(false);
                    break;
                default:
                    throw new ProtocolException($"invalid frontend message type {type}");
            }
        }
    }

    private async Task RunQueryAsync(byte[] body)
    {
        var reader = new PgBodyReader(body, "Query");
        string text = reader.ReadCString();
        reader.EnsureEnd();
        using var command = CancellationTokenSource.CreateLinkedTokenSource(_lifetime.Token);
        Volatile.Write(ref _command, command);
        Volatile.Write(ref _queryTakenSignalled, 0);
        try
        {
            var parsed = ReplicationCommandParser.Parse(text)
                ?? throw new ReplicationError("0A000", "cannot execute SQL commands in WAL sender for physical replication");
            _logger.LogDebug("walsender {Pid}: received replication command: {Command}", Pid, text);
            bool keepGoing = await ExecuteAsync(parsed, command.Token).ConfigureAwait(false);
            if (!keepGoing)
                return;   // shutdown: the connection ends without ReadyForQuery
            _connection.Writer.CommandComplete(parsed.Tag);
            _connection.Writer.ReadyForQuery();
            await FlushAsync().ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (command.IsCancellationRequested && !_lifetime.IsCancellationRequested)
        {
            await ReportErrorAsync(new ReplicationError("57014", "canceling statement due to user request"), readyForQuery: true).ConfigureAwait(false);
        }
        catch (ReplicationError e) when (!e.Fatal)
        {
            await ReportErrorAsync(e, readyForQuery: true).ConfigureAwait(false);
        }
        finally
        {
            Volatile.Write(ref _command, null);
            Volatile.Write(ref _streaming, 0);
            QueryTaken();
            if (State != "stopping")
                State = "idle";
        }
    }

    /// <summary>The reader may read on: the running query has entered COPY-both, or is over.</summary>
    private void QueryTaken()
    {
        if (Interlocked.Exchange(ref _queryTakenSignalled, 1) == 0)
            _queryTaken.Release();
    }

    // An ERROR: the session goes on, without its temporary slots (PostgreSQL's error cleanup).
    private async Task ReportErrorAsync(ReplicationError error, bool readyForQuery)
    {
        Volatile.Write(ref _streaming, 0);
        _slot = null;
        _server.Slots?.ReleaseSession(Pid);
        _logger.LogInformation("walsender {Pid}: ERROR: {Message}", Pid, error.Message);
        _connection.Writer.ErrorResponse("ERROR", error.SqlState, error.Message, error.Detail);
        if (readyForQuery)
            _connection.Writer.ReadyForQuery();
        await FlushAsync().ConfigureAwait(false);
    }

    /// <summary>Sends what was built; a client that does not read for wal_sender_timeout is dropped (CheckTimeout).</summary>
    private async ValueTask FlushAsync()
    {
        Volatile.Write(ref _flushStartedTicks, Stopwatch.GetTimestamp());
        try
        {
            await _connection.FlushAsync(_lifetime.Token).ConfigureAwait(false);
        }
        finally
        {
            Volatile.Write(ref _flushStartedTicks, 0);
        }
    }
}
