// TreeReader: lookups and range reads. Callers hold the store's read lock, which keeps every
// writer out, so pages are read pinned but without content locks: nothing changes them meanwhile
// (the checkpointer and evictions only read them too). Each call returns the highest LSN of the
// leaves it read, so the store can make sure what it returns is durable.
using PgWal.Format;
using PgWal.Pages;

namespace PgWal.Kv.Tree;

internal sealed class TreeReader(BufferManager buffers, RelFileLocator rel)
{
    private PageBuffer Read(uint block) => buffers.Read(rel, ForkNumber.Main, new BlockNumber(block));

    /// <summary>The leaf whose range holds <paramref name="key"/> (or, with <paramref name="below"/>, keys just below it); null key = the leftmost/rightmost leaf.</summary>
    public PageBuffer FindLeaf(in MetaData meta, ReadOnlySpan<byte> key, bool hasKey, bool below, bool rightmost)
    {
        uint block = meta.Root;
        int level = (int)meta.RootLevel;
        while (true)
        {
            var buffer = Read(block);
            var page = buffer.Page;
            try
            {
                TreeSearch.Expect(page, block, level);
            }
            catch
            {
                buffer.Dispose();
                throw;
            }
            if (level == 0)
                return buffer;
            int slot = !hasKey ? (rightmost ? KvPage.Count(page) - 1 : 0)
                : below ? TreeSearch.ChildSlotBelow(page, key) : TreeSearch.ChildSlot(page, key);
            block = KvPage.Child(KvPage.Item(page, slot));
            buffer.Dispose();
            level--;
        }
    }

    /// <summary>Point lookup: the value, or null when absent.</summary>
    public byte[]? Get(in MetaData meta, ReadOnlySpan<byte> key, out Lsn leafLsn)
    {
        using var leaf = FindLeaf(meta, key, hasKey: true, below: false, rightmost: false);
        var page = leaf.Page;
        leafLsn = leaf.Lsn;
        int slot = TreeSearch.LowerBound(page, key, out bool found);
        return found ? Value(KvPage.Item(page, slot)) : null;
    }

    /// <summary>The value of a leaf item, reading its overflow chain when out of line.</summary>
    public byte[] Value(ReadOnlySpan<byte> item)
    {
        if (!KvPage.IsOutOfLine(item))
            return KvPage.LeafValue(item).ToArray();
        var (first, length) = KvPage.OutOfLineRef(item);
        return Overflow.Read(buffers, rel, first, length);
    }

    /// <summary>
    /// Up to <paramref name="limit"/> entries of <paramref name="bounds"/> in scan order (forward,
    /// or backward from just below its upper bound).
    /// <paramref name="after"/> continues a scan past the last key returned (exclusive).
    /// </summary>
    public Lsn ReadRange(in MetaData meta, ScanBounds bounds, byte[]? after, bool reverse, int limit, List<KeyValuePair<byte[], byte[]>> into)
    {
        Lsn maxLsn = Lsn.Invalid;
        ReadOnlySpan<byte> start = after ?? (reverse ? bounds.To : bounds.From);
        bool hasStart = after != null || (reverse ? bounds.To != null : bounds.From != null);
        var leaf = FindLeaf(meta, start, hasStart, below: reverse, rightmost: reverse);
        try
        {
            while (true)
            {
                var page = leaf.Page;
                if (leaf.Lsn > maxLsn)
                    maxLsn = leaf.Lsn;
                int count = KvPage.Count(page);
                int slot;
                if (!reverse)
                {
                    slot = hasStart ? TreeSearch.LowerBound(page, start, out bool found) + (found && after != null ? 1 : 0) : 0;
                    for (; slot < count; slot++)
                    {
                        var item = KvPage.Item(page, slot);
                        var key = KvPage.LeafKey(item);
                        if (bounds.To != null && key.SequenceCompareTo(bounds.To) >= 0)
                            return maxLsn;
                        into.Add(new(key.ToArray(), Value(item)));
                        if (into.Count >= limit)
                            return maxLsn;
                    }
                }
                else
                {
                    slot = hasStart ? TreeSearch.LowerBound(page, start, out _) - 1 : count - 1;   // keys below start
                    for (; slot >= 0; slot--)
                    {
                        var item = KvPage.Item(page, slot);
                        var key = KvPage.LeafKey(item);
                        if (bounds.From != null && key.SequenceCompareTo(bounds.From) < 0)
                            return maxLsn;
                        into.Add(new(key.ToArray(), Value(item)));
                        if (into.Count >= limit)
                            return maxLsn;
                    }
                }
                uint next = reverse ? KvPage.Left(page) : KvPage.Right(page);
                uint current = leaf.Tag.Block.Value;
                leaf.Dispose();
                leaf = default;
                if (next == KvPage.NoPage)
                    return maxLsn;
                leaf = Read(next);
                TreeSearch.Expect(leaf.Page, next, 0);
                if ((reverse ? KvPage.Right(leaf.Page) : KvPage.Left(leaf.Page)) != current)
                    throw new InvalidDataException($"kv: sibling links of leaves {current} and {next} disagree");
                hasStart = false;
            }
        }
        finally
        {
            leaf.Dispose();
        }
    }
}

/// <summary>A scan's range: keys in [From, To); null means unbounded.</summary>
internal readonly record struct ScanBounds(byte[]? From, byte[]? To);
