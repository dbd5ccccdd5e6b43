// Which servers the replication client talks to: PostgreSQL 15 to 18 (the replication protocol it
// uses did not change; Fixtures/versions/check-replication-client.sh streams and backs up from real
// 16, 17 and 18 servers), nothing else, and a WalReceiver that narrows it (a PgWal standby wants
// PostgreSQL 15's WAL only) refuses the rest without retrying. The server here is a script on a
// loopback socket that answers the startup with the version under test.
using System.Buffers;
using System.Net;
using System.Net.Sockets;
using PgWal.Format;
using PgWal.Replication.Client;
using PgWal.Replication.Protocol;

namespace PgWal.Tests.Replication.Client;

public sealed class ServerVersionTests
{
    [Theory]
    [InlineData("15.18 (Debian 15.18-0+deb12u1)", 15)]
    [InlineData("16.4", 16)]
    [InlineData("17.11", 17)]
    [InlineData("18.6", 18)]
    public async Task Servers15To18_AreAccepted(string version, int major)
    {
        await using var server = new ScriptedServer(version);
        await using var client = await ReplicationClient.ConnectAsync(server.Settings);
        Assert.Equal(major, client.ServerMajor);
        Assert.Equal(version, client.ServerVersion);
    }

    [Theory]
    [InlineData("14.13")]
    [InlineData("19devel")]
    [InlineData("9.6.24")]
    public async Task OtherServers_AreRefused_NamingTheVersion(string version)
    {
        await using var server = new ScriptedServer(version);
        var e = await Assert.ThrowsAsync<ProtocolException>(() => ReplicationClient.ConnectAsync(server.Settings));
        Assert.Equal($"incompatible server version {version}: PgWal's replication client supports PostgreSQL 15, 16, 17 and 18 servers", e.Message);
    }

    [Fact]
    public async Task AReceiverWanting15_RefusesA17Server_OnceAndWithItsReason()
    {
        await using var server = new ScriptedServer("17.11");
        var receiver = new WalReceiver(new WalReceiverOptions
        {
            Connection = server.Settings,
            ServerMajors = [15],
            ServerMajorsReason = "only 15 here",
            RetryDelay = TimeSpan.FromMilliseconds(10),
            CreateTarget = (_, _) => throw new InvalidOperationException("no target may be made"),
        });
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var e = await Assert.ThrowsAsync<ProtocolException>(() => receiver.RunAsync(timeout.Token));
        Assert.Equal("incompatible server version 17.11: only 15 here", e.Message);
        Assert.Equal(1, server.Connections);     // not retried
    }

    // Accepts connections on 127.0.0.1, reads the startup packet, answers AuthenticationOk, the
    // parameters a walsender sends and ReadyForQuery, then waits for the client to leave.
    private sealed class ScriptedServer : IAsyncDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _accepting;
        private int _connections;

        public ScriptedServer(string version)
        {
            _listener.Start();
            _accepting = AcceptAsync(version);
        }

        public int Connections => Volatile.Read(ref _connections);

        public ConnectionSettings Settings => new()
        {
            Host = "127.0.0.1", Port = ((IPEndPoint)_listener.LocalEndpoint).Port, User = "postgres",
            SslMode = SslMode.Disable, ApplicationName = "version-test",
        };

        private async Task AcceptAsync(string version)
        {
            try
            {
                while (true)
                {
                    var socket = await _listener.AcceptSocketAsync(_stop.Token);
                    Interlocked.Increment(ref _connections);
                    _ = ServeAsync(socket, version);
                }
            }
            catch (OperationCanceledException)
            {
            }
            catch (SocketException)
            {
            }
        }

        private async Task ServeAsync(Socket socket, string version)
        {
            using var owned = socket;
            await using var stream = new NetworkStream(socket);
            var length = new byte[4];
            await stream.ReadExactlyAsync(length, _stop.Token);
            var rest = new byte[System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(length) - 4];
            await stream.ReadExactlyAsync(rest, _stop.Token);
            var reply = new ArrayBufferWriter<byte>();
            var w = new PgMessageWriter(reply);
            w.AuthenticationOk();
            w.ParameterStatus("server_version", version);
            w.ParameterStatus("integer_datetimes", "on");
            w.BackendKeyData(4242, 17);
            w.ReadyForQuery();
            await stream.WriteAsync(reply.WrittenMemory, _stop.Token);
            try
            {
                _ = await stream.ReadAsync(new byte[64], _stop.Token);   // Terminate or close
            }
            catch (Exception e) when (e is IOException or OperationCanceledException)
            {
            }
        }

        public async ValueTask DisposeAsync()
        {
            _stop.Cancel();
            _listener.Stop();
            await _accepting;
            _stop.Dispose();
        }
    }
}
