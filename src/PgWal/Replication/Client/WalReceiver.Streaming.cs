// WalReceiver (streaming): the COPY-both loop of one START_REPLICATION, as receivelog.c's
// HandleCopyStream / ProcessXLogDataMsg / ProcessKeepaliveMsg: WAL is written where it belongs
// (data must continue exactly where the last message ended), segments complete at their end,
// replies go out at once when the server asks, and a background reporter sends status every
// StatusInterval. Durability before reporting: flush is only ever a position that was fsynced.
using PgWal.Replication.Protocol;

namespace PgWal.Replication.Client;

public sealed partial class WalReceiver
{
    private enum StreamResult { Stopped, EndOfStream, ServerShutdown }

    private const ulong SyncEveryBytes = 256 * 1024;

    private bool _reportFlush;   // slot in use or synchronous: flush is reported (set per stream)

    private bool ReportFlush => _reportFlush;

    private async Task<(StreamResult, Lsn)> CopyStreamAsync(ReplicationClient client, string? slot, TimelineId timeline, Lsn start, CancellationToken stop)
    {
        _reportFlush = slot != null || _options.Synchronous;
        var target = _target!;
        Lsn blockpos = start;
        bool stopping = false;   // we sent CopyDone: WAL still in flight is ignored
        Volatile.Write(ref _writtenUpTo, (long)start.Value);
        Volatile.Write(ref _flushedUpTo, ReportFlush ? (long)start.Value : 0);
        if (ReportFlush)
            _options.Flushed?.Invoke(timeline, start);   // what precedes the start is durable already: reported as flushed
        await SendStatusAsync(client, false).ConfigureAwait(false);

        using var reporterStop = new CancellationTokenSource();
        var reporter = _options.StatusInterval > TimeSpan.Zero ? ReportPeriodicallyAsync(client, reporterStop.Token) : Task.CompletedTask;
        Volatile.Write(ref _streamingClient, client);
        using var registration = stop.Register(() =>
        {
            _stopRequested = true;
            _ = SendCopyDoneQuietlyAsync(client);
        });
        try
        {
            while (true)
            {
                // receivelog.c checks the stop condition before each message, so an end position
                // already passed stops at once, and keepalives are enough to notice it.
                if (!stopping && PastStopPosition(blockpos))
                {
                    stopping = true;
                    target.CloseIncomplete();
                    await client.SendCopyDoneAsync().ConfigureAwait(false);
                }
                var message = await client.ReadStreamAsync(CancellationToken.None).ConfigureAwait(false);
                switch (message.Kind)
                {
                    case StreamMessageKind.XLogData:
                        if (stopping || _stopRequested)
                        {
                            target.CloseIncomplete();
                            break;
                        }
                        blockpos = WriteData(target, timeline, blockpos, message);
                        Volatile.Write(ref _writtenUpTo, (long)blockpos.Value);
                        // Synchronous: fsync and report once the messages that arrived together are
                        // written — and, under a stream that never pauses, at least every
                        // SyncEveryBytes, or the flush position (all a synchronous primary and the
                        // standby's replay wait for) would not move until a segment ends.
                        if (_options.Synchronous && (!client.HasBufferedMessage || blockpos - new Lsn((ulong)Volatile.Read(ref _flushedUpTo)) >= SyncEveryBytes))
                        {
                            target.Sync();
                            AdvanceFlushed(timeline, blockpos);
                            await SendStatusAsync(client, false).ConfigureAwait(false);
                        }
                        break;
                    case StreamMessageKind.Keepalive:
                        if (message.ReplyRequested && !stopping)
                        {
                            if (ReportFlush && target.IsOpen && Volatile.Read(ref _flushedUpTo) < (long)blockpos.Value)
                            {
                                target.Sync();
                                AdvanceFlushed(timeline, blockpos);
                            }
                            await SendStatusAsync(client, false).ConfigureAwait(false);
                        }
                        break;
                    case StreamMessageKind.EndOfStream:
                        if (stopping || _stopRequested || PastStopPosition(blockpos))
                        {
                            target.CloseIncomplete();
                            await client.FinishStreamingAsync().ConfigureAwait(false);
                            return (StreamResult.Stopped, blockpos);
                        }
                        // End of a historic timeline: the caller reads where the next one starts.
                        target.CloseIncomplete();
                        return (StreamResult.EndOfStream, blockpos);
                    case StreamMessageKind.ServerShutdown:
                        target.CloseIncomplete();
                        return (StreamResult.ServerShutdown, blockpos);
                }
            }
        }
        finally
        {
            Volatile.Write(ref _streamingClient, null);
            await reporterStop.CancelAsync().ConfigureAwait(false);
            await reporter.ConfigureAwait(false);
        }
    }

