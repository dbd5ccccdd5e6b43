// KvStore.Open: opening a store — creating it only where there is no sign of one (KvStoreFiles),
// recovering the data directory first when it was not shut down cleanly, checking a cleanly shut
// down directory read-only before writing to it, or opening it read-only for good.
using PgWal.Insert;
using PgWal.Kv.Tree;
using PgWal.Storage;

namespace PgWal.Kv;

public sealed partial class KvStore
{
    private KvStore(WalInstance instance, KvOptions options, IDataDirectoryStorage storage)
    {
        _instance = instance;
        _options = options;
        _reader = new TreeReader(instance.Buffers, options.Relation);
        _tx = new KvTransaction(instance, options.Relation, new RecordBuilder(), default);
        _metrics = new KvMetrics(this, options.Instance.Wal.MeterFactory);
        if (KvStoreFiles.LoadMeta(instance, storage, options.Relation, writeMarker: !instance.IsReadOnly && !instance.IsStandby) is { } meta)
        {
            _meta = meta;
            _metaStale = instance.IsStandby;
        }
        else
        {
            if (instance.IsReadOnly || instance.IsStandby || !options.CreateIfMissing)
                throw new InvalidDataException($"kv: no store in \"{instance.Location}\" (relation {RelationPath.Of(options.Relation, ForkNumber.Main)}){(instance.IsReadOnly ? "; nothing was created" : "")}");
            BeginWrite(0, 0, 0);
            try
            {
                BTree.Create(_tx);
                instance.Wal.Flush(EndWrite());
                KvStoreFiles.WriteMarker(storage, options.Relation);   // only once the tree's creation is durable
            }
            catch (Exception e)
            {
                FailWrite(e);
                throw;
            }
            finally
            {
                _treeLock.ExitWriteLock();
            }
        }
    }

    /// <summary>Opens (creating when missing) the store in data directory <paramref name="directory"/>, recovering it when needed.</summary>
    public static KvStore Open(string directory, KvOptions? options = null) => Open(new FileSystemDataDirectory(directory), options);

    /// <summary>Opens (creating when missing) the store on <paramref name="storage"/>, recovering it when needed.</summary>
    public static KvStore Open(IDataDirectoryStorage storage, KvOptions? options = null)
    {
        options ??= new KvOptions();
        if (storage.Control.Read(new byte[1]) < 0)
        {
            if (!options.CreateIfMissing)
                throw new DirectoryNotFoundException($"kv: \"{storage.Location}\" is not a data directory (no global/pg_control)");
            try
            {
                WalInstance.Initialize(storage, options.Init);
            }
            catch (IOException) when (storage.Control.Read(new byte[1]) >= 0)
            {
                // another process created it first: open what it created
            }
        }
        options.Instance.ResourceManagers.Register(KvResourceManager.Instance);
        CheckBeforeWriting(storage, options);
        var instance = WalInstance.Open(storage, options.Instance);
        try
        {
            return new KvStore(instance, options, storage);
        }
        catch
        {
            // Nothing half done (a failed write PANICs and abandons the instance itself): shut down
            // cleanly, so the directory does not need crash recovery because of a refused open.
            try
            {
                instance.Dispose();
            }
            catch
            {
                instance.Abandon();
            }
            throw;
        }
    }

    // A directory shut down cleanly is checked read-only before it is opened for writing (which
    // writes the control file): a damaged store, or a missing one that may not be created, is then
    // refused with every file as it was. After a crash the check runs after recovery, which may
    // repair pages from full-page images.
    private static void CheckBeforeWriting(IDataDirectoryStorage storage, KvOptions options)
    {
        var control = new byte[Format.ControlFileData.FileSize];
        int n = storage.Control.Read(control);
        if (!Format.ControlFileData.TryRead(control.AsSpan(0, Math.Max(n, 0)), out var data, out _) || data!.State != Format.DatabaseState.ShutDown)
            return;   // the writable open reports a damaged control file; a crashed directory recovers first
        using var instance = WalInstance.OpenReadOnly(storage, options.Instance with { SharedBuffers = 16 });
        if (KvStoreFiles.LoadMeta(instance, storage, options.Relation, writeMarker: false) is null && !options.CreateIfMissing)
            throw new InvalidDataException($"kv: no store in \"{instance.Location}\" (relation {RelationPath.Of(options.Relation, ForkNumber.Main)})");
    }

    /// <summary>
    /// Opens the store in data directory <paramref name="directory"/> for reading only: Get, Scan
    /// and CheckTree work; nothing is created or written (no directory, no lock file, no
    /// checkpoint), so no write permission or free space is needed. The directory must have been
    /// shut down cleanly (crash recovery writes: run it with <see cref="Open(string, KvOptions?)"/>
    /// or <c>pgwal recover</c>). Writes throw <see cref="InvalidOperationException"/>.
    /// </summary>
    /// <exception cref="DirectoryNotFoundException">No data directory there.</exception>
    /// <exception cref="Recovery.RecoveryException">The directory needs crash recovery first.</exception>
    /// <exception cref="InvalidDataException">No store there, or it is damaged.</exception>
    public static KvStore OpenReadOnly(string directory, KvOptions? options = null)
    {
        if (!Directory.Exists(directory))
            throw new DirectoryNotFoundException($"kv: data directory \"{directory}\" does not exist");
        return OpenReadOnly(new FileSystemDataDirectory(directory, zeroFillWal: true, readOnly: true), options);
    }

    /// <summary>Opens the store on <paramref name="storage"/> for reading only (see <see cref="OpenReadOnly(string, KvOptions?)"/>).</summary>
    public static KvStore OpenReadOnly(IDataDirectoryStorage storage, KvOptions? options = null)
    {
        options ??= new KvOptions();
        if (storage.Control.Read(new byte[1]) < 0)
            throw new DirectoryNotFoundException($"kv: \"{storage.Location}\" is not a data directory (no global/pg_control)");
        var instance = WalInstance.OpenReadOnly(storage, options.Instance);
        try
        {
            return new KvStore(instance, options, storage);
        }
        catch
        {
            instance.Dispose();
            throw;
        }
    }

    /// <summary>Whether the store was opened with <see cref="OpenReadOnly(string, KvOptions?)"/>.</summary>
    public bool IsReadOnly => _instance.IsReadOnly;
}
