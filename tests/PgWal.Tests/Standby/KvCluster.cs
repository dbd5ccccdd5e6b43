// KvCluster: a PgWal.Kv primary with its walsender on 127.0.0.1 (a free port, 1 MB segments) and
// standbys made from base backups of it (standby.signal + primary_conninfo), in-process, for the
// standby, hot-standby and failover tests.
using System.Net;
using PgWal.Kv;
using PgWal.Replication.Server;
using PgWal.Standby;
using PgWal.Tests.Infrastructure;
using PgWal.Tests.Replication;

namespace PgWal.Tests.Standby;

internal sealed class KvCluster : IDisposable
{
    public const int SegmentSize = 1 << 20;
    private readonly TempDirectory _dir = new("kvclu");
    private readonly List<KvStore> _standbys = [];

    public KvCluster(Func<WalInstanceOptions, WalInstanceOptions>? configurePrimary = null)
    {
        PrimaryData = _dir.Combine("primary");
        Port = WalSenderFixture.FreePort();
        var sender = new WalSenderOptions
        {
            Listen = new IPEndPoint(IPAddress.Loopback, Port), WalSenderTimeout = TimeSpan.FromSeconds(10),
        }.WithPassword(WalSenderFixture.User, WalSenderFixture.Password);
        var instance = new WalInstanceOptions
        {
            WalSender = sender, SharedBuffers = 256, MaxWalSize = 16 * SegmentSize, MinWalSize = 4 * SegmentSize,
        };
        PrimaryOptions = new KvOptions
        {
            Instance = configurePrimary?.Invoke(instance) ?? instance,
            Init = new WalInitOptions { SegmentSize = SegmentSize },
        };
        Primary = KvStore.Open(PrimaryData, PrimaryOptions);
    }

    public string PrimaryData { get; }

    /// <summary>Opens the primary again after it was closed (or died), on the same port.</summary>
    public void RestartPrimary() => Primary = KvStore.Open(PrimaryData, PrimaryOptions);

    public int Port { get; }

    public KvOptions PrimaryOptions { get; }

    public KvStore Primary { get; set; }

    public string Combine(params string[] parts) => _dir.Combine(parts);

    public string ConnInfo(string applicationName, int? port = null)
        => $"host=127.0.0.1 port={port ?? Port} user={WalSenderFixture.User} password='{WalSenderFixture.Password}' application_name={applicationName}";

    /// <summary>A base backup of the primary at <paramref name="name"/>, made a standby with standby.signal.</summary>
    public string BackupForStandby(string name)
    {
        string data = _dir.Combine(name);
        Primary.Backup(data);
        File.WriteAllText(Path.Combine(data, "standby.signal"), "");
        return data;
    }

    /// <summary>The port each standby's walsender listens on once it is promoted.</summary>
    public Dictionary<string, int> StandbyPorts { get; } = [];

    public KvOptions StandbyOptions(string name, Func<StandbyOptions, StandbyOptions>? configure = null, int? port = null)
    {
        if (!StandbyPorts.TryGetValue(name, out int ownPort))
            StandbyPorts[name] = ownPort = WalSenderFixture.FreePort();
        var sender = new WalSenderOptions
        {
            Listen = new IPEndPoint(IPAddress.Loopback, ownPort), WalSenderTimeout = TimeSpan.FromSeconds(10),
        }.WithPassword(WalSenderFixture.User, WalSenderFixture.Password);
        var standby = new StandbyOptions
        {
            PrimaryConnInfo = ConnInfo(name, port), StatusInterval = TimeSpan.FromSeconds(1), RetryInterval = TimeSpan.FromMilliseconds(500),
            ConsistencyTimeout = TimeSpan.FromSeconds(60), RestartpointInterval = TimeSpan.FromSeconds(1),
        };
        return new KvOptions
        {
            CreateIfMissing = false,
            Instance = new WalInstanceOptions
            {
                SharedBuffers = 256, Standby = configure?.Invoke(standby) ?? standby, CheckpointTimeout = TimeSpan.FromSeconds(2), WalSender = sender,
                MaxWalSize = 16 * SegmentSize, MinWalSize = 4 * SegmentSize,
            },
        };
    }

    /// <summary>A base backup opened as a hot standby named <paramref name="name"/> (its application_name).</summary>
    public KvStore StartStandby(string name, Func<StandbyOptions, StandbyOptions>? configure = null)
    {
        string data = BackupForStandby(name);
        var store = KvStore.Open(data, StandbyOptions(name, configure));
        _standbys.Add(store);
        return store;
    }

    public KvStore Reopen(string name, Func<StandbyOptions, StandbyOptions>? configure = null, int? port = null)
    {
        var store = KvStore.Open(_dir.Combine(name), StandbyOptions(name, configure, port));
        _standbys.Add(store);
        return store;
    }

    /// <summary>Waits until <paramref name="standby"/> replayed up to <paramref name="upTo"/>.</summary>
    public static void WaitForReplay(KvStore standby, Lsn upTo, TimeSpan? timeout = null)
    {
        var task = standby.Instance.WaitForReplayAsync(upTo).AsTask();
        if (!task.Wait(timeout ?? TimeSpan.FromSeconds(60)))
            throw new TimeoutException($"standby {standby.Instance.Location} replayed up to {standby.Instance.ReplayedUpTo}, not {upTo}; received {standby.Instance.ReceivedUpTo}, streaming {standby.Instance.IsStreaming}");
    }

    public void Dispose()
    {
        foreach (var standby in _standbys)
        {
            try
            {
                standby.Dispose();
            }
            catch (ObjectDisposedException)
            {
            }
        }
        try
        {
            Primary.Dispose();
        }
        catch (ObjectDisposedException)
        {
        }
        _dir.Dispose();
    }
}
