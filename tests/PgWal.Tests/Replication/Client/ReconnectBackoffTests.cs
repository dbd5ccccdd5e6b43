// WalReceiver's reconnects: a fixed wait by default (pg_receivewal's 5 s), or a back-off that
// doubles the wait after each failed attempt in a row up to MaxRetryDelay.
using PgWal.Format;
using PgWal.Replication.Client;

namespace PgWal.Tests.Replication.Client;

public sealed class ReconnectBackoffTests
{
    [Fact]
    public async Task FailedAttemptsInARowDoubleTheWaitUpToTheMaximum()
    {
        int port = WalSenderFixture.FreePort();   // nobody listens there
        var warnings = new List<string>();
        using var stop = new CancellationTokenSource();
        var receiver = new WalReceiver(new WalReceiverOptions
        {
            Connection = ConnectionSettings.Parse($"host=127.0.0.1 port={port} user=nobody sslmode=disable", _ => null),
            RetryDelay = TimeSpan.FromMilliseconds(100),
            MaxRetryDelay = TimeSpan.FromMilliseconds(400),
            CreateTarget = (geometry, mode) => throw new InvalidOperationException("never connected"),
            Warning = w =>
            {
                lock (warnings)
                {
                    warnings.Add(w);
                    if (warnings.Count(x => x.StartsWith("disconnected", StringComparison.Ordinal)) == 5)
                        stop.Cancel();
                }
            },
        });
        Assert.Equal(WalReceiverOutcome.Stopped, await receiver.RunAsync(stop.Token));
        var waits = warnings.Where(w => w.StartsWith("disconnected", StringComparison.Ordinal)).ToList();
        Assert.Equal(["0.1", "0.2", "0.4", "0.4", "0.4"], waits.Select(w => w.Split(' ')[2]));
        Assert.Contains(warnings, w => w.Contains("127.0.0.1") && w.Contains(port.ToString(System.Globalization.CultureInfo.InvariantCulture)));
    }
}
