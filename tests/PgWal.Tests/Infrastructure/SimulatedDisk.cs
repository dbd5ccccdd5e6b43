// SimulatedDisk: an in-memory data directory that loses power on cue. Every file has what reads
// see (the page cache) and what survives a power loss (the platter); writes reach the platter only
// when their file is synced. Metadata operations (create, rename, delete) are durable at once, as
// the real storage makes them (it syncs the directory). A crash is armed as "fail the Nth
// operation (of a kind)": that operation does not complete — a write is left half done — and every
// later operation throws, like a dead machine. PowerCycle() then keeps only the platter, except
// that the last unsynced write is torn at 512-byte sectors (a random subset of its sectors lands).
using PgWal.Storage;

namespace PgWal.Tests.Infrastructure;

internal enum DiskOp { WalWrite, WalSync, DataWrite, DataSync, ControlWrite, Create, Rename, Delete }

internal sealed class SimulatedDisk : IDataDirectoryStorage
{
    private const int Sector = 512;
    private readonly object _lock = new();
    private readonly Dictionary<string, SimFile> _files = new(StringComparer.Ordinal);    // guarded by _lock
    private readonly List<(SimFile File, long Offset, byte[] Data)> _unsynced = [];     // guarded by _lock, in write order
    private readonly Random _random;
    private long _countdown;          // operations (of _armedKind) left before the crash; 0 = not armed
    private DiskOp? _armedKind;

    public SimulatedDisk(int seed)
    {
        _random = new Random(seed);
        Wal = new WalView(this);
        Relations = new RelationView(this);
        Control = new ControlView(this);
    }

    public string Location => "(simulated disk)";
    public IWalStorage Wal { get; }
    public IRelationStorage Relations { get; }
    public IControlFileStorage Control { get; }
    public void CreateLayout() { }

    // Small files (markers): durable at once, like the other metadata operations.
    public byte[]? ReadFile(string relativePath)
    {
        lock (_lock)
        {
            if (Crashed)
                throw new IOException("simulated power loss: the disk is gone");
            return _files.TryGetValue(relativePath, out var file) ? file.Snapshot() : null;
        }
    }

    public void WriteFileDurably(string relativePath, ReadOnlySpan<byte> content)
    {
        lock (_lock)
        {
            if (Begin(DiskOp.Create))
                throw Lost();
            var file = new SimFile(0);
            file.Persist(0, content);
            file.DropCache();
            _files[relativePath] = file;
        }
    }

    public bool Crashed { get; private set; }

    /// <summary>The operation during which power was lost.</summary>
    public DiskOp? CrashedDuring { get; private set; }

    /// <summary>Operations performed per kind (since creation).</summary>
    public Dictionary<DiskOp, long> Counts { get; } = Enum.GetValues<DiskOp>().ToDictionary(k => k, _ => 0L);

    /// <summary>While set and not signalled, WAL syncs wait at their start (to hold a flush in progress).</summary>
    public ManualResetEventSlim? WalSyncGate { get; set; }

    /// <summary>WAL syncs waiting at <see cref="WalSyncGate"/> now.</summary>
    public int WalSyncsWaiting => Volatile.Read(ref _walSyncsWaiting);
    private int _walSyncsWaiting;

    /// <summary>Tear the last write keeping exactly its first N sectors (instead of a random subset).</summary>
    public int? TearKeepSectors { get; set; }

    /// <summary>Lose power during the <paramref name="n"/>th next operation (of <paramref name="kind"/>, or of any kind).</summary>
    public void ArmCrash(long n, DiskOp? kind = null)
    {
        lock (_lock)
        {
            _countdown = n;
            _armedKind = kind;
        }
    }

    /// <summary>Restarts the machine: unsynced writes are gone, the last one torn; the disk works again.</summary>
    public void PowerCycle()
    {
        lock (_lock)
        {
            if (_unsynced.Count > 0)
            {
                var (file, offset, data) = _unsynced[^1];
                int sectors = (data.Length + Sector - 1) / Sector;
                for (int s = 0; s < sectors; s++)
                {
                    bool lands = TearKeepSectors is { } keep ? s < keep : _random.Next(2) == 0;
                    if (lands)
                        file.Persist(offset + s * Sector, data.AsSpan(s * Sector, Math.Min(Sector, data.Length - s * Sector)));
                }
            }
            _unsynced.Clear();
            foreach (var file in _files.Values)
                file.DropCache();
            Crashed = false;
            CrashedDuring = null;
            _countdown = 0;
        }
    }

