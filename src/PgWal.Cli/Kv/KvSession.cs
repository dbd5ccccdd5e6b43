// KvSession: one `pgwal kv` command's use of the store — opened once the command line has been
// checked (so a bad one creates nothing), read-only for get/scan/stats (which then create and write
// nothing), closed with a shutdown checkpoint at the end after a change. Closing can
// fail (no space for the checkpoint's page writes, say): after a change that is already durable
// that is exit 4, saying the change is durable and the next open recovers; otherwise the failure
// is reported as it is. After a failed action the store is closed quietly and the action's error
// is the one reported.
using PgWal.Cli.Common;
using PgWal.Kv;

namespace PgWal.Cli.Kv;

internal sealed class KvSession(string dir)
{
    private KvStore? _store;

    /// <summary>Set by the action once its change is durable: "the put of key ...".</summary>
    public string? DurableChange { get; set; }

    /// <summary>
    /// The store opened for writing on the first call; with <paramref name="create"/> (put) created
    /// when missing; <paramref name="configure"/> adjusts the options (kv serve's synchronous replication).
    /// </summary>
    public KvStore Open(bool create, Func<KvOptions, KvOptions>? configure = null)
    {
        if (_store == null)
        {
            PathChecks.DataDirectory(dir);
            var instance = Recovery.RecoveryConfigFile.ApplyArchiveSettings(dir, new WalInstanceOptions { BackgroundCheckpointer = false });
            var options = new KvOptions { Instance = instance, CreateIfMissing = create };
            _store = KvStore.Open(dir, configure?.Invoke(options) ?? options);
        }
        return _store;
    }

    /// <summary>
    /// The store opened read-only (get, scan, stats): nothing is created or written, so a missing
    /// directory, one without a store, or one that needs crash recovery is an error that says so.
    /// </summary>
    public KvStore OpenReadOnly()
    {
        if (_store == null)
        {
            PathChecks.DataDirectory(dir);
            _store = KvStore.OpenReadOnly(dir, new KvOptions { Instance = new WalInstanceOptions { BackgroundCheckpointer = false, SharedBuffers = 1024 } });
        }
        return _store;
    }

    public static int Run(string dir, Func<KvSession, int> action)
    {
        var session = new KvSession(dir);
        int code;
        try
        {
            code = action(session);
        }
        catch
        {
            try
            {
                session._store?.Dispose();
            }
            catch (Exception)
            {
                // the action's failure is the one to report
            }
            throw;
        }
        try
        {
            session._store?.Dispose();
        }
        catch (Exception e) when (session.DurableChange != null)
        {
            throw new OutcomeUnknownException(
                $"{session.DurableChange} is durable, but closing the store failed: {ErrorText.Of(e)}; the next open recovers the store", e);
        }
        return code;
    }
}
