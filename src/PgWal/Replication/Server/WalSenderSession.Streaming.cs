// START_REPLICATION (physical), as PostgreSQL 15's StartReplication and WalSndLoop: the slot is
// acquired; the timeline chosen (a historic one ends at its switch point, read from the current
// timeline's history); errors about timelines come before COPY, the "ahead of flush" and "already
// removed" errors inside it. Only flushed WAL is sent, in XLogData messages of at most 128 kB
// (rounded down to a page when more is pending), read from the segment files; walEnd is the flush
// position. Status updates move the slot; a silent client is asked for a reply at half of
// wal_sender_timeout. Endings: the client's CopyDone, the end of a historic timeline (CopyDone,
// then the next timeline's row), server shutdown (the rest of the WAL, then "COPY 0" and close),
// an ERROR, or a cancel.
using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using PgWal.Diagnostics;
using PgWal.Format;
using PgWal.Replication.Protocol;

namespace PgWal.Replication.Server;

internal sealed partial class WalSenderSession
{
    private const int MaxSendSize = 16 * WalGeometry.PageSize;
    private static readonly TimeSpan ShutdownReplyWait = TimeSpan.FromSeconds(10);
    private int _unflushedChunks;
    private volatile Exception? _readerFailure;
    private volatile bool _readerDone;

    private async Task<bool> StreamAsync(StartReplicationCommand start, CancellationToken cancellation)
    {
        if (start.Logical)
            throw new ReplicationError("0A000", "PgWal serves physical replication only: logical replication is not supported");
        if (start.Slot != null)
        {
            RequireSlots().Acquire(start.Slot, Pid);
            _slot = start.Slot;
        }
        try
        {
            return await StreamTimelineAsync(start, cancellation).ConfigureAwait(false);
        }
        finally
        {
            if (start.Slot != null)
                _server.Slots?.Release(start.Slot, Pid);
            _slot = null;
        }
    }

    private async Task<bool> StreamTimelineAsync(StartReplicationCommand start, CancellationToken cancellation)
    {
        var w = _connection.Writer;
        var current = _server.Timeline;
        var timeline = start.Timeline == 0 ? current : new TimelineId(start.Timeline);
        Lsn endOfTimeline = Lsn.Invalid;
        TimelineId next = default;
        if (timeline != current)
        {
            var entries = _server.CurrentHistory().Entries;
            int index = entries.ToList().FindIndex(e => e.Timeline == timeline);
            if (index <= 0)
                throw new ReplicationError("XX000", $"requested timeline {timeline.Value} is not in this server's history");
            endOfTimeline = entries[index].End;
            next = entries[index - 1].Timeline;
            if (start.Start > endOfTimeline)
                throw new ReplicationError("XX000", $"requested starting point {start.Start} on timeline {timeline.Value} is not in this server's history",
                    $"This server's history forked from timeline {timeline.Value} at {endOfTimeline}.");
            if (start.Start == endOfTimeline)
            {
                NextTimelineRow(next, endOfTimeline);
                w.CommandComplete("START_STREAMING");
                return true;
            }
        }
        w.CopyBothResponse();
        Volatile.Write(ref _copyDoneReceived, 0);
        Volatile.Write(ref _streaming, 1);
        QueryTaken();
        State = "catchup";
        await FlushAsync().ConfigureAwait(false);
        if (!endOfTimeline.IsValid && start.Start > _server.FlushedUpTo)
            throw new ReplicationError("XX000", $"requested starting point {start.Start} is ahead of the WAL flush position of this server {_server.FlushedUpTo}");

        Lsn sent = start.Start;
        Volatile.Write(ref _sentLsn, sent.Value);
        bool copyDoneSent = false;
        long askedAt = 0;   // when a keepalive asked for a reply (0: not waiting)
        var timeout = _server.Options.WalSenderTimeout;
        while (Volatile.Read(ref _copyDoneReceived) == 0)
        {
            cancellation.ThrowIfCancellationRequested();
            ThrowIfReaderEnded();
            if (_server.Stopping && !endOfTimeline.IsValid)
                return await ShutdownStreamAsync(sent, cancellation).ConfigureAwait(false);
            if (Interlocked.Exchange(ref _replyRequested, 0) == 1)
                await KeepaliveAsync(sent, requestReply: false).ConfigureAwait(false);
            // WalSndKeepaliveIfNecessary, on every round (also while sending: a client that only
            // answers requests, as pg_receivewal between its status intervals, must be asked).
            if (timeout > TimeSpan.Zero)
            {
                long lastReceipt = Volatile.Read(ref _lastReceiptTicks);
                if (askedAt != 0 && lastReceipt > askedAt)
                    askedAt = 0;
                if (askedAt == 0 && Stopwatch.GetElapsedTime(lastReceipt) >= timeout / 2)
                {
                    await KeepaliveAsync(sent, requestReply: true).ConfigureAwait(false);
                    askedAt = Stopwatch.GetTimestamp();
                }
            }
            Lsn end = endOfTimeline.IsValid ? endOfTimeline : _server.FlushedUpTo;
            if (sent < end)
            {
                sent = await SendChunkAsync(sent, end, timeline, endOfTimeline, next).ConfigureAwait(false);
                continue;
            }
            if (endOfTimeline.IsValid && !copyDoneSent)
            {
                w.CopyDone();   // the end of a historic timeline: the client answers with its CopyDone
                await FlushAsync().ConfigureAwait(false);
                copyDoneSent = true;
            }
            else if (State == "catchup")
            {
                State = "streaming";
                _server.SyncCandidacyChanged(this);   // a flush it reported while catching up may count now
            }
            TimeSpan wait = TimeSpan.FromSeconds(1);
            if (timeout > TimeSpan.Zero)
                wait = TimeSpan.FromTicks(Math.Min(wait.Ticks, Math.Max(timeout.Ticks / 4, TimeSpan.TicksPerMillisecond)));
            await _wake.WaitAsync(wait, cancellation).ConfigureAwait(false);
        }
        if (!copyDoneSent)
            w.CopyDone();
        if (endOfTimeline.IsValid)
            NextTimelineRow(next, endOfTimeline);
        w.CommandComplete("START_STREAMING");
        return true;
    }