    /// <summary>Paths (under pg_wal) of the files recovery set aside in quarantine.</summary>
    public IReadOnlyList<string> SetAsideFiles()
    {
        lock (_lock)
            return _files.Keys.Where(k => k.StartsWith("pg_wal/quarantine/", StringComparison.Ordinal)).Select(k => k[7..]).ToList();
    }

    /// <summary>Copies the durable pg_wal files into <paramref name="directory"/> (for pg_waldump).</summary>
    public void ExportWal(string directory)
    {
        lock (_lock)
        {
            foreach (var (name, file) in _files)
            {
                if (name.StartsWith("pg_wal/", StringComparison.Ordinal) && name.IndexOf('/', 7) < 0)   // not what was set aside
                    File.WriteAllBytes(Path.Combine(directory, name[7..]), file.Snapshot());
            }
        }
    }

    // Called under _lock at the start of every operation: counts it and fires an armed crash.
    // Returns true when this operation is the one interrupted (a write then lands as unsynced).
    private bool Begin(DiskOp op)
    {
        if (Crashed)
            throw new IOException("simulated power loss: the disk is gone");
        Counts[op]++;
        if (_countdown > 0 && (_armedKind == null || _armedKind == op) && --_countdown == 0)
        {
            Crashed = true;
            CrashedDuring = op;
            return true;
        }
        return false;
    }

    private static IOException Lost() => new("simulated power loss during this operation");

    private void Write(SimFile file, DiskOp op, long offset, ReadOnlySpan<byte> data)
    {
        lock (_lock)
        {
            bool interrupted = Begin(op);
            file.Write(offset, data);
            _unsynced.Add((file, offset, data.ToArray()));
            if (interrupted)
                throw Lost();
        }
    }

    private void Sync(SimFile file, DiskOp op)
    {
        if (op == DiskOp.WalSync && WalSyncGate is { } gate)
        {
            Interlocked.Increment(ref _walSyncsWaiting);
            gate.Wait();
            Interlocked.Decrement(ref _walSyncsWaiting);
        }
        lock (_lock)
        {
            if (Begin(op))
                throw Lost();
            foreach (var (f, offset, data) in _unsynced)
            {
                if (f == file)
                    f.Persist(offset, data);
            }
            _unsynced.RemoveAll(u => u.File == file);
        }
    }

    private SimFile? Find(string name)
    {
        lock (_lock)
        {
            if (Crashed)
                throw new IOException("simulated power loss: the disk is gone");
            return _files.GetValueOrDefault(name);
        }
    }

    private SimFile GetOrCreate(string name, int size)
    {
        lock (_lock)
        {
            if (_files.TryGetValue(name, out var file))
                return file;
            if (Begin(DiskOp.Create))
                throw Lost();
            return _files[name] = new SimFile(size);
        }
    }

    private sealed class WalView(SimulatedDisk disk) : IWalStorage
    {
        public string Location => "(simulated)/pg_wal";
        public bool Exists(string fileName) => disk.Find("pg_wal/" + fileName) != null;

        public IWalSegmentFile Create(string fileName, int size)
        {
            disk.GetOrCreate("pg_wal/" + fileName, size);
            return Open(fileName);
        }

        public IWalSegmentFile Open(string fileName, SegmentOpenOptions options = default)
            => new Handle(disk, disk.Find("pg_wal/" + fileName) ?? throw new FileNotFoundException(fileName), fileName, DiskOp.WalWrite, DiskOp.WalSync);

        public IReadOnlyList<string> ListFiles()
        {
            lock (disk._lock)
                return disk._files.Keys.Where(k => k.StartsWith("pg_wal/", StringComparison.Ordinal) && k.IndexOf('/', 7) < 0).Select(k => k[7..]).ToList();
        }

        public int Read(string fileName, long offset, Span<byte> destination)
            => (disk.Find("pg_wal/" + fileName) ?? throw new FileNotFoundException(fileName)).Read(offset, destination);

        public void Rename(string from, string to)
        {
            lock (disk._lock)
            {
                if (disk.Begin(DiskOp.Rename))
                    throw Lost();
                if (disk._files.ContainsKey("pg_wal/" + to) || !disk._files.Remove("pg_wal/" + from, out var file))
                    throw new IOException($"cannot rename {from} to {to}");
                disk._files["pg_wal/" + to] = file;
            }
        }

        public void Delete(string fileName)
        {
            lock (disk._lock)
            {
                if (disk.Begin(DiskOp.Delete))
                    throw Lost();
                disk._files.Remove("pg_wal/" + fileName);
            }
        }

