// WalSenderServer: the listener of a WalInstance's walsenders (PostgreSQL's postmaster, for
// replication connections only). It accepts connections on the configured address (127.0.0.1 by
// default), runs one WalSenderSession per connection, counts them against max_wal_senders,
// routes CancelRequests by process id and secret key, wakes streaming sessions when WAL is flushed
// (WalSndWakeup), drops clients silent or not reading for wal_sender_timeout, and at shutdown lets
// streaming clients receive the WAL up to the shutdown checkpoint before closing.
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using PgWal.Format;
using PgWal.Replication.Slots;
using PgWal.Storage;
using PgWal.Timelines;
using PgWal.Write;

namespace PgWal.Replication.Server;

/// <summary>The walsender server of a <see cref="WalInstance"/>.</summary>
public sealed partial class WalSenderServer : IDisposable
{
    private readonly WalEngine _wal;
    private readonly IDataDirectoryStorage _storage;
    private readonly ILogger _logger;
    private readonly Socket _listener;
    private readonly ConcurrentDictionary<int, WalSenderSession> _sessions = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _acceptLoop, _wakeLoop;
    private readonly Timer _watchdog;
    private int _nextPid = RandomNumberGenerator.GetInt32(10_000, 1_000_000);
    private int _counted;          // authenticated sessions (max_wal_senders)
    private long _bytesSent;
    private int _stopping;

    internal WalSenderServer(WalInstance instance, IDataDirectoryStorage storage, WalSenderOptions options, ILogger logger)
    {
        options.Validate();
        Instance = instance;
        _wal = instance.Wal;
        _storage = storage;
        Options = options;
        _logger = logger;
        _listener = new Socket(options.Listen.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            _listener.Bind(options.Listen);
            _listener.Listen(128);
        }
        catch (SocketException e)
        {
            _listener.Dispose();
            throw new IOException($"could not listen for replication connections on {options.Listen}: {e.Message}", e);
        }
        EndPoint = (IPEndPoint)_listener.LocalEndPoint!;
        _logger.LogInformation("listening for replication connections on {EndPoint}", EndPoint);
        _acceptLoop = Task.Run(AcceptLoopAsync);
        _wakeLoop = Task.Run(WakeLoopAsync);
        _watchdog = new Timer(_ => CheckTimeouts(), null, TimeSpan.FromMilliseconds(250), TimeSpan.FromMilliseconds(250));
    }

    /// <summary>The address and port it listens on (the port chosen when 0 was configured).</summary>
    public IPEndPoint EndPoint { get; }

    /// <summary>Its settings.</summary>
    public WalSenderOptions Options { get; }

    /// <summary>The instance's replication slots (null: none can be kept).</summary>
    public ReplicationSlots? Slots => Instance.Slots;

    /// <summary>WAL bytes sent to all clients so far.</summary>
    public long BytesSent => Interlocked.Read(ref _bytesSent);

    /// <summary>pg_stat_replication: every connected walsender.</summary>
    public IReadOnlyList<WalSenderInfo> Snapshot() => WithSyncState(_sessions.Values.Where(s => s.Counted).Select(s => s.Snapshot()).OrderBy(s => s.Pid).ToList());

    internal bool Stopping => Volatile.Read(ref _stopping) != 0;

    internal ulong SystemIdentifier => Instance.ControlFile.SystemIdentifier;

    internal TimelineId Timeline => _wal.Options.Timeline;

    internal Lsn FlushedUpTo => _wal.FlushedUpTo;

    internal WalGeometry Geometry => _wal.Geometry;

    internal Lsn RedoPointer => _wal.RedoPointer;

    internal int ReadWal(string name, long offset, Span<byte> destination) => _storage.Wal.Read(name, offset, destination);

    internal bool WalFileExists(string name) => _storage.Wal.Exists(name);

    internal byte[]? ReadWalFile(string name) => _storage.ReadFile("pg_wal/" + name);

    internal IDataDirectoryStorage Storage => _storage;

    /// <summary>The instance served (BASE_BACKUP starts and stops its backups).</summary>
    internal WalInstance Instance { get; }

    /// <summary>The current timeline's history (a single entry on timeline 1).</summary>
    internal TimelineHistory CurrentHistory()
    {
        var timeline = Timeline;
        if (timeline == TimelineId.First)
            return TimelineHistory.Single(timeline);
        string name = TimelineHistory.FileName(timeline);
        var bytes = ReadWalFile(name) ?? throw new ReplicationError("58P01", $"could not open file \"pg_wal/{name}\": No such file or directory");
        return TimelineHistory.Parse(System.Text.Encoding.UTF8.GetString(bytes), timeline, "pg_wal/" + name);
    }

