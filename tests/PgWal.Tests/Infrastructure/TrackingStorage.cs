// TrackingStorage: an IWalStorage over real files that (a) counts writes and syncs and computes
// which LSN the completed syncs make durable, (b) can hold every write in memory until the file is
// synced — so the files on disk contain exactly what a power loss would leave — and (c) can fail
// the Nth write or sync with a chosen error. Thread-safe: the engine calls it from several threads.
using PgWal.Format;
using PgWal.Storage;

namespace PgWal.Tests.Infrastructure;

internal sealed class TrackingStorage(string directory, WalGeometry geometry, bool dropUnsynced = false) : IWalStorage
{
    private readonly FileSystemWalStorage _inner = new(directory);
    private readonly bool _dropUnsynced = dropUnsynced;
    private readonly object _lock = new();
    private readonly Dictionary<SegmentNumber, long> _syncedHighWater = [];   // guarded by _lock
    private long _writes, _syncs, _syncsAfterFailure;
    private ulong _durableUpTo;
    private bool _failed;

    public string Location => _inner.Location;

    /// <summary>Fail the write (or sync) with this ordinal (1-based; 0 = never) with <see cref="Error"/>.</summary>
    public long FailWriteNumber { get; set; }
    public long FailSyncNumber { get; set; }
    public IOException Error { get; set; } = new("Input/output error");

    /// <summary>Fails the next write with <paramref name="error"/>.</summary>
    public void FailNextWrite(IOException error)
    {
        Error = error;
        FailWriteNumber = Writes + 1;
    }

    /// <summary>Fails the next sync with <paramref name="error"/>.</summary>
    public void FailNextSync(IOException error)
    {
        Error = error;
        FailSyncNumber = Syncs + 1;
    }

    public long Writes => Interlocked.Read(ref _writes);
    public long Syncs => Interlocked.Read(ref _syncs);
    public long SyncsAfterFailure => Interlocked.Read(ref _syncsAfterFailure);

    /// <summary>The end of the contiguous WAL prefix covered by completed syncs (page-granular).</summary>
    public Lsn DurableUpTo => new(Volatile.Read(ref _durableUpTo));

    /// <summary>Treat the first segment as durable from here (where the engine started).</summary>
    public void StartAt(Lsn start) => _durableUpTo = start.Value;

    public bool Exists(string fileName) => _inner.Exists(fileName);

    public void SyncDirectory() => _inner.SyncDirectory();

    public void SetAside(string fileName, string folder, bool keepOriginal) => _inner.SetAside(fileName, folder, keepOriginal);

    public IWalSegmentFile Create(string fileName, int size) { _inner.Create(fileName, size).Dispose(); return Open(fileName); }

    public IWalSegmentFile Open(string fileName, SegmentOpenOptions options = default)
    {
        if (!SegmentFileName.TryParse(fileName, geometry, out _, out var segment))
            throw new ArgumentException(fileName);
        return new File(this, _inner.Open(fileName, options), segment);
    }

    private sealed class File(TrackingStorage owner, IWalSegmentFile inner, SegmentNumber segment) : IWalSegmentFile
    {
        private readonly List<(long Offset, byte[] Data)> _pending = [];
        private long _writtenHighWater;

        public string Name => inner.Name;

        public void Write(long offset, ReadOnlySpan<byte> data)
        {
            long n = Interlocked.Increment(ref owner._writes);
            if (n == owner.FailWriteNumber)
            {
                owner._failed = true;
                throw owner.Error;
            }
            if (owner._dropUnsynced)
                _pending.Add((offset, data.ToArray()));
            else
                inner.Write(offset, data);
            _writtenHighWater = Math.Max(_writtenHighWater, offset + data.Length);
        }

        public void Sync()
        {
            long n = Interlocked.Increment(ref owner._syncs);
            if (owner._failed)
                Interlocked.Increment(ref owner._syncsAfterFailure);
            long covered = _writtenHighWater;   // what was written before the sync started
            if (n == owner.FailSyncNumber)
            {
                owner._failed = true;
                _pending.Clear();               // a failed sync may lose the dirty pages
                throw owner.Error;
            }
            foreach (var (offset, data) in _pending)
                inner.Write(offset, data);
            _pending.Clear();
            inner.Sync();
            owner.Synced(segment, covered);
        }

        public void Dispose() => inner.Dispose();   // unsynced writes are dropped, as by a crash
    }

    private void Synced(SegmentNumber segment, long highWater)
    {
        lock (_lock)
        {
            _syncedHighWater[segment] = Math.Max(_syncedHighWater.GetValueOrDefault(segment), highWater);
            ulong durable = _durableUpTo;
            while (true)
            {
                var seg = geometry.SegmentOf(new Lsn(durable));
                long hw = _syncedHighWater.GetValueOrDefault(seg);
                ulong end = geometry.SegmentStart(seg).Value + (ulong)hw;
                if (end <= durable)
                    break;
                durable = end;
                if (hw < geometry.SegmentSize)
                    break;
            }
            Volatile.Write(ref _durableUpTo, durable);
        }
    }
}
