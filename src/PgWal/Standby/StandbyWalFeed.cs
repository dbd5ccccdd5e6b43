// StandbyWalFeed: the standby's walreceiver (walreceiver.c on top of the replication client's
// WalReceiver): streams from primary_conninfo into pg_wal (segments under their real names, .done
// when complete, fsynced after every batch), starting where the replay needs WAL, and tells the
// replay what became durable. One connection per Start, as PostgreSQL's startup process restarts
// its walreceiver: when the connection ends the replay decides what next (the archive, then
// streaming again after wal_retrieve_retry_interval). Status updates carry the replay position as
// applied, and go out at once when replay advances (remote_apply waits on them).
using Microsoft.Extensions.Logging;
using PgWal.Format;
using PgWal.Replication.Client;
using PgWal.Replication.Protocol;

namespace PgWal.Standby;

internal sealed class StandbyWalFeed : IDisposable
{
    private readonly ConnectionSettings _connection;
    private readonly string _walDirectory;
    private readonly WalGeometry _geometry;
    private readonly ulong _systemIdentifier;
    private readonly StandbyOptions _options;
    private readonly Func<Lsn> _applied;
    private readonly Action _wake;
    private readonly ILogger _logger;
    private readonly object _gate = new();
    private CancellationTokenSource? _stop;   // of the running connection; guarded by _gate
    private Task? _run;                       // guarded by _gate
    private WalReceiver? _receiver;           // guarded by _gate
    // What the walreceiver made durable: position and timeline, written together under _gate. It
    // only moves forward on a timeline (a new connection streams its first segment again, the same
    // bytes), so it says how far this standby's durable WAL goes (pg_last_wal_receive_lsn).
    private Lsn _flushedUpTo;
    private TimelineId _flushedTimeline;

    public StandbyWalFeed(ConnectionSettings connection, string walDirectory, WalGeometry geometry, ulong systemIdentifier, StandbyOptions options,
        Func<Lsn> applied, Action wake, ILogger logger)
    {
        _connection = connection;
        _walDirectory = walDirectory;
        _geometry = geometry;
        _systemIdentifier = systemIdentifier;
        _options = options;
        _applied = applied;
        _wake = wake;
        _logger = logger;
    }

    /// <summary>The primary's address, for messages.</summary>
    public string Primary => $"{_connection.Host}:{_connection.Port}";

    /// <summary>A connection is running (connecting or streaming).</summary>
    public bool IsRunning
    {
        get
        {
            lock (_gate)
                return _run is { IsCompleted: false };
        }
    }

    /// <summary>Whether WAL is arriving now.</summary>
    public bool IsStreaming
    {
        get
        {
            lock (_gate)
                return _receiver?.IsStreaming == true;
        }
    }

    /// <summary>The last message of a connection that failed, for status displays.</summary>
    public string? LastError { get; private set; }

    /// <summary>What the current connection made durable (Invalid before anything).</summary>
    public (TimelineId Timeline, Lsn UpTo) Flushed
    {
        get
        {
            lock (_gate)
                return (_flushedTimeline, _flushedUpTo);
        }
    }

    /// <summary>Starts one connection streaming <paramref name="timeline"/> from the segment holding <paramref name="from"/>.</summary>
    public void Start(TimelineId timeline, Lsn from)
    {
        lock (_gate)
        {
            if (_run is { IsCompleted: false })
                return;
            _stop?.Dispose();
            _stop = new CancellationTokenSource();
            var start = _geometry.SegmentStart(_geometry.SegmentOf(from));
            _receiver = new WalReceiver(new WalReceiverOptions
            {
                Connection = _connection, Slot = _options.PrimarySlotName, Synchronous = true, NoLoop = true,
                ResumePosition = () => (timeline, start), ExpectedSystemIdentifier = _systemIdentifier,
                StatusInterval = _options.StatusInterval, ApplyPosition = _applied,
                ServerMajors = [15], ServerMajorsReason = "a PgWal standby replays PostgreSQL 15's WAL (PgWal's own format) only",
                CreateTarget = (geometry, mode) =>
                {
                    if (geometry.SegmentSize != _geometry.SegmentSize)
                        throw new ProtocolException($"the primary's WAL segment size is {geometry.SegmentSize} bytes, this standby's {_geometry.SegmentSize}", "0A000");
                    return new DirectoryWalTarget(_walDirectory, geometry, sync: true, mode, w => _logger.LogWarning("{Warning}", w), partialSuffix: "", markDone: true);
                },
                Flushed = (tli, upTo) =>
                {
                    lock (_gate)
                    {
                        if (tli != _flushedTimeline || upTo > _flushedUpTo)
                            (_flushedTimeline, _flushedUpTo) = (tli, upTo);
                    }
                    _wake();
                },
                Verbose = m => _logger.LogDebug("walreceiver: {Message}", m),
                Warning = m =>
                {
                    if (m != "disconnected")
                        LastError = m;
                },
            });
            var receiver = _receiver;
            var token = _stop.Token;
            _logger.LogInformation("started streaming WAL from primary at {Start} on timeline {Timeline}", start, timeline.Value);
            _run = Task.Run(async () =>
            {
                try
                {
                    await receiver.RunAsync(token).ConfigureAwait(false);
                }
                catch (Exception e)
                {
                    LastError = e.Message;
                    _logger.LogWarning("could not stream WAL from the primary {Primary}: {Message}", Primary, e.Message);
                }
                finally
                {
                    _wake();
                }
            });
        }
    }

    /// <summary>Sends the primary a status update now (replay advanced).</summary>
    public void ReportApplied()
    {
        WalReceiver? receiver;
        lock (_gate)
            receiver = _receiver;
        receiver?.RequestStatusUpdate();
    }

    /// <summary>Stops the running connection and waits for it (its segment stays as written, fsynced up to Flushed).</summary>
    public void Stop()
    {
        Task? run;
        lock (_gate)
        {
            _stop?.Cancel();
            run = _run;
        }
        try
        {
            run?.Wait(TimeSpan.FromSeconds(30));
        }
        catch (AggregateException)
        {
            // reported by the task itself
        }
    }

    public void Dispose()
    {
        Stop();
        lock (_gate)
            _stop?.Dispose();
    }
}