        // Durable at once, like the other metadata operations; a copy takes the file's current bytes.
        public void SetAside(string fileName, string folder, bool keepOriginal)
        {
            lock (disk._lock)
            {
                if (disk.Begin(DiskOp.Rename))
                    throw Lost();
                string target = $"pg_wal/{folder}/{fileName}";
                if (disk._files.ContainsKey(target) || !disk._files.TryGetValue("pg_wal/" + fileName, out var file))
                    throw new IOException($"cannot set {fileName} aside in {folder}");
                if (keepOriginal)
                {
                    var copy = new SimFile(0);
                    copy.Persist(0, file.Snapshot());
                    copy.DropCache();
                    disk._files[target] = copy;
                }
                else
                {
                    disk._files.Remove("pg_wal/" + fileName);
                    disk._files[target] = file;
                }
            }
        }


    }

    private sealed class RelationView(SimulatedDisk disk) : IRelationStorage
    {
        public bool Exists(RelFileLocator rel, ForkNumber fork) => disk.Find(RelationPath.Of(rel, fork)) != null;

        public IRelationFile Open(RelFileLocator rel, ForkNumber fork)
        {
            string path = RelationPath.Of(rel, fork);
            return new Handle(disk, disk.GetOrCreate(path, 0), path, DiskOp.DataWrite, DiskOp.DataSync);
        }

        public IReadOnlyList<(RelFileLocator Rel, ForkNumber Fork)> List()
        {
            lock (disk._lock)
            {
                return disk._files.Keys.Where(k => k.StartsWith("base/", StringComparison.Ordinal))
                    .Select(k => k.Split('/'))
                    .Select(p => (new RelFileLocator(RelationPath.DefaultTablespace, uint.Parse(p[1]), uint.Parse(p[2])), ForkNumber.Main))
                    .ToList();
            }
        }
    }

    private sealed class ControlView(SimulatedDisk disk) : IControlFileStorage
    {
        public int Read(Span<byte> destination) => disk.Find("global/pg_control") is { } file ? file.Read(0, destination) : -1;

        public void WriteDurably(ReadOnlySpan<byte> content)
        {
            var file = disk.GetOrCreate("global/pg_control", 0);
            disk.Write(file, DiskOp.ControlWrite, 0, content);
            lock (disk._lock)
            {
                foreach (var (f, offset, data) in disk._unsynced)
                {
                    if (f == file)
                        f.Persist(offset, data);
                }
                disk._unsynced.RemoveAll(u => u.File == file);
            }
        }
    }

    private sealed class Handle(SimulatedDisk disk, SimFile file, string path, DiskOp writeOp, DiskOp syncOp) : IWalSegmentFile, IRelationFile
    {
        public string Name => path;
        public string Path => path;
        public uint BlockCount => (uint)(file.Length / 8192);
        public void Write(long offset, ReadOnlySpan<byte> data) => disk.Write(file, writeOp, offset, data);
        public void Sync() => disk.Sync(file, syncOp);

        public bool Read(BlockNumber block, Span<byte> page)
        {
            long offset = (long)block.Value * 8192;
            lock (disk._lock)
            {
                if (disk.Crashed)
                    throw new IOException("simulated power loss: the disk is gone");
                if (offset + 8192 > file.Length)
                    return false;
                file.Read(offset, page[..8192]);
                return true;
            }
        }

        public void Write(BlockNumber block, ReadOnlySpan<byte> page) => Write((long)block.Value * 8192, page);
        public void Dispose() { }
    }

    private sealed class SimFile(int size)
    {
        private byte[] _cache = new byte[size];
        private byte[] _platter = new byte[size];
        public long Length { get; private set; } = size;
        private long _platterLength = size;

        public void Write(long offset, ReadOnlySpan<byte> data)
        {
            Grow(ref _cache, offset + data.Length);
            data.CopyTo(_cache.AsSpan((int)offset));
            Length = Math.Max(Length, offset + data.Length);
        }

        public void Persist(long offset, ReadOnlySpan<byte> data)
        {
            Grow(ref _platter, offset + data.Length);
            data.CopyTo(_platter.AsSpan((int)offset));
            _platterLength = Math.Max(_platterLength, offset + data.Length);
        }

        public void DropCache()
        {
            _cache = (byte[])_platter.Clone();
            Length = _platterLength;
        }

        public int Read(long offset, Span<byte> destination)
        {
            int n = (int)Math.Clamp(Length - offset, 0, destination.Length);
            _cache.AsSpan((int)offset, n).CopyTo(destination);
            return n;
        }

        public byte[] Snapshot() => _platter.AsSpan(0, (int)_platterLength).ToArray();

        private static void Grow(ref byte[] array, long needed)
        {
            if (needed > array.Length)
                Array.Resize(ref array, (int)Math.Max(needed, array.Length * 2L));
        }
    }
}