    private void NextTimelineRow(TimelineId next, Lsn startpoint)
    {
        _connection.Writer.RowDescription(("next_tli", Int8Oid, 8, -1), ("next_tli_startpos", TextOid, -1, -1));
        _connection.Writer.DataRow(next.Value.ToString(CultureInfo.InvariantCulture), startpoint.ToString());
    }

    private void ThrowIfReaderEnded()
    {
        if (!_readerDone)
            return;
        if (_readerFailure is { } failure)
            throw failure is ProtocolException p ? new ProtocolException(p.Message, p.SqlState) : new IOException(failure.Message, failure);
        throw new IOException("the client closed the connection while streaming");
    }

    // One XLogData: from `sent` to at most 128 kB further (rounded down to a page when more is
    // pending), within one segment; returns the new sent position.
    private async ValueTask<Lsn> SendChunkAsync(Lsn sent, Lsn end, TimelineId timeline, Lsn endOfTimeline, TimelineId next)
    {
        var geometry = _server.Geometry;
        Lsn upTo = end;
        if (end - sent > MaxSendSize)
            upTo = WalGeometry.PageStart(sent + MaxSendSize);
        var segment = geometry.SegmentOf(sent);
        upTo = Lsn.Min(upTo, geometry.SegmentStart(segment.Next));
        int length = (int)(upTo - sent);
        // The segment holding a historic timeline's switch point is read from the next timeline's
        // file (the old one may be missing or a .partial), as WalSndSegmentOpen does.
        var fileTimeline = endOfTimeline.IsValid && geometry.SegmentOf(endOfTimeline) == segment ? next : timeline;
        string name = SegmentFileName.Format(fileTimeline, segment, geometry);
        // The XLogData is built in the send pipe's memory and the WAL read straight into it.
        const int Header = 25;
        var message = _connection.ReserveMessage((byte)'d', Header + length);
        var data = message[Header..];
        long offset = geometry.OffsetInSegment(sent);
        bool fromBuffers = !endOfTimeline.IsValid && fileTimeline == _server.Timeline && _server.TryReadFromBuffers(sent, data);
        if (fromBuffers)
        {
            _server.CountFromBuffers(length);
        }
        else
        {
            int read;
            try
            {
                read = _server.ReadWal(name, offset, data);
            }
            catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
            {
                throw Removed(name);
            }
            if (read < length)
                throw new ReplicationError("XX001", $"could not read from log segment {name}, offset {offset}: read {read} of {length}");
            if (!_server.WalFileExists(name))
                throw Removed(name);   // recycled while it was read: what was read may be new WAL
        }
        long now = Stopwatch.GetTimestamp();
        message[0] = (byte)'w';
        BinaryPrimitives.WriteInt64BigEndian(message[1..], (long)sent.Value);
        BinaryPrimitives.WriteInt64BigEndian(message[9..], (long)end.Value);
        BinaryPrimitives.WriteInt64BigEndian(message[17..], PgTimestamp.FromDateTimeOffset(DateTimeOffset.UtcNow));
        _connection.CommitMessage(Header + length);
        Lag.Sent(upTo, now);
        // Several chunks go out in one write while more is pending; a partial one is sent at once.
        if (upTo == end || ++_unflushedChunks >= 4)
        {
            _unflushedChunks = 0;
            await FlushAsync().ConfigureAwait(false);
        }
        Volatile.Write(ref _sentLsn, upTo.Value);
        _server.CountSent(length);
        return upTo;
    }

