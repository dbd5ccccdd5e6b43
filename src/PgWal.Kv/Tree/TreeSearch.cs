// TreeSearch: binary search within one page, shared by readers and the writer. Keys compare as
// unsigned bytes (memcmp order, a prefix before its extensions). In an internal page the first
// item's key is minus infinity; the child for a key is the last item whose key is <= it.
namespace PgWal.Kv.Tree;

internal static class TreeSearch
{
    /// <summary>Leaf: the first slot whose key is &gt;= <paramref name="key"/>; found when it is equal.</summary>
    public static int LowerBound(ReadOnlySpan<byte> page, ReadOnlySpan<byte> key, out bool found)
    {
        int lo = 0, hi = KvPage.Count(page);
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (KvPage.LeafKey(KvPage.Item(page, mid)).SequenceCompareTo(key) < 0)
                lo = mid + 1;
            else
                hi = mid;
        }
        found = lo < KvPage.Count(page) && KvPage.LeafKey(KvPage.Item(page, lo)).SequenceEqual(key);
        return lo;
    }

    /// <summary>Internal: the slot of the child whose range holds <paramref name="key"/>.</summary>
    public static int ChildSlot(ReadOnlySpan<byte> page, ReadOnlySpan<byte> key)
    {
        int lo = 1, hi = KvPage.Count(page);   // slot 0 is minus infinity
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (KvPage.InternalKey(KvPage.Item(page, mid)).SequenceCompareTo(key) <= 0)
                lo = mid + 1;
            else
                hi = mid;
        }
        return lo - 1;
    }

    /// <summary>Internal: the slot of the child whose range holds keys just below <paramref name="key"/> (for backward scans).</summary>
    public static int ChildSlotBelow(ReadOnlySpan<byte> page, ReadOnlySpan<byte> key)
    {
        int lo = 1, hi = KvPage.Count(page);
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (KvPage.InternalKey(KvPage.Item(page, mid)).SequenceCompareTo(key) < 0)
                lo = mid + 1;
            else
                hi = mid;
        }
        return lo - 1;
    }

    /// <summary>Checks that a page met on the way down is what the parent promised.</summary>
    public static void Expect(ReadOnlySpan<byte> page, uint block, int level)
    {
        var kind = KvPage.Kind(page);
        var expected = level == 0 ? PageKind.Leaf : PageKind.Internal;
        if (!KvPage.IsInitialized(page) || kind != expected || KvPage.Level(page) != level)
            throw new InvalidDataException($"kv: block {block} should be a {expected} page at level {level} but is {(KvPage.IsInitialized(page) ? $"a {kind} page at level {KvPage.Level(page)}" : "uninitialised")}");
        if (level > 0 && KvPage.Count(page) == 0)
            throw new InvalidDataException($"kv: internal block {block} has no children");
    }
}
