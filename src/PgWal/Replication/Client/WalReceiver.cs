// WalReceiver: streams WAL from a walsender into an IWalReceiveTarget as pg_receivewal 15 does
// (reference §4): start position from what the target has, else the slot's restart_lsn
// (READ_REPLICATION_SLOT), else the server's flush position, rounded down to a segment; the
// first XLogData must start at a segment boundary and each later one where the previous ended;
// segments are completed at their end; a timeline switch is followed (the history file fetched
// first); disconnects are retried every 5 seconds unless NoLoop. Status updates report write =
// received, flush = fsynced only with a slot or Synchronous (so a plain receiver never advances a
// slot or counts as a synchronous standby), apply never.
//
// Stopping (the token): CopyDone is sent at once from the token's callback; WAL still in flight
// is ignored, the open segment is closed without rename, and RunAsync returns Stopped.
using PgWal.Format;
using PgWal.Replication.Protocol;

namespace PgWal.Replication.Client;

/// <summary>Options of a <see cref="WalReceiver"/>.</summary>
public sealed record WalReceiverOptions
{
    /// <summary>Where to connect.</summary>
    public required ConnectionSettings Connection { get; init; }
    /// <summary>The replication slot to use, or null.</summary>
    public string? Slot { get; init; }
    /// <summary>fsync after every batch and report flush = write at once (--synchronous).</summary>
    public bool Synchronous { get; init; }
    /// <summary>Exit at the first disconnect instead of retrying (-n).</summary>
    public bool NoLoop { get; init; }
    /// <summary>Stop once WAL past this position was received (-E); Invalid = never.</summary>
    public Lsn EndPosition { get; init; }
    /// <summary>Where to start, instead of looking at the target, the slot and the server (pg_basebackup's streamer).</summary>
    public (TimelineId Timeline, Lsn Start)? StartPosition { get; init; }
    /// <summary>The system identifier the server must have (pg_basebackup: the main connection's), or null.</summary>
    public ulong? ExpectedSystemIdentifier { get; init; }
    /// <summary>Runs on each new connection before streaming; returns the slot to stream with (pg_basebackup's temporary slot), or null for <see cref="Slot"/>.</summary>
    public Func<ReplicationClient, CancellationToken, Task<string?>>? PrepareConnection { get; init; }
    /// <summary>Status update interval (-s); zero = only when the server asks.</summary>
    public TimeSpan StatusInterval { get; init; } = TimeSpan.FromSeconds(10);
    /// <summary>Wait between reconnect attempts (the first; see <see cref="MaxRetryDelay"/>).</summary>
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromSeconds(5);
    /// <summary>
    /// Back-off: each failed attempt in a row doubles the wait, up to this. Default: <see cref="RetryDelay"/>
    /// (a fixed wait, as pg_receivewal). An attempt that streamed for longer than this starts over.
    /// </summary>
    public TimeSpan? MaxRetryDelay { get; init; }
    /// <summary>Makes the target for the server's segment size and file mode (called once, after connecting).</summary>
    public required Func<WalGeometry, UnixFileMode, IWalReceiveTarget> CreateTarget { get; init; }
    /// <summary>Gets each completed file (e.g. the archive repository), or null.</summary>
    public IWalReceiveSink? Sink { get; init; }
    /// <summary>Progress messages (pg_receivewal's --verbose lines).</summary>
    public Action<string>? Verbose { get; init; }
    /// <summary>Warnings and errors that do not stop the run (then a retry).</summary>
    public Action<string>? Warning { get; init; }
    /// <summary>Where to start on each new connection (a standby: where its replay needs WAL; rounded down to a segment), instead of <see cref="StartPosition"/> and the target.</summary>
    public Func<(TimelineId Timeline, Lsn Start)>? ResumePosition { get; init; }
    /// <summary>The position reported as applied (a standby's replay position); null reports none, as pg_receivewal.</summary>
    public Func<Lsn>? ApplyPosition { get; init; }
    /// <summary>Called after WAL up to the position (on the timeline) became durable; from the streaming task.</summary>
    public Action<TimelineId, Lsn>? Flushed { get; init; }
    /// <summary>
    /// The server major versions whose WAL is wanted (default: every one the client connects to);
    /// another is refused after connecting, with <see cref="ServerMajorsReason"/>, and not retried.
    /// </summary>
    public IReadOnlyList<int> ServerMajors { get; init; } = ReplicationClient.SupportedServerMajors;
    /// <summary>Why only <see cref="ServerMajors"/> (ends the refusal's message).</summary>
    public string ServerMajorsReason { get; init; } = "";
}