    internal void CountSent(int bytes) => Interlocked.Add(ref _bytesSent, bytes);

    internal bool TryReadFromBuffers(Lsn from, Span<byte> destination) => _wal.TryReadFromBuffers(from, destination);

    internal void CountFromBuffers(int bytes) => Interlocked.Add(ref _bytesFromBuffers, bytes);

    /// <summary>Of <see cref="BytesSent"/>, what came straight from the WAL buffers rather than the files.</summary>
    public long BytesSentFromBuffers => Interlocked.Read(ref _bytesFromBuffers);
    private long _bytesFromBuffers;

    internal bool TryCount(WalSenderSession session)
    {
        if (Interlocked.Increment(ref _counted) > Options.MaxWalSenders)
        {
            Interlocked.Decrement(ref _counted);
            return false;
        }
        return true;
    }

    internal void Remove(WalSenderSession session)
    {
        if (_sessions.TryRemove(session.Pid, out _) && session.Counted)
        {
            Interlocked.Decrement(ref _counted);
            SyncCandidacyChanged(session);
        }
    }

    internal void Cancel(int pid, int secretKey)
    {
        // A wrong key is ignored silently, as PostgreSQL does: a cancel reveals nothing.
        if (_sessions.TryGetValue(pid, out var session) && session.SecretKey == secretKey)
            session.Cancel();
    }

    /// <summary>Ends the walsender of process <paramref name="pid"/> (a slot it used was invalidated).</summary>
    internal void Terminate(int pid, string why)
    {
        if (_sessions.TryGetValue(pid, out var session))
            session.Abort(why);
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await _listener.AcceptAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException || _stop.IsCancellationRequested)
            {
                return;
            }
            catch (SocketException e)
            {
                _logger.LogWarning("accepting a replication connection failed: {Message}", e.Message);
                continue;
            }
            socket.NoDelay = true;
            _ = Task.Run(() => ServeAsync(new NetworkStream(socket, ownsSocket: true), socket.RemoteEndPoint));
        }
    }

    /// <summary>Serves one connection over <paramref name="stream"/> until it ends (tests feed it directly).</summary>
    internal Task ServeAsync(Stream stream, EndPoint? remote)
    {
        int pid = Interlocked.Increment(ref _nextPid);
        var session = new WalSenderSession(this, stream, remote, pid, RandomNumberGenerator.GetInt32(int.MaxValue), _logger);
        _sessions[pid] = session;
        if (Stopping)
            session.Abort("the server is shutting down");
        return session.RunAsync();
    }

    // WalSndWakeup: every flush wakes the sessions (each checks whether it has WAL to send).
    private async Task WakeLoopAsync()
    {
        var stopped = Task.Delay(Timeout.Infinite, _stop.Token);
        while (!_stop.IsCancellationRequested)
        {
            var signal = _wal.Flushed.NextSignal();
            await Task.WhenAny(signal, stopped).ConfigureAwait(false);
            foreach (var session in _sessions.Values)
                session.Wake();
        }
    }

    private void CheckTimeouts()
    {
        foreach (var session in _sessions.Values)
            session.CheckTimeout(Options.WalSenderTimeout);
    }

    /// <summary>
    /// Stops: no new connections; streaming clients get the WAL flushed so far (with
    /// <paramref name="drain"/>, up to the shutdown checkpoint) and "COPY 0"; others are closed.
    /// </summary>
    internal void Stop(bool drain)
    {
        if (Interlocked.Exchange(ref _stopping, 1) != 0)
            return;
        _stop.Cancel();
        _listener.Dispose();
        foreach (var session in _sessions.Values)
        {
            if (!drain || session.State is not ("catchup" or "streaming"))
                session.Abort("the server is shutting down");
            else
                session.Wake();
        }
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (!_sessions.IsEmpty && DateTime.UtcNow < deadline)
            Thread.Sleep(20);
        foreach (var session in _sessions.Values)
            session.Abort("the server is shutting down");
        _watchdog.Dispose();
        try
        {
            Task.WaitAll([_acceptLoop, _wakeLoop], TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
            // cancelled loops
        }
    }

    /// <summary>Stops without draining (see <see cref="WalInstance"/>'s Dispose for the orderly stop).</summary>
    public void Dispose() => Stop(drain: false);
}
