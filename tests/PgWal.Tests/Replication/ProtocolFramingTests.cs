// ProtocolFramingTests: protocol 3.0 framing (issue 15's first layer). What the writer builds the
// reader takes apart again, field for field; pg_receivewal's real startup packet (as captured on
// the wire) decodes; and 100,000 malformed inputs — random bytes, valid messages with flipped,
// cut or inflated lengths — end in a ProtocolException or "need more bytes", never in another
// exception, a read past the input, or a body larger than the limit.
using System.Buffers;
using System.Text;
using PgWal.Replication.Protocol;

namespace PgWal.Tests.Replication;

public sealed class ProtocolFramingTests
{
    private static byte[] Build(Action<PgMessageWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>();
        write(new PgMessageWriter(buffer));
        return buffer.WrittenSpan.ToArray();
    }

    [Fact]
    public void StartupPackets_RoundTrip_AndPgReceivewalsDecodes()
    {
        var bytes = Build(w => w.Startup(new("user", "postgres"), new("database", "replication"), new("replication", "true"), new("application_name", "pg_receivewal")));
        var seq = new ReadOnlySequence<byte>(bytes);
        Assert.True(PgMessageReader.TryReadStartup(ref seq, out var packet));
        Assert.Equal(0, seq.Length);
        Assert.Equal(StartupKind.Startup, packet.Kind);
        Assert.Equal("true", packet["replication"]);
        Assert.Equal("pg_receivewal", packet["application_name"]);
        Assert.Equal(["user", "database", "replication", "application_name"], packet.Parameters.Select(p => p.Key));

        var ssl = new ReadOnlySequence<byte>(Build(w => w.SslRequest()));
        Assert.True(PgMessageReader.TryReadStartup(ref ssl, out var s));
        Assert.Equal(StartupKind.SslRequest, s.Kind);
        var cancel = new ReadOnlySequence<byte>(Build(w => w.CancelRequest(4242, -7)));
        Assert.True(PgMessageReader.TryReadStartup(ref cancel, out var c));
        Assert.Equal((StartupKind.CancelRequest, 4242, -7), (c.Kind, c.ProcessId, c.SecretKey));

        // Incomplete: wait for more, consume nothing.
        var half = new ReadOnlySequence<byte>(bytes.AsMemory(0, bytes.Length - 1));
        Assert.False(PgMessageReader.TryReadStartup(ref half, out _));
        Assert.Equal(bytes.Length - 1, half.Length);
    }

    [Fact]
    public void Messages_RoundTrip_FieldForField()
    {
        var bytes = Build(w =>
        {
            w.Query("IDENTIFY_SYSTEM");
            w.RowDescription(("systemid", 25, -1, -1), ("timeline", 23, 4, -1));
            w.DataRow("7714631098899958781", "1", null);
            w.ErrorResponse("ERROR", "42704", "replication slot \"s\" does not exist", detail: "d");
            w.CopyData([1, 2, 3]);
            w.ReadyForQuery();
        });
        var seq = new ReadOnlySequence<byte>(bytes);
        var messages = new List<PgMessage>();
        while (PgMessageReader.TryReadMessage(ref seq, 1 << 20, out var m))
            messages.Add(m);
        Assert.Equal("QTDEdZ", Encoding.ASCII.GetString(messages.Select(m => m.Type).ToArray()));
        var q = new PgBodyReader(messages[0].Body.ToArray(), "Query");
        Assert.Equal("IDENTIFY_SYSTEM", q.ReadCString());
        q.EnsureEnd();
        var t = new PgBodyReader(messages[1].Body.ToArray(), "RowDescription");
        Assert.Equal(2, t.ReadInt16());
        Assert.Equal("systemid", t.ReadCString());
        Assert.Equal((0, 0, 25, -1, -1, 0), (t.ReadInt32(), t.ReadInt16(), t.ReadInt32(), t.ReadInt16(), t.ReadInt32(), t.ReadInt16()));
        var d = new PgBodyReader(messages[2].Body.ToArray(), "DataRow");
        Assert.Equal(3, d.ReadInt16());
        Assert.Equal("7714631098899958781", Encoding.UTF8.GetString(d.ReadBytes(d.ReadInt32())));
        Assert.Equal("1", Encoding.UTF8.GetString(d.ReadBytes(d.ReadInt32())));
        Assert.Equal(-1, d.ReadInt32());
        d.EnsureEnd();
        Assert.Equal([1, 2, 3], messages[4].Body.ToArray());
    }

