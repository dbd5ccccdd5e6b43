// TestStandby: a standby for synchronous replication tests, built on PgWal's ReplicationClient. It
// streams from a walsender under a chosen application_name and records how far it has received,
// but reports written/flushed/applied positions only as the test says (ReportAsync), so a test
// can make it stall at write, at flush or at apply. Keepalives asking for a reply get the last
// report again, so wal_sender_timeout never drops it.
using PgWal.Replication.Client;

namespace PgWal.Tests.Replication.SyncRep;

internal sealed class TestStandby : IAsyncDisposable
{
    private readonly ReplicationClient _client;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _reader;
    private long _received;
    private (Lsn Write, Lsn Flush, Lsn Apply) _reported;   // guarded by _lock
    private readonly object _lock = new();

    private TestStandby(ReplicationClient client, Lsn start)
    {
        _client = client;
        _received = (long)start.Value;
        _reader = Task.Run(ReadLoopAsync);
    }

    /// <summary>Connects as <paramref name="applicationName"/> and streams from the primary's flush position (reporting nothing yet).</summary>
    public static Task<TestStandby> StartAsync(WalSenderFixture f, string applicationName) => StartAsync(f.Instance, f.Port, applicationName);

    /// <summary>As above, for <paramref name="instance"/>'s walsender on <paramref name="port"/> (user and password of WalSenderFixture).</summary>
    public static async Task<TestStandby> StartAsync(WalInstance instance, int port, string applicationName)
    {
        var settings = new ConnectionSettings
        {
            Host = "127.0.0.1", Port = port, User = WalSenderFixture.User, Password = WalSenderFixture.Password,
            ApplicationName = applicationName, SslMode = SslMode.Disable,
        };
        var client = await ReplicationClient.ConnectAsync(settings);
        var start = instance.Wal.FlushedUpTo;
        Assert.Null(await client.StartReplicationAsync(null, start, TimelineId.First));
        return new TestStandby(client, start);
    }

    /// <summary>How far WAL has arrived.</summary>
    public Lsn Received => new((ulong)Interlocked.Read(ref _received));

    /// <summary>The walsender's process id (pg_stat_replication.pid).</summary>
    public int Pid => _client.ProcessId;

    /// <summary>Sends a status update with these positions (and keeps them for replies to keepalives).</summary>
    public async Task ReportAsync(Lsn write, Lsn flush, Lsn apply)
    {
        lock (_lock)
            _reported = (write, flush, apply);
        await _client.SendStatusAsync(write, flush, apply);
    }

    /// <summary>Waits until the WAL up to <paramref name="lsn"/> has arrived.</summary>
    public void WaitForReceived(Lsn lsn, TimeSpan timeout)
        => WalSenderFixture.WaitUntil(() => Received >= lsn, timeout, () => $"received up to {Received}, waiting for {lsn}");

    private async Task ReadLoopAsync()
    {
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                var message = await _client.ReadStreamAsync(_stop.Token);
                if (message.Kind == StreamMessageKind.XLogData)
                {
                    Interlocked.Exchange(ref _received, (long)message.DataEnd.Value);
                }
                else if (message.Kind == StreamMessageKind.Keepalive && message.ReplyRequested)
                {
                    (Lsn, Lsn, Lsn) reported;
                    lock (_lock)
                        reported = _reported;
                    await _client.SendStatusAsync(reported.Item1, reported.Item2, reported.Item3, cancellation: _stop.Token);
                }
                else if (message.Kind is StreamMessageKind.EndOfStream or StreamMessageKind.ServerShutdown)
                {
                    return;
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException || _stop.IsCancellationRequested || e is IOException)
        {
            // stopped, or the primary went away
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        await _reader;
        await _client.DisposeAsync();
        _stop.Dispose();
    }
}
