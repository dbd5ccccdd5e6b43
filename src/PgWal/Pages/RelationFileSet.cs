// RelationFileSet: the open relation files and the sync requests against them (md.c + sync.c):
// each write-back registers its file; a checkpoint fsyncs every registered file after writing its
// dirty pages, so the checkpoint's promise ("every change before the redo point is on disk")
// holds. A failed fsync is not retried: the caller (checkpointer) PANICs the instance. A file's
// request is dropped just before its fsync (a write registering meanwhile adds it again) and put
// back if the fsync fails, so a failure never silently forgets the files not yet synced.
using PgWal.Storage;

namespace PgWal.Pages;

internal sealed class RelationFileSet(IRelationStorage storage) : IDisposable
{
    private readonly Dictionary<(RelFileLocator, ForkNumber), IRelationFile> _files = [];  // guarded by _files
    private readonly HashSet<(RelFileLocator, ForkNumber)> _needSync = [];                 // guarded by _files

    public IRelationFile Get(RelFileLocator rel, ForkNumber fork)
    {
        lock (_files)
        {
            if (!_files.TryGetValue((rel, fork), out var file))
                _files[(rel, fork)] = file = storage.Open(rel, fork);
            return file;
        }
    }

    /// <summary>RegisterSyncRequest: the file was written and must be fsynced by the next checkpoint.</summary>
    public void RegisterWrite(RelFileLocator rel, ForkNumber fork)
    {
        lock (_files)
            _needSync.Add((rel, fork));
    }

    /// <summary>ProcessSyncRequests: fsyncs every file written since the last call.</summary>
    public int SyncAll()
    {
        List<(RelFileLocator, ForkNumber)> pending;
        lock (_files)
            pending = [.. _needSync];
        foreach (var key in pending)
        {
            lock (_files)
                _needSync.Remove(key);
            try
            {
                Get(key.Item1, key.Item2).Sync();
            }
            catch
            {
                lock (_files)
                    _needSync.Add(key);
                throw;
            }
        }
        return pending.Count;
    }

    /// <summary>fsyncs every relation file present (crash recovery's SyncDataDirectory).</summary>
    public void SyncEveryFile()
    {
        foreach (var (rel, fork) in storage.List())
            Get(rel, fork).Sync();
    }

    public void Dispose()
    {
        lock (_files)
        {
            foreach (var file in _files.Values)
                file.Dispose();
            _files.Clear();
        }
    }
}
