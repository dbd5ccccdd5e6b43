// ClientAuthenticationTests: ReplicationClient against a real PostgreSQL 15 that demands
// passwords: SCRAM-SHA-256 with the right password connects and streams commands, a wrong one is
// refused with the server's own message (28P01); md5 and cleartext work too; a missing password
// is refused before anything is sent; the password file is used when no password is given.
using PgWal.Replication.Client;
using PgWal.Tests.Infrastructure;

namespace PgWal.Tests.Replication.Client;

public sealed class ClientAuthenticationTests
{
    private const string Hba = """
        host replication scram_user 127.0.0.1/32 scram-sha-256
        host replication md5_user 127.0.0.1/32 md5
        host replication clear_user 127.0.0.1/32 password
        """;

    [Fact]
    public async Task RealPostgres_Scram_RightPasswordConnects_WrongIsRefusedWithTheServersMessage_Md5AndCleartextWork()
    {
        using var dir = new TempDirectory("clauth");
        using var pg = ClientCluster.Start(dir, "pg", "password_encryption = 'scram-sha-256'\n", Hba);
        pg.Sql("CREATE ROLE scram_user LOGIN REPLICATION PASSWORD 'sésame ouvre-toi'");
        pg.Sql("CREATE ROLE clear_user LOGIN REPLICATION PASSWORD 'plain'");
        pg.Sql("SET password_encryption = 'md5'; CREATE ROLE md5_user LOGIN REPLICATION PASSWORD 'tr0ub4dor'");

        await using (var client = await ReplicationClient.ConnectAsync(ClientCluster.Settings(pg, "scram_user", "sésame ouvre-toi")))
        {
            var system = await client.IdentifySystemAsync();
            Assert.Equal(pg.Sql("SELECT system_identifier FROM pg_control_system()"), system.SystemIdentifier.ToString());
            Assert.Null(system.DatabaseName);
            Assert.StartsWith("15.", client.ServerVersion);
            Assert.Equal(1024 * 1024, await client.ShowWalSegmentSizeAsync());
        }
        var wrong = await Assert.ThrowsAsync<PgServerException>(() => ReplicationClient.ConnectAsync(ClientCluster.Settings(pg, "scram_user", "sesame")));
        Assert.Equal("28P01", wrong.SqlState);
        Assert.Equal("password authentication failed for user \"scram_user\"", wrong.MessageText);
        Assert.Equal("FATAL", wrong.Severity);

        await using (var md5 = await ReplicationClient.ConnectAsync(ClientCluster.Settings(pg, "md5_user", "tr0ub4dor")))
            Assert.True((await md5.IdentifySystemAsync()).Timeline.IsValid);
        await using (var clear = await ReplicationClient.ConnectAsync(ClientCluster.Settings(pg, "clear_user", "plain")))
            Assert.True((await clear.IdentifySystemAsync()).Timeline.IsValid);
        Assert.Equal("28P01", (await Assert.ThrowsAsync<PgServerException>(() => ReplicationClient.ConnectAsync(ClientCluster.Settings(pg, "md5_user", "nope")))).SqlState);

        var missing = await Assert.ThrowsAsync<PgServerException>(() => ReplicationClient.ConnectAsync(ClientCluster.Settings(pg, "scram_user")));
        Assert.Contains("no password supplied", missing.Message);

        // The prompt (the tools' terminal), asked only because the server wants a password.
        int asked = 0;
        await using (var prompted = await ReplicationClient.ConnectAsync(ClientCluster.Settings(pg, "scram_user") with { PasswordPrompt = () => { asked++; return "sésame ouvre-toi"; } }))
            Assert.Equal(1, asked);

        // The password file, when no password is given (0600, as libpq requires).
        string pgpass = dir.Combine("pgpass");
        File.WriteAllText(pgpass, $"# comment\notherhost:*:*:*:bad\n127.0.0.1:{pg.Port}:replication:scram_user:sésame ouvre-toi\n");
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(pgpass, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        await using (var fromFile = await ReplicationClient.ConnectAsync(ClientCluster.Settings(pg, "scram_user") with { PasswordFile = pgpass }))
            Assert.True((await fromFile.IdentifySystemAsync()).Timeline.IsValid);
    }

    [Fact]
    public async Task RealPostgres_ReplicationCommands_HaveTheirShapes_AndErrorsCarrySqlState()
    {
        using var dir = new TempDirectory("clcmd");
        using var pg = ClientCluster.Start(dir, "pg");
        await using var client = await ReplicationClient.ConnectAsync(ClientCluster.Settings(pg));
        Assert.Null(await client.ReadReplicationSlotAsync("nothere"));
        Assert.Equal("s1", await client.CreateReplicationSlotAsync("s1", temporary: false, reserveWal: true));
        var slot = await client.ReadReplicationSlotAsync("s1");
        Assert.NotNull(slot);
        Assert.Equal("physical", slot.SlotType);
        Assert.True(slot.RestartLsn.IsValid);
        var duplicate = await Assert.ThrowsAsync<PgServerException>(() => client.CreateReplicationSlotAsync("s1", false, false));
        Assert.Equal("42710", duplicate.SqlState);
        await client.DropReplicationSlotAsync("s1");
        Assert.Equal("42704", (await Assert.ThrowsAsync<PgServerException>(() => client.DropReplicationSlotAsync("s1"))).SqlState);
        // Timeline 1 has no history file: RowDescription, then the error (§2.4); the session goes on.
        Assert.Equal("58P01", (await Assert.ThrowsAsync<PgServerException>(() => client.TimelineHistoryAsync(PgWal.TimelineId.First))).SqlState);
        Assert.Equal("0700", await client.ShowAsync("data_directory_mode"));
        // A host starting with '/' is a Unix socket directory, as in libpq.
        await using (var local = await ReplicationClient.ConnectAsync(ClientCluster.Settings(pg) with { Host = pg.SocketDirectory }))
            Assert.Equal((await client.IdentifySystemAsync()).SystemIdentifier, (await local.IdentifySystemAsync()).SystemIdentifier);
        Assert.Equal("42704", (await Assert.ThrowsAsync<PgServerException>(() => client.ShowAsync("no_such_setting"))).SqlState);
    }

    [Fact]
    public async Task RealPostgres_CancelDuringStreaming_EndsItWith57014_AndTheSessionStaysUsable()
    {
        using var dir = new TempDirectory("clcancel");
        using var pg = ClientCluster.Start(dir, "pg");
        await using var client = await ReplicationClient.ConnectAsync(ClientCluster.Settings(pg));
        var system = await client.IdentifySystemAsync();
        var start = new Lsn(system.FlushedUpTo.Value & ~(ulong)(ClientCluster.SegmentSize - 1));
        Assert.Null(await client.StartReplicationAsync(null, start, system.Timeline));
        var first = await client.ReadStreamAsync();
        Assert.Equal(StreamMessageKind.XLogData, first.Kind);
        Assert.Equal(start, first.DataStart);
        await client.CancelAsync();
        var error = await Assert.ThrowsAsync<PgServerException>(async () =>
        {
            while (true)
                await client.ReadStreamAsync();
        });
        Assert.Equal("57014", error.SqlState);
        Assert.Equal(system.SystemIdentifier, (await client.IdentifySystemAsync()).SystemIdentifier);
    }
}