    // ProcessXLogDataMsg: the data must start where we are; it is split at segment ends.
    private Lsn WriteData(IWalReceiveTarget target, TimelineId timeline, Lsn blockpos, in StreamMessage message)
    {
        if (!target.IsOpen && _geometry.OffsetInSegment(message.DataStart) != 0)
            throw new ProtocolException($"received write-ahead log record for offset {_geometry.OffsetInSegment(message.DataStart)} with no file open");
        if (message.DataStart != blockpos)
            throw new ProtocolException($"got WAL data offset {_geometry.OffsetInSegment(message.DataStart):x8}, expected {_geometry.OffsetInSegment(blockpos):x8}");
        var data = message.Data;
        while (data.Length > 0)
        {
            if (!target.IsOpen)
                target.OpenSegment(timeline, _geometry.SegmentOf(blockpos));
            long room = _geometry.SegmentSize - _geometry.OffsetInSegment(blockpos);
            var piece = data.Slice(0, Math.Min(room, data.Length));
            target.Write(piece);
            blockpos += (ulong)piece.Length;
            data = data.Slice(piece.Length);
            if (_geometry.OffsetInSegment(blockpos) == 0)
            {
                string path = target.CompleteSegment();
                if (ReportFlush)
                    AdvanceFlushed(timeline, blockpos);
                else
                    Volatile.Write(ref _flushedUpTo, 0);
                _options.Verbose?.Invoke($"finished segment at {blockpos} (timeline {timeline})");
                Completed(path, Path.GetFileName(path));
            }
        }
        return blockpos;
    }

    private async ValueTask SendStatusAsync(ReplicationClient client, bool replyRequested)
    {
        var write = new Lsn((ulong)Volatile.Read(ref _writtenUpTo));
        var flush = ReportFlush ? new Lsn((ulong)Volatile.Read(ref _flushedUpTo)) : Lsn.Invalid;
        var apply = _options.ApplyPosition?.Invoke() ?? Lsn.Invalid;
        await client.SendStatusAsync(write, flush, apply, replyRequested).ConfigureAwait(false);
    }

    private void AdvanceFlushed(TimelineId timeline, Lsn upTo)
    {
        Volatile.Write(ref _flushedUpTo, (long)upTo.Value);
        _options.Flushed?.Invoke(timeline, upTo);
    }

    /// <summary>
    /// Sends a status update now when streaming (a standby whose replay advanced: remote_apply
    /// waits on it); otherwise does nothing. Thread-safe; does not wait for the send.
    /// </summary>
    public void RequestStatusUpdate()
    {
        if (Volatile.Read(ref _streamingClient) is not { } client)
            return;
        _ = SendQuietlyAsync(this, client);

        static async Task SendQuietlyAsync(WalReceiver receiver, ReplicationClient client)
        {
            try
            {
                await receiver.SendStatusAsync(client, false).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException)
            {
                // the connection is gone; the streaming loop reports that
            }
        }
    }

    /// <summary>Whether a connection is streaming now.</summary>
    public bool IsStreaming => Volatile.Read(ref _streamingClient) != null;

    private async Task ReportPeriodicallyAsync(ReplicationClient client, CancellationToken stop)
    {
        using var timer = new PeriodicTimer(_options.StatusInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(stop).ConfigureAwait(false))
                await SendStatusAsync(client, false).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or ObjectDisposedException or InvalidOperationException)
        {
            // stopped, or the connection failed: the streaming loop reports that
        }
    }

    private static async Task SendCopyDoneQuietlyAsync(ReplicationClient client)
    {
        try
        {
            await client.SendCopyDoneAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException)
        {
            // the connection is gone; the loop ends on its own
        }
    }
}
