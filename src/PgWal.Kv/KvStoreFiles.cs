// KvStoreFiles: how a store proves it exists, so a damaged one is never replaced by an empty one.
// Creating a store writes a marker next to pg_control (global/pgwal_kv_<spc>_<db>_<rel>) after the
// tree's creation is durable. Opening checks the relation file against it: a marked store whose
// relation file is missing or empty, whose meta page is all zeros, or whose file is shorter than
// the meta page's block count is damaged — the open fails naming what is wrong and changes
// nothing. A file with pages but a zeroed meta page is damaged even without a marker (stores made
// before markers existed get one at their next writable open). A zeroed page passes page
// verification (as in PostgreSQL), which is why the meta page alone cannot tell.
using PgWal.Kv.Tree;
using PgWal.Storage;

namespace PgWal.Kv;

internal static class KvStoreFiles
{
    /// <summary>The marker's path in the data directory.</summary>
    public static string MarkerPath(RelFileLocator rel) => $"global/pgwal_kv_{rel.SpcOid}_{rel.DbOid}_{rel.RelNumber}";

    /// <summary>Writes the marker durably (after the tree's creation is durable).</summary>
    public static void WriteMarker(IDataDirectoryStorage storage, RelFileLocator rel)
        => storage.WriteFileDurably(MarkerPath(rel), System.Text.Encoding.UTF8.GetBytes($"PgWal.Kv store\nrelation {RelationPath.Of(rel, ForkNumber.Main)}\n"));

    /// <summary>
    /// The store's meta page, or null when the directory holds no store (nothing marked, nothing in
    /// the file). Writes a missing marker for an existing store when <paramref name="writeMarker"/>.
    /// </summary>
    /// <exception cref="InvalidDataException">The store exists but its files are damaged.</exception>
    public static MetaData? LoadMeta(WalInstance instance, IDataDirectoryStorage storage, RelFileLocator rel, bool writeMarker)
    {
        string path = RelationPath.Of(rel, ForkNumber.Main);
        bool marked = storage.ReadFile(MarkerPath(rel)) != null;
        bool exists = storage.Relations.Exists(rel, ForkNumber.Main);
        uint fileBlocks = exists ? instance.Buffers.FileBlockCount(rel, ForkNumber.Main) : 0;
        if (fileBlocks == 0)
        {
            if (marked)
                throw Damaged(instance, $"its relation file {path} is {(exists ? "empty" : "missing")}");
            return null;
        }
        MetaData meta;
        using (var page = instance.Buffers.Read(rel, ForkNumber.Main, new BlockNumber(KvPage.MetaBlock)))
        {
            if (!KvPage.IsInitialized(page.Page))
            {
                if (marked || fileBlocks > 1)
                    throw Damaged(instance, $"its meta page (block 0 of {path}) is all zeros, though the file holds {fileBlocks} block(s)");
                return null;
            }
            meta = KvPage.ReadMeta(page.Page);
        }
        // (On a standby, replay keeps extending the file through the buffer pool: blocks it
        // replayed may not be written yet, and a missing one stops replay, naming it.)
        if (meta.Blocks > fileBlocks && !instance.IsStandby)
            throw Damaged(instance, $"{path} has {fileBlocks} block(s) but its meta page accounts for {meta.Blocks}: the file was truncated");
        if (!marked && writeMarker)
            WriteMarker(storage, rel);
        return meta;
    }

    private static InvalidDataException Damaged(WalInstance instance, string what)
        => new($"kv: the store in \"{instance.Location}\" is damaged: {what}; nothing was changed (restore the data directory from a backup, or examine it with pgwal kv stats)");
}