/// <summary>How <see cref="WalReceiver.RunAsync"/> ended.</summary>
public enum WalReceiverOutcome
{
    /// <summary>The stop token was cancelled.</summary>
    Stopped,
    /// <summary>The end position was reached.</summary>
    EndPositionReached,
    /// <summary>The connection ended and NoLoop was set.</summary>
    Disconnected,
}

/// <summary>Streams WAL from a server into a target, as pg_receivewal.</summary>
public sealed partial class WalReceiver(WalReceiverOptions options)
{
    private readonly WalReceiverOptions _options = options;
    private IWalReceiveTarget? _target;
    private WalGeometry _geometry;
    private ulong? _systemIdentifier;
    private volatile bool _stopRequested;
    private long _stopAtOrPast;              // SetStopPosition's value; 0 = none
    private ReplicationClient? _streamingClient;   // the connection streaming now, for SetStopPosition

    // Positions: written by the streaming loop, read by the status reporter.
    private long _writtenUpTo;   // last byte received + 1
    private long _flushedUpTo;   // last byte fsynced + 1

    /// <summary>The target once the first connection made it (for tests and tools).</summary>
    public IWalReceiveTarget? Target => _target;

    /// <summary>
    /// Stops once everything before <paramref name="upTo"/> was received (pg_basebackup's end of
    /// backup); may be called from another task while streaming, and stops at once when already there.
    /// </summary>
    public void SetStopPosition(Lsn upTo)
    {
        Interlocked.Exchange(ref _stopAtOrPast, (long)upTo.Value);
        if (Volatile.Read(ref _writtenUpTo) >= (long)upTo.Value && Volatile.Read(ref _streamingClient) is { } client)
            _ = SendCopyDoneQuietlyAsync(client);
    }

    private bool PastStopPosition(Lsn position)
    {
        long stopAt = Interlocked.Read(ref _stopAtOrPast);
        return (stopAt != 0 && (long)position.Value >= stopAt)
            || (_options.EndPosition.IsValid && _options.EndPosition < position);
    }

