// FaultInjectingStorage: a real data directory (FileSystemDataDirectory) whose operations can be
// made to fail on cue, the way a failing disk or file system fails them: a directory fsync failing
// after a segment was created or renamed into place (the name is there, its durability unknown),
// a relation file's fsync failing, a control-file write failing. Thread-safe; the predicates are
// called on the engine's threads.
using PgWal.Storage;

namespace PgWal.Tests.Infrastructure;

internal sealed class FaultInjectingStorage : IDataDirectoryStorage
{
    private readonly FileSystemDataDirectory _inner;

    public FaultInjectingStorage(string directory)
    {
        _inner = new FileSystemDataDirectory(directory);
        Wal = new FaultInjectingWalStorage(_inner.Wal);
        Relations = new RelationView(this, _inner.Relations);
        Control = new ControlView(this, _inner.Control);
    }

    public string Location => _inner.Location;
    public FaultInjectingWalStorage Wal { get; }
    IWalStorage IDataDirectoryStorage.Wal => Wal;
    public IRelationStorage Relations { get; }
    public IControlFileStorage Control { get; }
    public void CreateLayout() => _inner.CreateLayout();
    public byte[]? ReadFile(string relativePath) => _inner.ReadFile(relativePath);
    public void WriteFileDurably(string relativePath, ReadOnlySpan<byte> content) => _inner.WriteFileDurably(relativePath, content);
    public IDisposable? Lock() => _inner.Lock();
    public IDisposable? LockShared() => _inner.LockShared();

    /// <summary>Fail the fsync of a relation file whose path matches (after the writes reached the file).</summary>
    public Func<string, bool>? FailRelationSync { get; set; }

    /// <summary>Fail the write of a relation block (path, block) with "No space left on device" while this returns true.</summary>
    public Func<string, uint, bool>? FailRelationWrite { get; set; }

    /// <summary>Fail control-file writes while this returns true.</summary>
    public Func<bool>? FailControlWrite { get; set; }

    public int RelationSyncFailures;
    public int ControlWriteFailures;

    private sealed class RelationView(FaultInjectingStorage owner, IRelationStorage inner) : IRelationStorage
    {
        public bool Exists(RelFileLocator rel, ForkNumber fork) => inner.Exists(rel, fork);
        public IRelationFile Open(RelFileLocator rel, ForkNumber fork) => new File(owner, inner.Open(rel, fork));
        public IReadOnlyList<(RelFileLocator Rel, ForkNumber Fork)> List() => inner.List();
    }

    private sealed class File(FaultInjectingStorage owner, IRelationFile inner) : IRelationFile
    {
        public string Path => inner.Path;
        public uint BlockCount => inner.BlockCount;
        public bool Read(BlockNumber block, Span<byte> page) => inner.Read(block, page);
        public void Write(BlockNumber block, ReadOnlySpan<byte> page)
        {
            if (owner.FailRelationWrite?.Invoke(inner.Path, block.Value) == true)
                throw new IOException($"could not write block {block.Value} in file \"{inner.Path}\": No space left on device");
            inner.Write(block, page);
        }

        public void Sync()
        {
            if (owner.FailRelationSync?.Invoke(inner.Path) == true)
            {
                Interlocked.Increment(ref owner.RelationSyncFailures);
                throw new SyncFailedException($"could not fsync file \"{inner.Path}\": Input/output error");
            }
            inner.Sync();
        }

        public void Dispose() => inner.Dispose();
    }

    private sealed class ControlView(FaultInjectingStorage owner, IControlFileStorage inner) : IControlFileStorage
    {
        public int Read(Span<byte> destination) => inner.Read(destination);

        public void WriteDurably(ReadOnlySpan<byte> content)
        {
            if (owner.FailControlWrite?.Invoke() == true)
            {
                Interlocked.Increment(ref owner.ControlWriteFailures);
                throw new IOException("could not write to file \"global/pg_control\": No space left on device");
            }
            inner.WriteDurably(content);
        }
    }
}

/// <summary>pg_wal whose directory fsync can fail right after a create or rename has put a name in place.</summary>
internal sealed class FaultInjectingWalStorage(IWalStorage inner) : IWalStorage
{
    /// <summary>Fail the directory fsync after creating a segment with this name (the file is then in place).</summary>
    public volatile Func<string, bool>? FailDirectorySyncAfterCreate;

    /// <summary>Fail the directory fsync after renaming a file to this name.</summary>
    public volatile Func<string, bool>? FailDirectorySyncAfterRename;

    /// <summary>Names created, in order (with the managed thread that created each).</summary>
    public readonly System.Collections.Concurrent.ConcurrentQueue<(string Name, bool PoolThread)> Created = new();

    public int DirectorySyncFailures;

    /// <summary>While set and not signalled, segment syncs wait at their start (a flush held in progress).</summary>
    public volatile ManualResetEventSlim? SyncGate;

    /// <summary>While set, segment syncs (after <see cref="SyncGate"/>) fail with it, as a failing disk's fsync does.</summary>
    public volatile IOException? SyncFailure;

    /// <summary>Syncs waiting at <see cref="SyncGate"/> now.</summary>
    public int SyncsWaiting => Volatile.Read(ref _syncsWaiting);
    private int _syncsWaiting;

    public string Location => inner.Location;
    public bool Exists(string fileName) => inner.Exists(fileName);
    public IWalSegmentFile Open(string fileName, SegmentOpenOptions options = default) => new GatedFile(this, inner.Open(fileName, options));

    private sealed class GatedFile(FaultInjectingWalStorage owner, IWalSegmentFile inner) : IWalSegmentFile
    {
        public string Name => inner.Name;
        public void Write(long offset, ReadOnlySpan<byte> data) => inner.Write(offset, data);
        public void Dispose() => inner.Dispose();

        public void Sync()
        {
            if (owner.SyncGate is { } gate)
            {
                Interlocked.Increment(ref owner._syncsWaiting);
                gate.Wait();
                Interlocked.Decrement(ref owner._syncsWaiting);
            }
            if (owner.SyncFailure is { } failure)
                throw failure;
            inner.Sync();
        }
    }
    public IReadOnlyList<string> ListFiles() => inner.ListFiles();
    public int Read(string fileName, long offset, Span<byte> destination) => inner.Read(fileName, offset, destination);
    public void Delete(string fileName) => inner.Delete(fileName);
    public void SyncDirectory() => inner.SyncDirectory();
    public void SetAside(string fileName, string folder, bool keepOriginal) => inner.SetAside(fileName, folder, keepOriginal);

    public IWalSegmentFile Create(string fileName, int size)
    {
        var file = new GatedFile(this, inner.Create(fileName, size));
        Created.Enqueue((fileName, Thread.CurrentThread.IsThreadPoolThread));
        if (FailDirectorySyncAfterCreate?.Invoke(fileName) == true)
        {
            file.Dispose();
            throw DirectorySyncFailed();
        }
        return file;
    }

    public void Rename(string from, string to)
    {
        inner.Rename(from, to);
        if (FailDirectorySyncAfterRename?.Invoke(to) == true)
            throw DirectorySyncFailed();
    }

    private SyncFailedException DirectorySyncFailed()
    {
        Interlocked.Increment(ref DirectorySyncFailures);
        return new SyncFailedException($"could not fsync directory \"{inner.Location}\": Input/output error");
    }
}
