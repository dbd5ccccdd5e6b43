// BTree: the writer's side of the B+tree (nbtinsert.c / nbtpage.c in spirit). Runs inside one
// KvTransaction under the store's write lock. Leaves hold the items in key order and are linked
// left/right at every level; an internal page maps minus infinity and each separator to a child.
// Inserting into a full page splits it: the right half moves to a new page (WILL_INIT) and the
// separator goes to the parent, all in one SPLIT record (left, right, parent, old right sibling,
// meta); a full parent is split first and the insert starts over from the root. A leaf that
// empties is unlinked together with the single-child ancestors above it (UNLINK), and a root
// left with one child hands the tree to it (COLLAPSE), so the tree shrinks as it grew.
using PgWal.Pages;

namespace PgWal.Kv.Tree;

internal sealed partial class BTree
{
    /// <summary>Longest key (bytes); keeps at least four items of any size on a page.</summary>
    public const int MaxKeyLength = 1024;
    /// <summary>Largest leaf item kept inline; larger values go out of line.</summary>
    public const int MaxInlineItem = 2000;

    private readonly List<(uint Block, int Slot)> _path = [];   // root to leaf; Slot = child taken

    private void Descend(KvTransaction tx, ReadOnlySpan<byte> key)
    {
        _path.Clear();
        uint block = tx.Meta.Root;
        int level = (int)tx.Meta.RootLevel;
        while (true)
        {
            var page = tx.Peek(block);
            TreeSearch.Expect(page, block, level);
            if (level == 0)
            {
                _path.Add((block, -1));
                return;
            }
            int slot = TreeSearch.ChildSlot(page, key);
            _path.Add((block, slot));
            block = KvPage.Child(KvPage.Item(page, slot));
            level--;
        }
    }

    public void Put(KvTransaction tx, ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
    {
        int inlineSize = KvPage.LeafItemSize(key.Length, value.Length);
        Span<byte> item = stackalloc byte[Math.Min(inlineSize, MaxInlineItem)];
        if (inlineSize <= MaxInlineItem)
        {
            KvPage.WriteLeafItem(item, key, value);
        }
        else
        {
            uint first = Overflow.Write(tx, value);
            item = item[..KvPage.LeafItemSize(key.Length, KvPage.OutOfLineRefSize)];
            KvPage.WriteLeafItemOutOfLine(item, key, first, value.Length);
        }
        while (true)
        {
            Descend(tx, key);
            uint leaf = _path[^1].Block;
            var page = tx.Peek(leaf);
            int slot = TreeSearch.LowerBound(page, key, out bool found);
            var old = found ? KvPage.Item(page, slot) : default;
            bool fits = found ? KvPage.FreeSpace(page) + old.Length >= item.Length : KvPage.Fits(page, item.Length);
            if (!fits)
            {
                Split(tx, _path.Count - 1);
                continue;
            }
            var (oldFirst, oldLength) = found && KvPage.IsOutOfLine(old) ? KvPage.OutOfLineRef(old) : (0u, -1);
            var ops = tx.Block(leaf);
            if (found)
                ops.Replace(slot, item);
            else
                ops.Insert(slot, item);
            KvRecords.WriteKeyData(tx.MainData(KvRecords.KeyDataSize(key.Length, true)), key, value.Length);
            tx.Log(found ? KvRecords.Update : KvRecords.Insert);
            if (oldLength >= 0)
                Overflow.Free(tx, oldFirst, oldLength);
            return;
        }
    }

    public bool Delete(KvTransaction tx, ReadOnlySpan<byte> key)
    {
        Descend(tx, key);
        uint leaf = _path[^1].Block;
        var page = tx.Peek(leaf);
        int slot = TreeSearch.LowerBound(page, key, out bool found);
        if (!found)
            return false;
        var old = KvPage.Item(page, slot);
        var (oldFirst, oldLength) = KvPage.IsOutOfLine(old) ? KvPage.OutOfLineRef(old) : (0u, -1);
        tx.Block(leaf).Delete(slot);
        KvRecords.WriteKeyData(tx.MainData(KvRecords.KeyDataSize(key.Length, false)), key, -1);
        tx.Log(KvRecords.Delete);
        if (oldLength >= 0)
            Overflow.Free(tx, oldFirst, oldLength);
        if (KvPage.Count(tx.Peek(leaf)) == 0 && _path.Count > 1)
            RemoveEmptyLeaf(tx);
        return true;
    }

    /// <summary>Creates an empty tree: the meta page and an empty root leaf.</summary>
    public static void Create(KvTransaction tx)
    {
        tx.Block(KvPage.MetaBlock, willInit: true).Init(PageKind.Meta, 0, KvPage.NoPage, KvPage.NoPage, KvPage.NoPage);
        tx.Block(1, willInit: true).Init(PageKind.Leaf, 0, KvPage.NoPage, KvPage.NoPage, KvPage.NoPage);
        tx.Meta = new MetaData(Root: 1, RootLevel: 0, Blocks: 2, FreeHead: KvPage.NoPage, FreePages: 0);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(tx.MainData(4), 1);
        tx.Log(KvRecords.Create);
    }
}
