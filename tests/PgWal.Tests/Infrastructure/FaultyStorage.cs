// FaultyStorage: an IWalStorage over the real file system that can fail the next write or sync
// (EIO, ENOSPC) and logs every write and sync, so tests can check what the writer does after a
// failure and that every acknowledged flush was covered by a sync that succeeded.
using PgWal.Storage;

namespace PgWal.Tests.Infrastructure;

internal sealed class FaultyStorage(string directory) : IWalStorage
{
    private readonly FileSystemWalStorage _inner = new(directory);

    public string Location => _inner.Location;
    public IOException? FailNextSync { get; set; }
    public IOException? FailNextWrite { get; set; }
    public List<string> Log { get; } = [];
    public int SyncsAfterFailure { get; private set; }
    private bool _failed;

    public bool Exists(string fileName) => _inner.Exists(fileName);

    public IWalSegmentFile Create(string fileName, int size) => new File(this, _inner.Create(fileName, size));

    public IWalSegmentFile Open(string fileName, SegmentOpenOptions options = default) => new File(this, _inner.Open(fileName, options));

    private sealed class File(FaultyStorage owner, IWalSegmentFile inner) : IWalSegmentFile
    {
        public string Name => inner.Name;

        public void Write(long offset, ReadOnlySpan<byte> data)
        {
            owner.Log.Add($"write {Name} {offset} {data.Length}");
            if (owner.FailNextWrite is { } e)
            {
                owner.FailNextWrite = null;
                owner._failed = true;
                throw e;
            }
            inner.Write(offset, data);
        }

        public void Sync()
        {
            owner.Log.Add($"sync {Name}");
            if (owner._failed)
                owner.SyncsAfterFailure++;
            if (owner.FailNextSync is { } e)
            {
                owner.FailNextSync = null;
                owner._failed = true;
                throw e;
            }
            inner.Sync();
        }

        public void Dispose() => inner.Dispose();
    }
}
