// Real pg_receivewal 15 streaming from PgWal's walsender: with and without a slot, with
// --synchronous; its completed segments equal the primary's byte for byte, without gaps, also
// across a restart of the primary and a kill -9 of pg_receivewal; the slot's restart_lsn follows
// what pg_receivewal flushed, and the slot keeps the WAL it needs.
using PgWal.Format;
using PgWal.Tests.Infrastructure;

namespace PgWal.Tests.Replication;

public sealed class ReceivewalFromPgWalTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private static BackgroundProcess Receivewal(WalSenderFixture f, string target, params string[] extra)
        => new(PgTools.Require("pg_receivewal"), ["-D", target, .. f.ConnectionArgs, "-v", .. extra], f.Environment);

    // Until the client streams: a start after the writes would begin at their end.
    private static void WaitForStreaming(WalSenderFixture f, BackgroundProcess client)
        => WalSenderFixture.WaitUntil(() => f.Instance.WalSender!.Snapshot().Any(s => s.State is "catchup" or "streaming"), Patience, () => client.Output);

    private static int Completed(string directory)
        => Directory.GetFiles(directory).Count(p => Path.GetFileName(p).Length == 24);

    [Fact]
    public void StreamsSegmentsEqualToThePrimarysWithoutASlot()
    {
        using var f = new WalSenderFixture();
        string target = f.Combine("recv");
        Directory.CreateDirectory(target);
        using var receiver = Receivewal(f, target, "-n");
        WaitForStreaming(f, receiver);
        f.Write(3 * WalSenderFixture.SegmentSize);
        f.Instance.Wal.SwitchSegment();
        f.Instance.Wal.Flush(f.Instance.Wal.InsertedUpTo);
        WalSenderFixture.WaitUntil(() => Completed(target) >= 3, Patience, () => receiver.Output);
        receiver.Interrupt();
        Assert.Equal(0, receiver.WaitForExit(Patience));
        f.AssertSegmentsEqual(target, 3);
        Assert.Contains("finished segment at", receiver.Output);
        var sender = f.Instance.WalSender!;
        Assert.True(sender.BytesSent >= 3 * WalSenderFixture.SegmentSize);
        Assert.True(sender.BytesSentFromBuffers > 0, "a client that keeps up is served from the WAL buffers");
    }

    [Fact]
    public void WithASlotAndSynchronousNothingIsLostAcrossRestartsOfEitherSide()
    {
        using var f = new WalSenderFixture();
        string target = f.Combine("recv");
        Directory.CreateDirectory(target);
        var create = PgTools.Run(PgTools.Require("pg_receivewal"), ["--create-slot", "-S", "s1", .. f.ConnectionArgs], timeout: Patience,
            environment: f.Environment);
        Assert.True(create.ExitCode == 0, create.Stderr);
        Assert.NotNull(f.Instance.Slots!.Find("s1"));
        Assert.True(File.Exists(Path.Combine(f.Data, "pg_replslot", "s1", "state")));

        var receiver = Receivewal(f, target, "-S", "s1", "--synchronous");
        try
        {
            WaitForStreaming(f, receiver);
            f.Write(2 * WalSenderFixture.SegmentSize);
            WalSenderFixture.WaitUntil(() => Completed(target) >= 2, Patience, () => receiver.Output);
            // The slot follows what pg_receivewal reports flushed.
            WalSenderFixture.WaitUntil(() => f.Instance.Slots.Find("s1")!.RestartLsn >= WalSenderFixture.Geometry.SegmentStart(new SegmentNumber(2)),
                Patience, () => $"restart_lsn {f.Instance.Slots.Find("s1")!.RestartLsn}; {receiver.Output}");

            // The primary restarts: pg_receivewal reconnects (after 5 s) and goes on without a gap.
            f.Restart();
            f.Write(2 * WalSenderFixture.SegmentSize);
            WalSenderFixture.WaitUntil(() => Completed(target) >= 4, Patience, () => receiver.Output);

            // pg_receivewal is killed; WAL written meanwhile is kept by the slot and streamed later.
            receiver.Kill();
            receiver.WaitForExit(Patience);
            receiver.Dispose();
            f.Write(2 * WalSenderFixture.SegmentSize);
            f.Instance.Checkpoint();   // would remove the WAL but for the slot
            receiver = Receivewal(f, target, "-S", "s1", "--synchronous");
            f.Instance.Wal.SwitchSegment();
            f.Instance.Wal.Flush(f.Instance.Wal.InsertedUpTo);
            WalSenderFixture.WaitUntil(() => Completed(target) >= 7, Patience, () => receiver.Output);
            receiver.Interrupt();
            Assert.Equal(0, receiver.WaitForExit(Patience));
        }
        finally
        {
            receiver.Dispose();
        }
        f.AssertSegmentsEqual(target, 7, compared: 3);
    }

    [Fact]
    public void FollowsATimelineSwitchOfThePrimary()
    {
        using var f = new WalSenderFixture();
        string target = f.Combine("recv");
        Directory.CreateDirectory(target);
        using var receiver = Receivewal(f, target);
        WaitForStreaming(f, receiver);
        f.Write(WalSenderFixture.SegmentSize + WalSenderFixture.SegmentSize / 2);
        WalSenderFixture.WaitUntil(() => Completed(target) >= 1, Patience, () => receiver.Output);

        // Archive recovery of the primary's own pg_wal (nothing in an archive) ends on timeline 2.
        File.WriteAllText(Path.Combine(f.Data, "recovery.signal"), "");
        f.Restart(f.Options with { ArchiveRecovery = new PgWal.Recovery.ArchiveRecoveryOptions { RestoreCommand = "false" } });
        Assert.Equal(new TimelineId(2), f.Instance.Recovery.NewTimeline);
        f.Write(2 * WalSenderFixture.SegmentSize);
        f.Instance.Wal.SwitchSegment();
        f.Instance.Wal.Flush(f.Instance.Wal.InsertedUpTo);
        WalSenderFixture.WaitUntil(() => Directory.GetFiles(target, "00000002000000000000000*").Count(p => Path.GetFileName(p).Length == 24) >= 2, Patience, () => receiver.Output);
        receiver.Interrupt();
        Assert.Equal(0, receiver.WaitForExit(Patience));

        Assert.Contains("switched to timeline 2 at", receiver.Output);
        Assert.Equal(File.ReadAllBytes(Path.Combine(f.Data, "pg_wal", "00000002.history")), File.ReadAllBytes(Path.Combine(target, "00000002.history")));
        Assert.Single(Directory.GetFiles(target, "00000001*.partial"));   // the old timeline's last segment stays partial
        foreach (var path in Directory.GetFiles(target, "00000002*").Where(p => Path.GetFileName(p).Length == 24))
            Assert.True(File.ReadAllBytes(path).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(f.Data, "pg_wal", Path.GetFileName(path)))), $"{path} differs from the primary's");
    }
}
