// TreeChecker: verifies every structural invariant of a store's tree and accounts for every block
// (amcheck's bt_index_parent_check, plus a leak check): keys strictly ordered within and across
// pages and inside their parent's separators; levels decreasing by one; every internal page's
// first key minus infinity; only the root may be empty; sibling links at every level match the
// left-to-right order; overflow chains whole; the free list as long as the meta page says; and
// tree + overflow + free + meta pages = all blocks ever allocated (nothing lost, nothing shared);
// the relation file no longer than the meta page's block count. A page that cannot be read (beyond
// the end of the file, a bad checksum) or is all zeros is a problem reported, not an exception.
using PgWal.Format;
using PgWal.Pages;

namespace PgWal.Kv.Tree;

/// <summary>What a full check of the tree found.</summary>
public sealed record KvTreeReport
{
    /// <summary>Levels (1 = the root is a leaf).</summary>
    public int Levels { get; init; }
    /// <summary>Keys in the tree.</summary>
    public long Keys { get; init; }
    /// <summary>Leaf pages.</summary>
    public long LeafPages { get; init; }
    /// <summary>Internal pages.</summary>
    public long InternalPages { get; init; }
    /// <summary>Overflow pages (out-of-line values).</summary>
    public long OverflowPages { get; init; }
    /// <summary>Pages on the free list.</summary>
    public long FreePages { get; init; }
    /// <summary>Blocks allocated so far (the relation's length in pages).</summary>
    public long Blocks { get; init; }
    /// <summary>Key and value bytes stored.</summary>
    public long PayloadBytes { get; init; }
    /// <summary>Violations found (empty when the tree is sound).</summary>
    public IReadOnlyList<string> Problems { get; init; } = [];
}

internal sealed class TreeChecker(BufferManager buffers, RelFileLocator rel)
{
    private const int MaxProblems = 20;
    private readonly List<string> _problems = [];
    private readonly HashSet<uint> _seen = [];
    private readonly List<List<uint>> _levels = [];
    private long _keys, _leaves, _internals, _overflow, _payload;

    public KvTreeReport Check(MetaData meta)
    {
        _seen.Add(KvPage.MetaBlock);
        uint fileBlocks = buffers.FileBlockCount(rel, ForkNumber.Main);
        if (fileBlocks > meta.Blocks)
            Problem($"the relation file has {fileBlocks} blocks but the meta page accounts for {meta.Blocks}");
        Walk(meta.Root, (int)meta.RootLevel, null, null, isRoot: true);
        for (int level = 0; level < _levels.Count; level++)
            CheckSiblings(level, _levels[level]);
        long free = CheckFreeList(meta);
        if (_seen.Count != meta.Blocks && _problems.Count < MaxProblems)
            _problems.Add($"{meta.Blocks} blocks allocated but {_seen.Count} accounted for (meta, tree, overflow, free): {meta.Blocks - _seen.Count} lost");
        return new KvTreeReport
        {
            Levels = (int)meta.RootLevel + 1, Keys = _keys, LeafPages = _leaves, InternalPages = _internals, OverflowPages = _overflow,
            FreePages = free, Blocks = meta.Blocks, PayloadBytes = _payload, Problems = _problems.ToArray(),
        };
    }

    // Copies a block; a read error or an all-zero page becomes a problem (reported once, by the walk).
    private bool TryRead(uint block, Span<byte> page, string what, bool report = true)
    {
        try
        {
            using var buffer = buffers.Read(rel, ForkNumber.Main, new BlockNumber(block));
            buffer.Page.CopyTo(page);
        }
        catch (Exception e) when (e is IOException or InvalidDataException)
        {
            if (report)
                Problem($"block {block} ({what}) cannot be read: {e.Message}");
            return false;
        }
        if (KvPage.IsInitialized(page))
            return true;
        if (report)
            Problem($"block {block} ({what}) of {Storage.RelationPath.Of(rel, ForkNumber.Main)} is all zeros");
        return false;
    }

    private void Problem(string text)
    {
        if (_problems.Count < MaxProblems)
            _problems.Add(text);
    }

    private bool Claim(uint block, string what)
    {
        if (_seen.Add(block))
            return true;
        Problem($"block {block} ({what}) is reachable twice");
        return false;
    }

