// Overflow: values too large to sit in a leaf live out of line in a chain of overflow pages, each
// holding up to 8,152 bytes; the leaf item keeps the first block and the length. A chain is
// written with WILL_INIT records of up to 31 pages each, and spliced whole onto the free list when
// its value is replaced or deleted — in the same transaction, so a crash never leaks or loses one.
// Free-list pages are therefore Free pages or (freed) Overflow pages; allocation re-initialises both.
using PgWal.Pages;

namespace PgWal.Kv.Tree;

internal static class Overflow
{
    public static int PagesFor(int length) => (length + KvPage.OverflowCapacity - 1) / KvPage.OverflowCapacity;

    /// <summary>Writes <paramref name="value"/> into a new chain; returns its first block.</summary>
    public static uint Write(KvTransaction tx, ReadOnlySpan<byte> value)
    {
        int pages = PagesFor(value.Length);
        var blocks = new uint[pages];
        for (int i = 0; i < pages; i++)
            blocks[i] = tx.Allocate();
        for (int start = 0; start < pages; start += KvTransaction.MaxPagesPerRecord)
        {
            int count = Math.Min(KvTransaction.MaxPagesPerRecord, pages - start);
            int bytes = 0;
            for (int i = start; i < start + count; i++)
            {
                var chunk = value.Slice(i * KvPage.OverflowCapacity, Math.Min(KvPage.OverflowCapacity, value.Length - i * KvPage.OverflowCapacity));
                var ops = tx.Block(blocks[i], willInit: true);
                ops.Init(PageKind.Overflow, 0, KvPage.NoPage, KvPage.NoPage, i + 1 < pages ? blocks[i + 1] : KvPage.NoPage);
                ops.Data(chunk);
                bytes += chunk.Length;
            }
            KvRecords.WriteChainData(tx.MainData(KvRecords.ChainDataSize), blocks[start], count, bytes);
            tx.Log(KvRecords.OverflowWrite);
        }
        return blocks[0];
    }

    /// <summary>
    /// Puts the chain of a replaced or deleted value on the free list whole: its last page is linked
    /// to the old head and the meta page points at its first. One page changes however long the
    /// chain, so freeing a large value pins nothing but that page (the walk to find it does not pin).
    /// </summary>
    public static void Free(KvTransaction tx, uint first, int length)
    {
        int pages = PagesFor(length);
        uint block = first, last = first;
        for (int i = 0; i < pages; i++)
        {
            if (block == KvPage.NoPage)
                throw new InvalidDataException($"kv: the overflow chain at {first} ends after {i} of {pages} pages");
            var (kind, next) = tx.Inspect(block);
            if (kind != PageKind.Overflow)
                throw new InvalidDataException($"kv: block {block} (page {i} of the overflow chain at {first}) is a {kind} page");
            last = block;
            block = next;
        }
        var meta = tx.Meta;
        tx.Block(last).Next(meta.FreeHead);
        tx.Meta = meta with { FreeHead = first, FreePages = meta.FreePages + (uint)pages };
        KvRecords.WriteChainData(tx.MainData(KvRecords.ChainDataSize), first, pages, length);
        tx.Log(KvRecords.OverflowFree);
    }

    /// <summary>Reads a chain into a new array (readers pin each page; the store's read lock keeps writers out).</summary>
    public static byte[] Read(BufferManager buffers, RelFileLocator rel, uint first, int length)
    {
        if (length < 0 || length > KvStore.MaxValueLength)
            throw new InvalidDataException($"kv: out-of-line value length {length} is out of range");
        var value = new byte[length];
        int done = 0;
        uint block = first;
        int pages = PagesFor(length);
        for (int i = 0; i < pages; i++)
        {
            if (block == KvPage.NoPage)
                throw new InvalidDataException($"kv: overflow chain at {first} ends after {i} of {pages} pages");
            using var buffer = buffers.Read(rel, ForkNumber.Main, new PgWal.BlockNumber(block));
            var page = buffer.Page;
            var data = KvPage.OverflowData(page);
            if (KvPage.Kind(page) != PageKind.Overflow || data.Length > length - done)
                throw new InvalidDataException($"kv: block {block} is not the overflow page {i} of the chain at {first} ({KvPage.Kind(page)}, {data.Length} bytes)");
            data.CopyTo(value.AsSpan(done));
            done += data.Length;
            block = KvPage.Next(page);
        }
        if (done != length)
            throw new InvalidDataException($"kv: overflow chain at {first} holds {done} bytes, expected {length}");
        return value;
    }
}