    /// <summary>Streams until stopped, the end position, or (with NoLoop) a disconnect.</summary>
    /// <exception cref="PgServerException">Only when not retried: an incompatible server.</exception>
    public async Task<WalReceiverOutcome> RunAsync(CancellationToken stop)
    {
        var delay = _options.RetryDelay;
        var maxDelay = _options.MaxRetryDelay is { } max && max > _options.RetryDelay ? max : _options.RetryDelay;
        try
        {
            while (true)
            {
                if (stop.IsCancellationRequested)
                    return WalReceiverOutcome.Stopped;
                long attemptStart = System.Diagnostics.Stopwatch.GetTimestamp();
                try
                {
                    var outcome = await StreamOnceAsync(stop).ConfigureAwait(false);
                    if (outcome != null)
                        return outcome.Value;
                }
                catch (Exception e) when (IsRetryable(e) && !stop.IsCancellationRequested)
                {
                    _target?.CloseIncomplete();
                    _options.Warning?.Invoke(e.Message);
                }
                catch (Exception) when (stop.IsCancellationRequested)
                {
                    _target?.CloseIncomplete();
                    return WalReceiverOutcome.Stopped;
                }
                if (_options.NoLoop)
                {
                    _options.Warning?.Invoke("disconnected");
                    return WalReceiverOutcome.Disconnected;
                }
                if (System.Diagnostics.Stopwatch.GetElapsedTime(attemptStart) > maxDelay)
                    delay = _options.RetryDelay;   // it streamed a while: the trouble was new
                _options.Warning?.Invoke($"disconnected; waiting {delay.TotalSeconds.ToString("0.#", System.Globalization.CultureInfo.InvariantCulture)} seconds to try again");
                try
                {
                    await Task.Delay(delay, stop).ConfigureAwait(false);
                    delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, maxDelay.Ticks));
                }
                catch (OperationCanceledException)
                {
                    return WalReceiverOutcome.Stopped;
                }
            }
        }
        finally
        {
            _target?.Dispose();
        }
    }

    // Everything a connection can fail with is retried, except a server we cannot work with.
    private static bool IsRetryable(Exception e) => e switch
    {
        ProtocolException p => p.SqlState != "0A000",
        PgServerException => true,
        IOException or System.Net.Sockets.SocketException or TimeoutException => true,
        _ => false,
    };

    // One connection: null when it ended in a way that is retried (after the caller's wait).
    private async Task<WalReceiverOutcome?> StreamOnceAsync(CancellationToken stop)
    {
        await using var client = await ReplicationClient.ConnectAsync(_options.Connection, stop).ConfigureAwait(false);
        if (!_options.ServerMajors.Contains(client.ServerMajor))
            throw new ProtocolException($"incompatible server version {client.ServerVersion}: {_options.ServerMajorsReason}", "0A000");
        var mode = await client.ShowDataDirectoryModeAsync(stop).ConfigureAwait(false);
        var system = await client.IdentifySystemAsync(stop).ConfigureAwait(false);
        if (system.DatabaseName != null)
            throw new ProtocolException($"replication connection using slot \"{_options.Slot}\" is unexpectedly database specific", "0A000");
        if (_options.ExpectedSystemIdentifier is { } expected && expected != system.SystemIdentifier)
            throw new ProtocolException("system identifier does not match between base backup and streaming connection", "0A000");
        if (_systemIdentifier != null && _systemIdentifier != system.SystemIdentifier)
            throw new ProtocolException($"system identifier does not match between connections: {system.SystemIdentifier}, was {_systemIdentifier}", "0A000");
        _systemIdentifier = system.SystemIdentifier;
        if (_target == null)
        {
            _geometry = new WalGeometry(await client.ShowWalSegmentSizeAsync(stop).ConfigureAwait(false));
            var fileMode = (mode & (UnixFileMode.GroupRead | UnixFileMode.GroupExecute)) != 0
                ? UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead
                : UnixFileMode.UserRead | UnixFileMode.UserWrite;
            _target = _options.CreateTarget(_geometry, fileMode);
        }
        string? slot = _options.Slot;
        if (_options.PrepareConnection != null)
            slot = await _options.PrepareConnection(client, stop).ConfigureAwait(false) ?? slot;
        var (timeline, start) = _options.ResumePosition?.Invoke() ?? _options.StartPosition ?? await StartPointAsync(client, system, stop).ConfigureAwait(false);
        start = _geometry.SegmentStart(_geometry.SegmentOf(start));
        if (timeline > system.Timeline)
            throw new ProtocolException($"starting timeline {timeline} is not present in the server", "0A000");

        while (true)
        {
            if (timeline.Value != 1 && !_target.HasHistoryFile(timeline))
            {
                var history = await client.TimelineHistoryAsync(timeline, stop).ConfigureAwait(false);
                Completed(_target.WriteHistoryFile(history), history.FileName);
            }
            _options.Verbose?.Invoke($"starting log streaming at {start} (timeline {timeline})");
            var immediateEnd = await client.StartReplicationAsync(slot, start, timeline, stop).ConfigureAwait(false);
            StreamEnd end;
            Lsn stoppedAt = start;
            if (immediateEnd != null)
            {
                end = immediateEnd.Value;
            }
            else
            {
                var (result, position) = await CopyStreamAsync(client, slot, timeline, start, stop).ConfigureAwait(false);
                stoppedAt = position;
                if (result == StreamResult.Stopped)
                    return _stopRequested && stop.IsCancellationRequested ? WalReceiverOutcome.Stopped : WalReceiverOutcome.EndPositionReached;
                if (result == StreamResult.ServerShutdown)
                    throw new IOException("replication stream was terminated before stop point");
                end = await client.FinishStreamingAsync(stop).ConfigureAwait(false);
            }
            if (!end.NextTimeline.IsValid)
                throw new IOException("replication stream was terminated before stop point");
            if (end.NextTimeline <= timeline)
                throw new ProtocolException($"server reported unexpected next timeline {end.NextTimeline}, following timeline {timeline}");
            if (end.NextTimelineStart > stoppedAt && immediateEnd == null)
                throw new ProtocolException($"server stopped streaming timeline {timeline} at {stoppedAt}, but reported next timeline {end.NextTimeline} to begin at {end.NextTimelineStart}");
            _target.CloseIncomplete();
            _options.Verbose?.Invoke($"switched to timeline {end.NextTimeline} at {end.NextTimelineStart}");
            timeline = end.NextTimeline;
            start = _geometry.SegmentStart(_geometry.SegmentOf(end.NextTimelineStart));
        }
    }

    // §4.2: the target's files, else the slot, else the server's flush position; always a segment start.
    private async Task<(TimelineId, Lsn)> StartPointAsync(ReplicationClient client, SystemIdentification system, CancellationToken stop)
    {
        if (_target!.FindResumePoint() is { } resume)
            return resume;
        if (_options.Slot != null)
        {
            var slot = await client.ReadReplicationSlotAsync(_options.Slot, stop).ConfigureAwait(false)
                ?? throw new PgServerException("ERROR", "42704", $"replication slot \"{_options.Slot}\" does not exist");
            if (slot.RestartLsn.IsValid && slot.RestartTimeline.IsValid)
                return (slot.RestartTimeline, _geometry.SegmentStart(_geometry.SegmentOf(slot.RestartLsn)));
        }
        return (system.Timeline, _geometry.SegmentStart(_geometry.SegmentOf(system.FlushedUpTo)));
    }

    private void Completed(string path, string name) => _options.Sink?.FileCompleted(path, name);
}