    [Theory]
    [InlineData(new byte[] { 0, 0, 0, 0 }, "invalid length of startup packet: 0")]
    [InlineData(new byte[] { 0xFF, 0xFF, 0xFF, 0xF0 }, "invalid length of startup packet: -16")]
    [InlineData(new byte[] { 0x7F, 0xFF, 0xFF, 0xFF }, "invalid length of startup packet: 2147483647")]
    [InlineData(new byte[] { 0, 0, 0, 8, 0, 2, 0, 0 }, "unsupported frontend protocol 2.0")]
    [InlineData(new byte[] { 0, 0, 0, 12, 4, 210, 22, 47, 0, 0, 0, 0 }, "invalid length 12 for a startup packet")]
    [InlineData(new byte[] { 0, 0, 0, 13, 0, 3, 0, 0, (byte)'u', 0, (byte)'x', 0, 1 }, "invalid startup packet layout")]
    public void MalformedStartupPackets_AreNamed(byte[] packet, string expected)
    {
        var seq = new ReadOnlySequence<byte>(packet);
        var e = Assert.Throws<ProtocolException>(() => PgMessageReader.TryReadStartup(ref seq, out _));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void HugeAndNegativeMessageLengths_FailAtOnce_WithoutWaitingForTheBytes()
    {
        foreach (int length in new[] { 0, 3, -1, int.MinValue, int.MaxValue, (1 << 20) + 5 })
        {
            var bytes = new byte[] { (byte)'d', (byte)(length >> 24), (byte)(length >> 16), (byte)(length >> 8), (byte)length };
            var seq = new ReadOnlySequence<byte>(bytes);
            var e = Assert.Throws<ProtocolException>(() => PgMessageReader.TryReadMessage(ref seq, 1 << 20, out _));
            Assert.Contains("'d'", e.Message);
        }
    }

    [Fact]
    public void HundredThousandMalformedInputs_EndInAProtocolErrorOrNeedMore_NeverAnythingElse()
    {
        var random = new Random(15);
        var valid = Build(w =>
        {
            w.Startup(new("user", "u"), new("replication", "true"));
            w.Query("START_REPLICATION SLOT s PHYSICAL 0/1000000 TIMELINE 1");
            w.SaslInitialResponse("SCRAM-SHA-256", Encoding.ASCII.GetBytes("n,,n=,r=abc"));
            w.CopyData(new byte[100]);
            w.Terminate();
        });
        int protocolErrors = 0, needMore = 0;
        for (int i = 0; i < 100_000; i++)
        {
            byte[] input;
            switch (i % 3)
            {
                case 0:
                    input = new byte[random.Next(0, 64)];
                    random.NextBytes(input);
                    break;
                case 1:
                    input = (byte[])valid.Clone();
                    for (int k = random.Next(1, 4); k > 0; k--)
                        input[random.Next(input.Length)] = (byte)random.Next(256);
                    break;
                default:
                    input = valid.AsSpan(0, random.Next(valid.Length)).ToArray();
                    break;
            }
            try
            {
                if (Consume(input))
                    needMore++;
            }
            catch (ProtocolException)
            {
                protocolErrors++;
            }
        }
        Assert.True(protocolErrors > 10_000 && needMore > 10_000, $"{protocolErrors} protocol errors, {needMore} incomplete");
    }

    // A server's view of a connection's bytes: the startup packet, then messages whose bodies are
    // parsed as a walsender would. True when the input ended in the middle of something.
    private static bool Consume(byte[] input)
    {
        var seq = new ReadOnlySequence<byte>(input);
        if (!PgMessageReader.TryReadStartup(ref seq, out _))
            return true;
        while (PgMessageReader.TryReadMessage(ref seq, 1 << 16, out var m))
        {
            Assert.True(m.Body.Length <= 1 << 16);
            var body = new PgBodyReader(m.Body.ToArray(), ((char)m.Type).ToString());
            switch (m.Type)
            {
                case (byte)'Q':
                    body.ReadCString();
                    body.EnsureEnd();
                    break;
                case (byte)'p':
                    body.ReadCString();
                    body.ReadBytes(body.ReadInt32());
                    body.EnsureEnd();
                    break;
                case (byte)'d':
                    body.ReadRest();
                    break;
                case (byte)'X':
                    body.EnsureEnd();
                    break;
                default:
                    throw new ProtocolException($"unexpected message type '{(char)m.Type}'");
            }
        }
        return seq.Length > 0;
    }
}
