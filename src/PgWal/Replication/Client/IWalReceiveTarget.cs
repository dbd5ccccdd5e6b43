// IWalReceiveTarget: where a WalReceiver puts what it streams. The receiver decides positions,
// segment boundaries and when data must be durable; the target only owns files. Two layouts:
// DirectoryWalTarget writes as pg_receivewal 15 does (.partial while in progress, renamed when
// complete); a standby's target writes into a data directory's pg_wal. Calls come from one task.
using System.Buffers;

namespace PgWal.Replication.Client;

/// <summary>Receives streamed WAL segment by segment.</summary>
public interface IWalReceiveTarget : IDisposable
{
    /// <summary>
    /// Where streaming should resume from what is already there (pg_receivewal's FindStreamingStart):
    /// the start of the segment after the newest complete one, or the start of the newest partial
    /// one; null when there is nothing.
    /// </summary>
    (TimelineId Timeline, Lsn Start)? FindResumePoint();

    /// <summary>Whether the history file of <paramref name="timeline"/> is present.</summary>
    bool HasHistoryFile(TimelineId timeline);

    /// <summary>Stores a timeline history file durably; returns its path.</summary>
    string WriteHistoryFile(TimelineHistoryFile file);

    /// <summary>Whether a segment is open.</summary>
    bool IsOpen { get; }

    /// <summary>Opens <paramref name="segment"/> of <paramref name="timeline"/> for writing from its first byte.</summary>
    void OpenSegment(TimelineId timeline, SegmentNumber segment);

    /// <summary>Writes <paramref name="data"/> at the current offset of the open segment (never past its end).</summary>
    void Write(ReadOnlySequence<byte> data);

    /// <summary>Makes what was written durable (no-op when syncing is off).</summary>
    void Sync();

    /// <summary>The open segment is complete: makes it durable under its final name, closes it, returns its path.</summary>
    string CompleteSegment();

    /// <summary>Closes the open segment, incomplete (it keeps its in-progress name).</summary>
    void CloseIncomplete();
}

/// <summary>Gets each completed segment and history file of a receiver (e.g. to archive it).</summary>
public interface IWalReceiveSink
{
    /// <summary>A segment or history file is complete and durable at <paramref name="path"/> under <paramref name="name"/>.</summary>
    void FileCompleted(string path, string name);
}
