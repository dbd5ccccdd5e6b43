// DiscardingStorage: `pgwal bench --discard` — segment "files" that accept writes and syncs and
// keep nothing, to measure the insert path (reserve, copy, page handling, write calls) without the
// disk and the kernel's page cache. Never durable; only for finding what bounds a measurement.
using PgWal.Storage;

namespace PgWal.Cli.Bench;

internal sealed class DiscardingStorage : IWalStorage
{
    private readonly HashSet<string> _files = [];

    public string Location => "(discarded)";

    public bool Exists(string fileName)
    {
        lock (_files)
            return _files.Contains(fileName);
    }

    public IWalSegmentFile Create(string fileName, int size)
    {
        lock (_files)
            _files.Add(fileName);
        return new NullFile(fileName);
    }

    public IWalSegmentFile Open(string fileName, SegmentOpenOptions options = default) => new NullFile(fileName);

    private sealed class NullFile(string name) : IWalSegmentFile
    {
        public string Name => name;

        public void Write(long offset, ReadOnlySpan<byte> data)
        {
        }

        public void Sync()
        {
        }

        public void Dispose()
        {
        }
    }
}
