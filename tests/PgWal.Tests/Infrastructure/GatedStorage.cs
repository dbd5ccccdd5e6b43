// GatedStorage: wraps a data directory's storage and parks the write of one chosen relation block
// until released, to pin down interleavings (a write-back in flight while a checkpoint runs).
using PgWal.Storage;

namespace PgWal.Tests.Infrastructure;

internal sealed class GatedStorage(IDataDirectoryStorage inner) : IDataDirectoryStorage
{
    public readonly ManualResetEventSlim Entered = new();
    public readonly ManualResetEventSlim Release = new();
    public volatile string? GatePath;
    public volatile int GateBlock = -1;
    public string Location => inner.Location;
    public IWalStorage Wal => inner.Wal;
    public IControlFileStorage Control => inner.Control;
    public void CreateLayout() => inner.CreateLayout();
    public byte[]? ReadFile(string relativePath) => inner.ReadFile(relativePath);
    public void WriteFileDurably(string relativePath, ReadOnlySpan<byte> content) => inner.WriteFileDurably(relativePath, content);
    public IRelationStorage Relations => new Rel(this, inner.Relations);

    private sealed class Rel(GatedStorage g, IRelationStorage r) : IRelationStorage
    {
        public bool Exists(RelFileLocator rel, ForkNumber fork) => r.Exists(rel, fork);
        public IRelationFile Open(RelFileLocator rel, ForkNumber fork) => new F(g, r.Open(rel, fork));
        public IReadOnlyList<(RelFileLocator Rel, ForkNumber Fork)> List() => r.List();
    }

    private sealed class F(GatedStorage g, IRelationFile f) : IRelationFile
    {
        public string Path => f.Path;
        public uint BlockCount => f.BlockCount;
        public bool Read(BlockNumber block, Span<byte> page) => f.Read(block, page);
        public void Write(BlockNumber block, ReadOnlySpan<byte> page)
        {
            if (g.GatePath == f.Path && g.GateBlock == (int)block.Value)
            {
                g.GatePath = null;
                g.Entered.Set();
                g.Release.Wait();
            }
            f.Write(block, page);
        }
        public void Sync() => f.Sync();
        public void Dispose() => f.Dispose();
    }
}
