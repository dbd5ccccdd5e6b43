// PageTestOps: the deterministic operation stream of the page test. Op n (from 1) of a worker is
// a function of (seed, worker, n) only: ops 1..pages initialise pages 0..pages-1 in order, later
// ops write 1–3 distinct pages. So the model of a worker after its first n ops can be rebuilt at
// any time — after a crash, in another process — without logging the ops themselves.
namespace PgWal.Cli.PageTest;

internal readonly record struct PageChange(uint Block, ushort Offset, byte[] Bytes);

internal sealed record PageTestOp(ulong Seq, bool IsInit, PageChange[] Changes);

internal static class PageTestOps
{
    public static PageTestOp Generate(int seed, int worker, ulong seq, int pages)
    {
        if (seq == 0)
            throw new ArgumentOutOfRangeException(nameof(seq));
        if (seq <= (ulong)pages)
            return new PageTestOp(seq, true, [new PageChange((uint)(seq - 1), 0, [])]);
        var random = new Random(Mix(seed, worker, seq));   // seeded Random is stable across processes
        int count = random.Next(1, 4);
        var changes = new PageChange[count];
        var used = new HashSet<uint>();
        for (int i = 0; i < count; i++)
        {
            uint block;
            do block = (uint)random.Next(pages); while (!used.Add(block));
            int length = random.Next(1, random.Next(8) == 0 ? 2000 : 300);
            int offset = random.Next(PageTestResourceManager.StampOffset + 8, PageTestResourceManager.DataEnd - length);
            var bytes = new byte[length];
            random.NextBytes(bytes);
            changes[i] = new PageChange(block, (ushort)offset, bytes);
        }
        Array.Sort(changes, (a, b) => a.Block.CompareTo(b.Block));   // lock order
        return new PageTestOp(seq, false, changes);
    }

    // SplitMix64 finaliser over the three inputs (HashCode.Combine is randomised per process).
    internal static int Mix(int seed, int worker, ulong seq)
    {
        ulong z = (ulong)(uint)seed * 0x9E3779B97F4A7C15UL ^ (ulong)(uint)worker * 0xC2B2AE3D27D4EB4FUL ^ seq * 0x165667B19E3779F9UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return (int)(z ^ (z >> 31));
    }

    /// <summary>The pages of a worker after its ops 1..<paramref name="upTo"/> (pd_lsn and pd_checksum left zero).</summary>
    public static byte[][] Model(int seed, int worker, ulong upTo, int pages)
    {
        var model = new byte[pages][];
        for (int i = 0; i < pages; i++)
            model[i] = new byte[Format.StandardPage.Size];
        for (ulong seq = 1; seq <= upTo; seq++)
        {
            var op = Generate(seed, worker, seq, pages);
            foreach (var change in op.Changes)
            {
                if (op.IsInit)
                    PageTestResourceManager.InitPage(model[change.Block], seq);
                else
                    PageTestResourceManager.ApplyChange(model[change.Block], seq, Encode(change));
            }
        }
        return model;
    }

    /// <summary>The per-block data of a change: u16 offset, u16 length, bytes.</summary>
    public static byte[] Encode(PageChange change)
    {
        var data = new byte[4 + change.Bytes.Length];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(data, change.Offset);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(data.AsSpan(2), (ushort)change.Bytes.Length);
        change.Bytes.CopyTo(data, 4);
        return data;
    }
}