    // Keys of the page at `block` must lie in [low, high).
    private void Walk(uint block, int level, byte[]? low, byte[]? high, bool isRoot)
    {
        if (!Claim(block, $"level {level}"))
            return;
        var page = new byte[KvPage.Size];      // a copy: the walk recurses, and must not pin a whole path
        if (!TryRead(block, page, $"level {level}"))
            return;
        var kind = KvPage.Kind(page);
        if (kind != (level == 0 ? PageKind.Leaf : PageKind.Internal) || KvPage.Level(page) != level)
        {
            Problem($"block {block}: expected level {level}, found a {kind} page at level {KvPage.Level(page)}");
            return;
        }
        while (_levels.Count <= level)
            _levels.Add([]);
        _levels[level].Add(block);
        int count = KvPage.Count(page);
        if (count == 0 && !(isRoot && level == 0))
            Problem($"block {block} (level {level}) is empty");
        if (isRoot && level > 0 && count < 2)
            Problem($"root {block} at level {level} has {count} child(ren)");
        if (level == 0)
            _leaves++;
        else
            _internals++;
        byte[]? previous = null;
        for (int slot = 0; slot < count; slot++)
        {
            var item = KvPage.Item(page, slot);
            var key = level == 0 ? KvPage.LeafKey(item) : KvPage.InternalKey(item);
            if (level > 0 && slot == 0)
            {
                if (key.Length != 0)
                    Problem($"block {block}: first downlink has a key (must be minus infinity)");
            }
            else
            {
                if (previous != null && key.SequenceCompareTo(previous) <= 0)
                    Problem($"block {block} slot {slot}: keys out of order");
                if (low != null && key.SequenceCompareTo(low) < 0)
                    Problem($"block {block} slot {slot}: key below its parent's separator");
                if (high != null && key.SequenceCompareTo(high) >= 0)
                    Problem($"block {block} slot {slot}: key not below the next separator");
                previous = key.ToArray();
            }
            if (level == 0)
            {
                _keys++;
                _payload += key.Length;
                if (KvPage.IsOutOfLine(item))
                {
                    var (first, length) = KvPage.OutOfLineRef(item);
                    CheckChain(first, length, block);
                    _payload += length;
                }
                else
                {
                    _payload += KvPage.LeafValue(item).Length;
                }
            }
        }
        if (level == 0)
            return;
        var children = new (uint Child, byte[] Key)[count];
        for (int slot = 0; slot < count; slot++)
        {
            var item = KvPage.Item(page, slot);
            children[slot] = (KvPage.Child(item), KvPage.InternalKey(item).ToArray());
        }
        for (int slot = 0; slot < count; slot++)
            Walk(children[slot].Child, level - 1, slot == 0 ? low : children[slot].Key, slot + 1 < count ? children[slot + 1].Key : high, isRoot: false);
    }

    private void CheckChain(uint first, int length, uint leaf)
    {
        int pages = Overflow.PagesFor(length), total = 0;
        uint block = first;
        var page = new byte[KvPage.Size];
        for (int i = 0; i < pages && block != KvPage.NoPage; i++)
        {
            if (!Claim(block, $"overflow page of leaf {leaf}") || !TryRead(block, page, $"overflow page of leaf {leaf}"))
                return;
            if (KvPage.Kind(page) != PageKind.Overflow)
            {
                Problem($"block {block} in the overflow chain of leaf {leaf} is a {KvPage.Kind(page)} page");
                return;
            }
            total += KvPage.OverflowData(page).Length;
            _overflow++;
            block = KvPage.Next(page);
        }
        if (total != length || block != KvPage.NoPage)
            Problem($"overflow chain at {first} (leaf {leaf}) holds {total} bytes, expected {length}");
    }

    private void CheckSiblings(int level, List<uint> pages)
    {
        var page = new byte[KvPage.Size];
        for (int i = 0; i < pages.Count; i++)
        {
            if (!TryRead(pages[i], page, $"level {level}", report: false))
                continue;
            uint left = KvPage.Left(page), right = KvPage.Right(page);
            uint expectLeft = i > 0 ? pages[i - 1] : KvPage.NoPage, expectRight = i + 1 < pages.Count ? pages[i + 1] : KvPage.NoPage;
            if (left != expectLeft || right != expectRight)
                Problem($"block {pages[i]} (level {level}): sibling links {left}/{right}, expected {expectLeft}/{expectRight}");
        }
    }

    private long CheckFreeList(MetaData meta)
    {
        long count = 0;
        uint block = meta.FreeHead;
        var page = new byte[KvPage.Size];
        while (block != KvPage.NoPage)
        {
            if (count > meta.Blocks || !Claim(block, "free list"))
            {
                Problem("the free list loops or crosses the tree");
                break;
            }
            if (!TryRead(block, page, "free list"))
                break;
            if (KvPage.Kind(page) is not (PageKind.Free or PageKind.Overflow))
            {
                Problem($"free-list block {block} is a {KvPage.Kind(page)} page");
                break;
            }
            count++;
            block = KvPage.Next(page);
        }
        if (count != meta.FreePages)
            Problem($"free list holds {count} pages, the meta page says {meta.FreePages}");
        return count;
    }
}
