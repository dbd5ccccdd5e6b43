// What the primary shows about a PgWal standby (pg_stat_replication) against what the standby
// itself says: while commits stream, the primary's write/flush/replay positions are never ahead of
// the standby's and never behind what the standby had one status interval before; once writes
// stop, they equal the standby's exactly within one status interval.
using System.Text;

namespace PgWal.Tests.Standby;

public sealed class StandbyMetricsTests
{
    [Fact]
    public async Task ThePrimarysViewOfTheStandbyMatchesWhatTheStandbyReportsWithinOneStatusInterval()
    {
        using var c = new KvCluster();
        var standby = c.StartStandby("s1");
        var interval = TimeSpan.FromSeconds(1);   // KvCluster's StatusInterval
        Replication.WalSenderFixture.WaitUntil(() => c.Primary.Instance.WalSender!.Snapshot().Any(s => s.ApplicationName == "s1" && s.State == "streaming"),
            TimeSpan.FromSeconds(30), () => "the standby never streamed");
        using var stop = new CancellationTokenSource();
        var writer = Task.Run(() =>
        {
            for (int i = 0; !stop.IsCancellationRequested; i++)
                c.Primary.Put(Encoding.UTF8.GetBytes($"k{i % 500}"), new byte[200]);
        });
        var history = new List<(DateTime At, Lsn Received, Lsn Replayed)>();
        int checks = 0;
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(4);
        while (DateTime.UtcNow < until)
        {
            history.Add((DateTime.UtcNow, standby.Instance.ReceivedUpTo, standby.Instance.ReplayedUpTo));
            var row = c.Primary.Instance.WalSender!.Snapshot().Single(s => s.ApplicationName == "s1");
            Lsn received = standby.Instance.ReceivedUpTo, replayed = standby.Instance.ReplayedUpTo;   // read after the row
            Assert.True(row.FlushLsn <= received, $"the primary shows flush {row.FlushLsn}, the standby has flushed only {received}");
            Assert.True(row.ReplayLsn <= replayed, $"the primary shows replay {row.ReplayLsn}, the standby has replayed only {replayed}");
            var old = history.LastOrDefault(h => h.At <= DateTime.UtcNow - interval - TimeSpan.FromMilliseconds(500));
            if (old.At != default)
            {
                Assert.True(row.FlushLsn >= old.Received, $"the primary shows flush {row.FlushLsn}, older than the standby's {old.Received} of {interval.TotalSeconds + 0.5} s ago");
                Assert.True(row.ReplayLsn >= old.Replayed, $"the primary shows replay {row.ReplayLsn}, older than the standby's {old.Replayed} of {interval.TotalSeconds + 0.5} s ago");
                checks++;
            }
            await Task.Delay(100);
        }
        await stop.CancelAsync();
        await writer;
        KvCluster.WaitForReplay(standby, c.Primary.LastCommit!.End);
        // Idle: within one status interval (plus slack) the primary shows exactly the standby's positions.
        var deadline = DateTime.UtcNow + interval + TimeSpan.FromSeconds(2);
        string last = "";
        while (true)
        {
            var row = c.Primary.Instance.WalSender!.Snapshot().Single(s => s.ApplicationName == "s1");
            Lsn received = standby.Instance.ReceivedUpTo, replayed = standby.Instance.ReplayedUpTo, flushed = c.Primary.Instance.Wal.FlushedUpTo;
            if (row.WriteLsn == received && row.FlushLsn == received && row.ReplayLsn == replayed && row.SentLsn == flushed && received == flushed)
                break;
            last = $"primary row sent {row.SentLsn} write {row.WriteLsn} flush {row.FlushLsn} replay {row.ReplayLsn}; standby received {received} replayed {replayed}; primary flushed {flushed}";
            Assert.True(DateTime.UtcNow < deadline, last);
            await Task.Delay(50);
        }
        Assert.True(checks > 10, $"only {checks} samples compared");
    }
}
