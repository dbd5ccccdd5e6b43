// Npgsql 10.0.3's PhysicalReplicationConnection against PgWal's walsender: SCRAM (Npgsql's 'y'
// gs2 flag), IDENTIFY_SYSTEM, SHOW, slots, WAL streamed equal to the primary's bytes, status
// updates that move the slot's restart_lsn, and a cancel request that stops streaming and leaves
// the connection usable (and, being an ERROR, drops the session's temporary slot).
using Npgsql.Replication;
using NpgsqlTypes;
using PgWal.Format;

namespace PgWal.Tests.Replication;

public sealed class NpgsqlReplicationTests
{
    [Fact]
    public async Task PhysicalReplicationConnectionStreamsTheWalAndMovesTheSlot()
    {
        using var f = new WalSenderFixture();
        f.Write(WalSenderFixture.SegmentSize / 2);
        await using var connection = new PhysicalReplicationConnection(
            $"Host=127.0.0.1;Port={f.Port};Username={WalSenderFixture.User};Password={WalSenderFixture.Password};SSL Mode=Disable");
        await connection.Open();

        var system = await connection.IdentifySystem();
        Assert.Equal(f.Instance.ControlFile.SystemIdentifier.ToString(System.Globalization.CultureInfo.InvariantCulture), system.SystemId);
        Assert.Equal(1u, system.Timeline);
        Assert.Equal(f.Instance.Wal.FlushedUpTo.Value, (ulong)system.XLogPos);
        Assert.Null(system.DbName);
        Assert.Equal("1MB", await connection.Show("wal_segment_size"));
        Assert.Equal(15, connection.PostgreSqlVersion.Major);

        await connection.CreateReplicationSlot("npgslot", isTemporary: false, reserveWal: true);
        await connection.CreateReplicationSlot("npgtemp", isTemporary: true, reserveWal: true);
        var slot = await connection.ReadReplicationSlot("npgslot");
        Assert.NotNull(slot);
        Assert.Equal(f.Instance.Wal.RedoPointer.Value, (ulong)slot!.RestartLsn!.Value);
        Assert.Equal(1u, slot.RestartTimeline);
        Assert.Null(await connection.ReadReplicationSlot("none"));

        // Stream from the slot's restart point, compare with the primary's files, report progress.
        var writer = Task.Run(() => f.Write(2 * WalSenderFixture.SegmentSize));
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        ulong received = 0;
        Lsn reported = Lsn.Invalid;
        bool cancelling = false;
        var canceled = await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var message in connection.StartReplication(slot, cancel.Token))
            {
                if (cancelling)
                    continue;
                var data = new MemoryStream();
                await message.Data.CopyToAsync(data, cancel.Token);
                var start = new Lsn((ulong)message.WalStart);
                var bytes = data.ToArray();
                AssertEqualToPrimary(f, start, bytes);
                received += (ulong)bytes.Length;
                reported = start + (ulong)bytes.Length;
                connection.SetReplicationStatus(new NpgsqlLogSequenceNumber(reported.Value));
                await connection.SendStatusUpdate(CancellationToken.None);
                if (received >= WalSenderFixture.SegmentSize)
                {
                    // Npgsql stops streaming with a CancelRequest when the token fires during its
                    // wait for the next message (a token already cancelled when it asks is thrown
                    // at once, without cancelling the server's side).
                    cancelling = true;
                    cancel.CancelAfter(TimeSpan.FromMilliseconds(300));
                }
            }
        });
        await writer;
        Assert.True(received >= WalSenderFixture.SegmentSize, $"received {received} bytes");
        var moved = f.Instance.Slots!.Find("npgslot")!;
        Assert.True(moved.RestartLsn > slot.RestartLsn.Value.ToLsn() && moved.RestartLsn <= reported, $"restart_lsn {moved.RestartLsn}, reported {reported}");
        Assert.False(moved.Active);

        // The session survives the cancel; the cancel was an ERROR, which dropped the temporary slot.
        var again = await connection.IdentifySystem();
        Assert.Equal(system.SystemId, again.SystemId);
        Assert.Null(f.Instance.Slots.Find("npgtemp"));
        await connection.DropReplicationSlot("npgslot", wait: true);
        Assert.Null(f.Instance.Slots.Find("npgslot"));
        Assert.False(Directory.Exists(Path.Combine(f.Data, "pg_replslot", "npgslot")));
    }

    private static void AssertEqualToPrimary(WalSenderFixture f, Lsn start, byte[] bytes)
    {
        var g = WalSenderFixture.Geometry;
        int at = 0;
        while (at < bytes.Length)
        {
            var position = start + (ulong)at;
            var segment = g.SegmentOf(position);
            int offset = (int)g.OffsetInSegment(position);
            int n = Math.Min(bytes.Length - at, WalSenderFixture.SegmentSize - offset);
            using var file = File.OpenRead(Path.Combine(f.Data, "pg_wal", SegmentFileName.Format(TimelineId.First, segment, g)));
            file.Position = offset;
            var expected = new byte[n];
            file.ReadExactly(expected);
            Assert.True(expected.AsSpan().SequenceEqual(bytes.AsSpan(at, n)), $"streamed WAL at {position} differs from the primary's file");
            at += n;
        }
    }
}

internal static class LsnConversions
{
    public static Lsn ToLsn(this NpgsqlLogSequenceNumber lsn) => new((ulong)lsn);
}