    private static ReplicationError Removed(string name) => new("58P01", $"requested WAL segment {name} has already been removed");

    private async ValueTask KeepaliveAsync(Lsn sent, bool requestReply)
    {
        _connection.Writer.Begin((byte)'d').Byte((byte)'k').Int64((long)sent.Value)
            .Int64(PgTimestamp.FromDateTimeOffset(DateTimeOffset.UtcNow)).Byte(requestReply ? (byte)1 : (byte)0).End();
        await FlushAsync().ConfigureAwait(false);
    }

    // Shutdown (WalSndDone): everything flushed is sent, the client is asked to confirm it, then
    // CommandComplete "COPY 0" without CopyDone, and the connection closes.
    private async Task<bool> ShutdownStreamAsync(Lsn sent, CancellationToken cancellation)
    {
        State = "stopping";
        Lsn end = _server.FlushedUpTo;
        while (sent < end)
            sent = await SendChunkAsync(sent, end, _server.Timeline, Lsn.Invalid, default).ConfigureAwait(false);
        var deadline = Stopwatch.GetTimestamp() + (long)(ShutdownReplyWait.TotalSeconds * Stopwatch.Frequency);
        while (Stopwatch.GetTimestamp() < deadline && !_readerDone)
        {
            var flush = new Lsn(Volatile.Read(ref _flushLsn));
            Lsn confirmed = flush.IsValid ? flush : new Lsn(Volatile.Read(ref _writeLsn));
            if (confirmed >= sent)
                break;
            await KeepaliveAsync(sent, requestReply: true).ConfigureAwait(false);
            await _wake.WaitAsync(TimeSpan.FromMilliseconds(200), cancellation).ConfigureAwait(false);
        }
        _connection.Writer.CommandComplete("COPY 0");
        await FlushAsync().ConfigureAwait(false);
        _commands.Writer.TryComplete();
        return false;
    }

    // Runs on the reader task: what the client sends during COPY-both.
    private void HandleCopyMessage(PgMessage message)
    {
        if (message.Type == (byte)'c')
        {
            Volatile.Write(ref _copyDoneReceived, 1);
            Volatile.Write(ref _streaming, 0);   // what follows is the next command
            Wake();
            return;
        }
        var body = message.Body;
        Span<byte> copy = stackalloc byte[64];
        if (body.Length > copy.Length)
            throw new ProtocolException($"standby message of {body.Length} bytes: status updates and feedback are at most {copy.Length}");
        body.CopyTo(copy);
        var reader = new PgBodyReader(copy[..(int)body.Length], "standby message");
        byte kind = reader.ReadByte();
        switch ((char)kind)
        {
            case 'r':
                var write = new Lsn((ulong)reader.ReadInt64());
                var flush = new Lsn((ulong)reader.ReadInt64());
                var apply = new Lsn((ulong)reader.ReadInt64());
                long clientTime = reader.ReadInt64();
                bool reply = reader.ReadByte() != 0;
                Volatile.Write(ref _writeLsn, write.Value);
                Volatile.Write(ref _flushLsn, flush.Value);
                Volatile.Write(ref _applyLsn, apply.Value);
                Volatile.Write(ref _replyTimeTz, clientTime);
                Lag.Reported(write, flush, apply, new Lsn(Volatile.Read(ref _sentLsn)));
                if (_slot is { } slot && flush.IsValid)
                    _server.Slots?.ConfirmFlush(slot, flush);
                if (reply)
                    Volatile.Write(ref _replyRequested, 1);
                _server.ReplyReceived(this);
                Wake();
                break;
            case 'h':
                Volatile.Write(ref _replyTimeTz, reader.ReadInt64());
                reader.ReadInt32();   // xmin, epoch, catalog_xmin, epoch: PgWal has no snapshots to hold back
                reader.ReadInt32();
                reader.ReadInt32();
                reader.ReadInt32();
                break;
            default:
                throw new ProtocolException($"unexpected message type \"{(char)kind}\"");
        }
    }
}
