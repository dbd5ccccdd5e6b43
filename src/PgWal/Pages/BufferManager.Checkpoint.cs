// BufferManager.Checkpoint: the checkpoint's part of the pool (BufferSync + ProcessSyncRequests).
// Phase 1 marks every buffer dirty at the start (CheckpointNeeded); phase 2 writes them in tag
// order, reporting progress so the checkpointer can spread the writes; then every file written
// since the last checkpoint is fsynced. Pages dirtied after phase 1 belong to the next checkpoint:
// their changes are after the redo point and will be replayed.
using PgWal.Storage;

namespace PgWal.Pages;

public sealed partial class BufferManager
{
    /// <summary>
    /// BufferSync: writes every buffer that is dirty now; <paramref name="progress"/> is called after
    /// each with (done, total) and may sleep to spread the writes. Returns the pages written.
    /// </summary>
    internal int WriteDirtyForCheckpoint(Action<int, int>? progress)
    {
        var toWrite = new List<(BufferTag Tag, BufferDescriptor Desc)>();
        foreach (var desc in _descs)
        {
            lock (desc)
            {
                if (desc.Dirty && desc.Valid)
                {
                    desc.CheckpointNeeded = true;
                    toWrite.Add((desc.Tag, desc));
                }
            }
        }
        toWrite.Sort((a, b) => Compare(a.Tag, b.Tag));
        int written = 0;
        for (int i = 0; i < toWrite.Count; i++)
        {
            var (tag, desc) = toWrite[i];
            bool pinned;
            lock (desc)
            {
                pinned = desc.CheckpointNeeded && desc.Mapped && desc.Tag == tag;
                if (pinned)
                    desc.Pins++;
            }
            if (pinned)
            {
                try
                {
                    if (WriteBack(desc))
                        written++;
                }
                finally
                {
                    Unpin(desc);
                }
            }
            progress?.Invoke(i + 1, toWrite.Count);
        }
        return written;
    }

    /// <summary>fsyncs every relation file written since the last call.</summary>
    internal int SyncWrittenFiles() => _files.SyncAll();

    /// <summary>fsyncs every relation file present (the start of crash recovery).</summary>
    internal void SyncEveryFile() => _files.SyncEveryFile();

    /// <summary>Dirty buffers now.</summary>
    public int DirtyCount
    {
        get
        {
            int n = 0;
            foreach (var desc in _descs)
            {
                lock (desc)
                {
                    if (desc.Dirty)
                        n++;
                }
            }
            return n;
        }
    }

    private static int Compare(BufferTag a, BufferTag b)
    {
        int c = a.Rel.SpcOid.CompareTo(b.Rel.SpcOid);
        if (c == 0) c = a.Rel.DbOid.CompareTo(b.Rel.DbOid);
        if (c == 0) c = a.Rel.RelNumber.CompareTo(b.Rel.RelNumber);
        if (c == 0) c = a.Fork.CompareTo(b.Fork);
        return c != 0 ? c : a.Block.Value.CompareTo(b.Block.Value);
    }
}
