// SegmentProvider: finds or creates segment files for the file writer, and lets the background
// writer create upcoming ones ahead of time (PostgreSQL's XLogFileInit / PreallocXlogFiles) so the
// write path normally only opens a file. Creation of one segment happens once: a second caller
// asking for a segment that is being created waits for that creation instead of racing it.
// A segment counts as present only once its name is known durable: created or renamed by us with
// the directory synced, or found on disk and the directory synced before first use (a file left by
// a process killed between its rename and its directory fsync may not survive a power loss). A
// failure that may leave a name in place without that guarantee — any fsync failure, or a create or
// rename that failed after its file appeared — faults the engine, as PostgreSQL PANICs.
using PgWal.Format;
using PgWal.Storage;

namespace PgWal.Write;

internal sealed class SegmentProvider(IWalStorage storage, WalGeometry geometry, TimelineId timeline, SegmentOpenOptions openOptions, WalFault fault)
{
    private readonly object _lock = new();
    private readonly HashSet<SegmentNumber> _present = [];                          // guarded by _lock
    private readonly Dictionary<SegmentNumber, ManualResetEventSlim> _creating = []; // guarded by _lock
    private long _created;

    /// <summary>Segments this provider created (for statistics and tests).</summary>
    public long Created => Volatile.Read(ref _created);

    public string FileName(SegmentNumber segment) => SegmentFileName.Format(timeline, segment, geometry);

    /// <summary>Opens <paramref name="segment"/> for writing, creating it (zero-filled, durably) when missing.</summary>
    public IWalSegmentFile Open(SegmentNumber segment)
    {
        Ensure(segment);
        lock (_lock)
        {
            if (segment.Value > _highestOpened)
                _highestOpened = segment.Value;
        }
        return storage.Open(FileName(segment), openOptions);
    }

    // The highest segment the writer opened (guarded by _lock). Segments at or below it are written
    // already and may have been archived and removed since: preallocation must never create them
    // again (a queued preallocation that runs late would leave a zero-filled segment that archiving
    // then offers, and fails on, forever).
    private ulong _highestOpened;

    /// <summary>
    /// Creates an upcoming <paramref name="segment"/> ahead of the writer, unless the writer has
    /// reached or passed it; returns true when it created it.
    /// </summary>
    public bool Preallocate(SegmentNumber segment)
    {
        lock (_lock)
        {
            if (segment.Value <= _highestOpened)
                return false;
        }
        return Ensure(segment);
    }

    /// <summary>Creates <paramref name="segment"/> unless it exists. Returns true when it created it.</summary>
    public bool Ensure(SegmentNumber segment)
    {
        while (true)
        {
            ManualResetEventSlim? wait;
            lock (_lock)
            {
                if (_present.Contains(segment))
                    return false;
                if (!_creating.TryGetValue(segment, out wait))
                {
                    if (storage.Exists(FileName(segment)))
                    {
                        Durably(storage.SyncDirectory, null);
                        _present.Add(segment);
                        return false;
                    }
                    _creating.Add(segment, new ManualResetEventSlim());
                }
            }
            if (wait != null)
            {
                wait.Wait();
                continue;
            }
            return Create(segment);
        }
    }

    private bool Create(SegmentNumber segment)
    {
        bool ok = false;
        try
        {
            Durably(() => storage.Create(FileName(segment), geometry.SegmentSize).Dispose(), FileName(segment));
            Interlocked.Increment(ref _created);
            ok = true;
            return true;
        }
        finally
        {
            ManualResetEventSlim done;
            lock (_lock)
            {
                done = _creating[segment];
                _creating.Remove(segment);
                if (ok)
                    _present.Add(segment);
            }
            done.Set();
        }
    }

    /// <summary>
    /// InstallXLogFileSegment for recycling: renames <paramref name="oldName"/> to the first segment
    /// in [<paramref name="from"/>, <paramref name="upTo"/>] that neither exists nor is being
    /// created. Returns false (nothing renamed) when there is no free slot.
    /// </summary>
    public bool InstallRecycled(string oldName, SegmentNumber from, SegmentNumber upTo)
    {
        lock (_lock)
        {
            for (var segment = from; segment.Value <= upTo.Value; segment = segment.Next)
            {
                if (_present.Contains(segment) || _creating.ContainsKey(segment) || storage.Exists(FileName(segment)))
                    continue;
                Durably(() => storage.Rename(oldName, FileName(segment)), FileName(segment));
                _present.Add(segment);
                Forget(oldName);
                return true;
            }
            return false;
        }
    }

    /// <summary>Removes an old segment file.</summary>
    public void Remove(string oldName)
    {
        lock (_lock)
        {
            Durably(() => storage.Delete(oldName), null);
            Forget(oldName);
        }
    }

    // Runs a metadata operation; a failure that leaves `appears` (or anything) of unknown
    // durability faults the engine, other failures (nothing changed) are the caller's to report.
    private void Durably(Action operation, string? appears)
    {
        fault.ThrowIfSet();
        try
        {
            operation();
        }
        catch (Exception e) when (WalFault.IsStorageFailure(e))
        {
            if (e is SyncFailedException || (appears != null && ExistsAfterFailure(appears)))
                throw fault.Set(e);
            throw;
        }
    }

    private bool ExistsAfterFailure(string name)
    {
        try
        {
            return storage.Exists(name);
        }
        catch (Exception e) when (WalFault.IsStorageFailure(e))
        {
            return true;    // cannot tell: assume the worst
        }
    }

    private void Forget(string oldName)
    {
        if (SegmentFileName.TryParse(oldName, geometry, out var tli, out var old) && tli == timeline)
            _present.Remove(old);
    }
}
