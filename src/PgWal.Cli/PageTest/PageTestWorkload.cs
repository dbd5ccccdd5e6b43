// PageTestWorkload: runs the page test's ops against a WalInstance following the recipe for a
// WAL-logged change (lock, modify, MarkDirty, insert, SetLsn, unlock), and checks a recovered
// instance against the model. Worker w owns relation 1663/5/(16384+w), so workers never share
// pages and each worker's durable state is a prefix of its op stream.
using System.Buffers.Binary;
using PgWal.Insert;
using PgWal.Pages;

namespace PgWal.Cli.PageTest;

internal sealed class PageTestWorkload(WalInstance instance, int seed, int pages)
{
    public int Pages => pages;

    public static RelFileLocator RelationOf(int worker) => new(1663, 5, 16384u + (uint)worker);

    /// <summary>Performs op <paramref name="seq"/> of <paramref name="worker"/>; returns the record's end (flush it to make it durable).</summary>
    public Lsn Execute(RecordBuilder builder, int worker, ulong seq)
    {
        var op = PageTestOps.Generate(seed, worker, seq, pages);
        var rel = RelationOf(worker);
        Span<byte> main = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(main, seq);
        if (op.IsInit)
        {
            using var buffer = instance.Buffers.Read(rel, ForkNumber.Main, new BlockNumber(op.Changes[0].Block), ReadMode.ZeroAndLock);
            PageTestResourceManager.InitPage(buffer.Page, seq);
            buffer.MarkDirty();
            builder.Begin(PageTestResourceManager.RmgrId, PageTestResourceManager.InitInfo).RegisterData(main);
            buffer.RegisterWith(builder, 0, BlockRegistration.WillInit | BlockRegistration.Standard);
            Lsn end = instance.Insert(builder);
            buffer.SetLsn(end);
            return end;
        }
        var buffers = new PageBuffer[op.Changes.Length];
        try
        {
            builder.Begin(PageTestResourceManager.RmgrId, PageTestResourceManager.WriteInfo).RegisterData(main);
            for (int i = 0; i < op.Changes.Length; i++)
            {
                var change = op.Changes[i];
                buffers[i] = instance.Buffers.Read(rel, ForkNumber.Main, new BlockNumber(change.Block));
                buffers[i].LockExclusive();
                var data = PageTestOps.Encode(change);
                PageTestResourceManager.ApplyChange(buffers[i].Page, seq, data);
                buffers[i].MarkDirty();
                buffers[i].RegisterWith(builder, i, BlockRegistration.Standard);
                builder.RegisterBlockData(i, data);
            }
            Lsn end = instance.Insert(builder);
            foreach (var buffer in buffers)
                buffer.SetLsn(end);
            return end;
        }
        finally
        {
            foreach (var buffer in buffers)
                buffer.Dispose();
        }
    }

    /// <summary>The last op applied for <paramref name="worker"/>: the highest stamp on its pages (0 = none).</summary>
    public ulong LastApplied(int worker) => LastApplied(ReadPages(worker));

    private static ulong LastApplied(byte[][] pages)
    {
        ulong max = 0;
        foreach (var page in pages)
        {
            if (!Format.StandardPage.IsNew(page))
                max = Math.Max(max, BinaryPrimitives.ReadUInt64LittleEndian(page.AsSpan(PageTestResourceManager.StampOffset)));
        }
        return max;
    }

    // A copy of each of the worker's pages, read under a share lock (beyond the file's end: zeros).
    private byte[][] ReadPages(int worker)
    {
        var pagesRead = new byte[pages][];
        for (int block = 0; block < pages; block++)
        {
            using var buffer = instance.Buffers.Read(RelationOf(worker), ForkNumber.Main, new BlockNumber((uint)block), ReadMode.ZeroBeyondEnd);
            buffer.LockShared();
            pagesRead[block] = buffer.Page.ToArray();
        }
        return pagesRead;
    }

    /// <summary>
    /// Checks a worker's pages against the model: the applied ops must include every acknowledged
    /// one, and every page must equal the model after exactly the applied ops (so no op is half
    /// there). Returns null when they agree, else what differs.
    /// </summary>
    public string? Verify(int worker, ulong acknowledged)
    {
        var actual = ReadPages(worker);
        ulong applied = LastApplied(actual);
        if (applied < acknowledged)
            return $"worker {worker}: acknowledged op {acknowledged} is missing (pages reflect op {applied})";
        var model = PageTestOps.Model(seed, worker, applied, pages);
        for (int block = 0; block < pages; block++)
        {
            var page = actual[block];
            // pd_lsn and pd_checksum legitimately differ; everything from pd_flags on must match.
            int at = page.AsSpan(10).CommonPrefixLength(model[block].AsSpan(10)) + 10;
            if (at < page.Length)
                return $"worker {worker}: block {block} differs from the model after op {applied} at byte {at} (page {page[at]:X2}, model {model[block][at]:X2})";
        }
        return null;
    }
}
