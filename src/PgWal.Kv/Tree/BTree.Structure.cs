// BTree.Structure: splits, unlinking empty pages, collapsing the root. Each is one WAL record whose
// blocks are every page it changes, and all of them sit inside the caller's transaction.
namespace PgWal.Kv.Tree;

internal sealed partial class BTree
{
    // Splits the page at _path[i]. When its parent has no room for the new separator, splits the
    // parent instead; either way the caller descends again.
    private void Split(KvTransaction tx, int i)
    {
        uint block = _path[i].Block;
        var page = tx.Peek(block);
        int level = KvPage.Level(page);
        bool leaf = level == 0;
        int count = KvPage.Count(page);
        int at = SplitSlot(page, count, rightmost: KvPage.Right(page) == KvPage.NoPage);
        byte[] separator = KvPage.KeyAt(page, at, leaf).ToArray();
        if (i > 0 && !KvPage.Fits(tx.Peek(_path[i - 1].Block), KvPage.InternalItemHeader + separator.Length))
        {
            Split(tx, i - 1);
            return;
        }
        uint right = tx.Allocate();
        uint oldRight = KvPage.Right(page);
        var rightOps = tx.Block(right, willInit: true);
        rightOps.Init(leaf ? PageKind.Leaf : PageKind.Internal, level, block, oldRight, KvPage.NoPage);
        Span<byte> firstChild = stackalloc byte[KvPage.InternalItemHeader];
        for (int k = at; k < count; k++)
        {
            scoped ReadOnlySpan<byte> item = KvPage.Item(page, k);
            if (!leaf && k == at)
            {
                KvPage.WriteInternalItem(firstChild, KvPage.Child(item), default);   // its key moves up
                item = firstChild;
            }
            rightOps.Insert(k - at, item);
        }
        var leftOps = tx.Block(block);
        leftOps.Truncate(at);
        leftOps.Right(right);
        if (oldRight != KvPage.NoPage)
            tx.Block(oldRight).Left(right);
        Span<byte> downlink = stackalloc byte[KvPage.InternalItemHeader + separator.Length];
        KvPage.WriteInternalItem(downlink, right, separator);
        if (i > 0)
        {
            var (parent, slot) = _path[i - 1];
            tx.Block(parent).Insert(slot + 1, downlink);
            KvRecords.WriteSplitData(tx.MainData(KvRecords.SplitDataSize), level, block, right, at, parent);
            tx.Log(KvRecords.Split);
            return;
        }
        uint root = tx.Allocate();
        var rootOps = tx.Block(root, willInit: true);
        rootOps.Init(PageKind.Internal, level + 1, KvPage.NoPage, KvPage.NoPage, KvPage.NoPage);
        KvPage.WriteInternalItem(firstChild, block, default);
        rootOps.Insert(0, firstChild);
        rootOps.Insert(1, downlink);
        tx.Meta = tx.Meta with { Root = root, RootLevel = (uint)(level + 1) };
        KvRecords.WriteSplitData(tx.MainData(KvRecords.SplitDataSize), level, block, right, at, root);
        tx.Log(KvRecords.NewRoot);
    }

    // The slot where the right half starts: the first at which the left half holds half the bytes —
    // or 90% on the rightmost page of a level, where ascending inserts land (PostgreSQL's rightmost
    // fillfactor), so loading keys in order leaves pages nearly full instead of half empty.
    private static int SplitSlot(ReadOnlySpan<byte> page, int count, bool rightmost)
    {
        if (count < 2)
            throw new InvalidDataException($"kv: cannot split a page with {count} item(s)");
        int total = KvPage.UsedBytes(page, 0, count);
        int half = rightmost ? total * 9 / 10 : total / 2, used = 0;
        for (int k = 0; k < count; k++)
        {
            used += KvPage.Item(page, k).Length + KvPage.LinePointerSize;
            if (used >= half)
                return Math.Clamp(k + 1, 1, count - 1);
        }
        return count - 1;
    }

    // _path[^1] is an empty leaf below the root. Unlinks it with every ancestor that would be left
    // without children, and removes the downlink from the first ancestor that keeps some.
    private void RemoveEmptyLeaf(KvTransaction tx)
    {
        int last = _path.Count - 1, top = last;
        while (top > 0 && KvPage.Count(tx.Peek(_path[top - 1].Block)) == 1)
            top--;
        var meta = tx.Meta;
        uint head = meta.FreeHead;
        if (top == 0)
        {
            // Every level is a single page: the tree is empty. The root becomes an empty leaf.
            for (int k = last; k >= 1; k--)
            {
                tx.Block(_path[k].Block, willInit: true).Init(PageKind.Free, 0, KvPage.NoPage, KvPage.NoPage, head);
                head = _path[k].Block;
            }
            tx.Block(meta.Root, willInit: true).Init(PageKind.Leaf, 0, KvPage.NoPage, KvPage.NoPage, KvPage.NoPage);
            tx.Meta = meta with { RootLevel = 0, FreeHead = head, FreePages = meta.FreePages + (uint)last };
            KvRecords.WriteCollapseData(tx.MainData(KvRecords.CollapseDataSize), meta.Root, meta.Root, 0);
            tx.Log(KvRecords.Collapse);
            return;
        }
        for (int k = last; k >= top; k--)
        {
            uint block = _path[k].Block;
            var page = tx.Peek(block);
            uint left = KvPage.Left(page), right = KvPage.Right(page);
            if (left != KvPage.NoPage)
                tx.Block(left).Right(right);
            if (right != KvPage.NoPage)
                tx.Block(right).Left(left);
            tx.Block(block, willInit: true).Init(PageKind.Free, 0, KvPage.NoPage, KvPage.NoPage, head);
            head = block;
        }
        var (parent, slot) = _path[top - 1];
        var parentPage = tx.Peek(parent);
        var parentOps = tx.Block(parent);
        parentOps.Delete(slot);
        if (slot == 0)
        {
            Span<byte> minusInfinity = stackalloc byte[KvPage.InternalItemHeader];
            KvPage.WriteInternalItem(minusInfinity, KvPage.Child(KvPage.Item(parentPage, 1)), default);
            parentOps.Replace(0, minusInfinity);
        }
        tx.Meta = meta with { FreeHead = head, FreePages = meta.FreePages + (uint)(last - top + 1) };
        KvRecords.WriteUnlinkData(tx.MainData(KvRecords.UnlinkDataSize), last - top + 1, _path[top].Block, parent);
        tx.Log(KvRecords.Unlink);
        if (top - 1 == 0)
            Collapse(tx);
    }

    // While the root is an internal page with a single child, that child becomes the root.
    private static void Collapse(KvTransaction tx)
    {
        while (true)
        {
            var meta = tx.Meta;
            if (meta.RootLevel == 0)
                return;
            var root = tx.Peek(meta.Root);
            if (KvPage.Count(root) != 1)
                return;
            uint child = KvPage.Child(KvPage.Item(root, 0));
            tx.Block(meta.Root, willInit: true).Init(PageKind.Free, 0, KvPage.NoPage, KvPage.NoPage, meta.FreeHead);
            tx.Meta = meta with { Root = child, RootLevel = meta.RootLevel - 1, FreeHead = meta.Root, FreePages = meta.FreePages + 1 };
            KvRecords.WriteCollapseData(tx.MainData(KvRecords.CollapseDataSize), meta.Root, child, (int)meta.RootLevel - 1);
            tx.Log(KvRecords.Collapse);
        }
    }
}
