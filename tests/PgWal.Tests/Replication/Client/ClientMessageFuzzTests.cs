// ClientMessageFuzzTests: the client's handling of what a server sends, fed from memory: a valid
// conversation (startup, START_REPLICATION, XLogData, keepalives, the end-of-timeline result) is
// mutated thousands of times (flipped bytes, truncation, inserted garbage, absurd lengths). Every
// outcome must be success, a ProtocolException or a PgServerException: never another exception,
// a hang, or an allocation sized by an unvalidated length. Plus exact checks of the streaming
// message decoder's length rules (keepalive exactly 18 bytes, XLogData header 25).
using System.Buffers;
using System.Buffers.Binary;
using PgWal.Replication.Client;
using PgWal.Replication.Protocol;

namespace PgWal.Tests.Replication.Client;

public sealed class ClientMessageFuzzTests
{
    [Fact]
    public void DecodeCopyData_EnforcesTheLengthsOfEachKind()
    {
        var keepalive = new byte[18];
        keepalive[0] = (byte)'k';
        BinaryPrimitives.WriteUInt64BigEndian(keepalive.AsSpan(1), 0x1234);
        keepalive[17] = 1;
        var k = ReplicationClient.DecodeCopyData(new ReadOnlySequence<byte>(keepalive));
        Assert.Equal((StreamMessageKind.Keepalive, new Lsn(0x1234), true), (k.Kind, k.WalEnd, k.ReplyRequested));
        Assert.Contains("expected 18", Assert.Throws<ProtocolException>(() => ReplicationClient.DecodeCopyData(new ReadOnlySequence<byte>(keepalive[..17]))).Message);
        Assert.Throws<ProtocolException>(() => ReplicationClient.DecodeCopyData(new ReadOnlySequence<byte>([.. keepalive, 0])));

        var data = XLogData(new Lsn(0x3000000), [1, 2, 3]);
        var w = ReplicationClient.DecodeCopyData(new ReadOnlySequence<byte>(data));
        Assert.Equal((new Lsn(0x3000000), new Lsn(0x3000003)), (w.DataStart, w.DataEnd));
        Assert.Contains("header too small", Assert.Throws<ProtocolException>(() => ReplicationClient.DecodeCopyData(new ReadOnlySequence<byte>(data[..24]))).Message);
        Assert.Contains("unrecognized streaming header", Assert.Throws<ProtocolException>(() => ReplicationClient.DecodeCopyData(new ReadOnlySequence<byte>("x"u8.ToArray()))).Message);
        Assert.Throws<ProtocolException>(() => ReplicationClient.DecodeCopyData(ReadOnlySequence<byte>.Empty));
    }

    [Fact]
    public async Task ValidConversation_StreamsAndEndsWithTheNextTimeline()
    {
        var (kinds, end) = await Converse(Conversation());
        Assert.Equal([StreamMessageKind.XLogData, StreamMessageKind.Keepalive, StreamMessageKind.XLogData, StreamMessageKind.EndOfStream], kinds);
        Assert.Equal(new StreamEnd(new TimelineId(2), new Lsn(0x3000010)), end);
    }

    [Fact]
    public async Task MutatedConversations_FailOnlyWithProtocolOrServerErrors()
    {
        byte[] valid = Conversation();
        var random = new Random(15);
        for (int i = 0; i < 4000; i++)
        {
            byte[] input = Mutate(valid, random);
            try
            {
                await Converse(input).WaitAsync(TimeSpan.FromSeconds(10));
            }
            catch (Exception e) when (e is ProtocolException or PgServerException)
            {
            }
            catch (Exception e)
            {
                Assert.Fail($"input {i} ({Convert.ToHexString(input)}) threw {e}");
            }
        }
    }

    [Fact]
    public async Task BaseBackupConversation_ValidIsRead_MutatedFailOnlyWithProtocolOrServerErrors()
    {
        byte[] valid = BaseBackupConversation();
        var sink = new CountingSink();
        var (start, end) = await BaseBackup(valid, sink);
        Assert.Equal((new Lsn(0x2000028), new Lsn(0x2000100)), (start, end));
        Assert.Equal(("base.tar", 1024L, 3L, 7L), (sink.Archive, sink.ArchiveBytes, sink.ManifestBytes, sink.LastProgress));
        var random = new Random(5);
        for (int i = 0; i < 3000; i++)
        {
            byte[] input = Mutate(valid, random);
            try
            {
                await BaseBackup(input, new CountingSink()).WaitAsync(TimeSpan.FromSeconds(10));
            }
            catch (Exception e) when (e is ProtocolException or PgServerException)
            {
            }
            catch (Exception e)
            {
                Assert.Fail($"input {i} ({Convert.ToHexString(input)}) threw {e}");
            }
        }
    }

    private static async Task<(Lsn, Lsn)> BaseBackup(byte[] serverBytes, CountingSink sink)
    {
        var settings = new ConnectionSettings { Host = "test", User = "u", SslMode = SslMode.Disable };
        await using var client = await ReplicationClient.ConnectOverAsync(new ServerBytes(serverBytes), settings);
        var start = await client.StartBaseBackupAsync("BASE_BACKUP");
        var end = await client.ReadBaseBackupAsync(sink);
        return (start.StartLsn, end.EndLsn);
    }

    // A PostgreSQL 15 BASE_BACKUP response: start position, one tablespace (the main directory),
    // CopyOut with an archive, progress and a manifest, CopyDone, end position, the two completions.
    private static byte[] BaseBackupConversation()
    {
        var output = new ArrayBufferWriter<byte>();
        var w = new PgMessageWriter(output);
        w.AuthenticationOk();
        w.ParameterStatus("server_version", "15.18");
        w.ParameterStatus("integer_datetimes", "on");
        w.ReadyForQuery();
        w.RowDescription(("recptr", 25, -1, 0), ("tli", 20, -1, 0));
        w.DataRow("0/2000028", "1");
        w.CommandComplete("SELECT");
        w.RowDescription(("spcoid", 26, 4, 0), ("spclocation", 25, -1, 0), ("size", 20, 8, 0));
        w.DataRow(null, null, "12");
        w.CommandComplete("SELECT");
        w.CopyOutResponse();
        w.CopyData([(byte)'n', .. "base.tar"u8, 0, 0]);
        w.CopyData([(byte)'d', .. new byte[1024]]);
        w.CopyData([(byte)'p', 0, 0, 0, 0, 0, 0, 0, 7]);
        w.CopyData([(byte)'m']);
        w.CopyData([(byte)'d', .. "{ }"u8]);
        w.CopyDone();
        w.RowDescription(("recptr", 25, -1, 0), ("tli", 20, -1, 0));
        w.DataRow("0/2000100", "1");
        w.CommandComplete("SELECT");
        w.CommandComplete("BASE_BACKUP");
        w.ReadyForQuery();
        return output.WrittenSpan.ToArray();
    }

    private sealed class CountingSink : IBaseBackupSink
    {
        public string? Archive;
        public long ArchiveBytes, ManifestBytes, LastProgress;
        public void BeginArchive(string name, string tablespacePath) => Archive = name;
        public void ArchiveData(ReadOnlySequence<byte> data) => ArchiveBytes += data.Length;
        public void EndArchive() { }
        public void BeginManifest() { }
        public void ManifestData(ReadOnlySequence<byte> data) => ManifestBytes += data.Length;
        public void Progress(long bytesDone) => LastProgress = bytesDone;
    }

    private static async Task<(List<StreamMessageKind>, StreamEnd)> Converse(byte[] serverBytes)
    {
        var settings = new ConnectionSettings { Host = "test", User = "u", Password = "p", SslMode = SslMode.Disable };
        await using var client = await ReplicationClient.ConnectOverAsync(new ServerBytes(serverBytes), settings);
        var kinds = new List<StreamMessageKind>();
        var immediate = await client.StartReplicationAsync(null, new Lsn(0x3000000), TimelineId.First);
        if (immediate != null)
            return (kinds, immediate.Value);
        while (true)
        {
            var message = await client.ReadStreamAsync();
            kinds.Add(message.Kind);
            if (message.Kind == StreamMessageKind.ServerShutdown)
                return (kinds, default);
            if (message.Kind == StreamMessageKind.EndOfStream)
                return (kinds, await client.FinishStreamingAsync());
        }
    }

    private static byte[] Mutate(byte[] valid, Random random)
    {
        var bytes = valid.ToList();
        int edits = random.Next(1, 4);
        for (int e = 0; e < edits && bytes.Count > 0; e++)
        {
            int at = random.Next(bytes.Count);
            switch (random.Next(5))
            {
                case 0: bytes[at] = (byte)random.Next(256); break;
                case 1: bytes.RemoveRange(at, bytes.Count - at); break;
                case 2: bytes.InsertRange(at, Enumerable.Range(0, random.Next(1, 9)).Select(_ => (byte)random.Next(256))); break;
                case 3:
                    // An absurd length at a random place: 0, negative, 2 GB.
                    int[] lengths = [0, -1, int.MaxValue, 0x7FFFFFF0, 3];
                    var four = new byte[4];
                    BinaryPrimitives.WriteInt32BigEndian(four, lengths[random.Next(lengths.Length)]);
                    for (int j = 0; j < 4 && at + j < bytes.Count; j++)
                        bytes[at + j] = four[j];
                    break;
                default: bytes.RemoveAt(at); break;
            }
        }
        return [.. bytes];
    }

    // What a PostgreSQL 15 walsender sends for: trust startup, START_REPLICATION on a timeline
    // that ends at 0/3000010, two XLogData and a keepalive, CopyDone, the next-timeline result.
    private static byte[] Conversation()
    {
        var output = new ArrayBufferWriter<byte>();
        var w = new PgMessageWriter(output);
        w.AuthenticationOk();
        w.ParameterStatus("server_version", "15.18");
        w.ParameterStatus("integer_datetimes", "on");
        w.BackendKeyData(4242, 777);
        w.ReadyForQuery();
        w.CopyBothResponse();
        w.CopyData(XLogData(new Lsn(0x3000000), new byte[8]));
        var keepalive = new byte[18];
        keepalive[0] = (byte)'k';
        w.CopyData(keepalive);
        w.CopyData(XLogData(new Lsn(0x3000008), new byte[8]));
        w.CopyDone();
        w.RowDescription(("next_tli", 20, 8, -1), ("next_tli_startpos", 25, -1, -1));
        w.DataRow("2", "0/3000010");
        w.CommandComplete("START_STREAMING");
        w.CommandComplete("START_REPLICATION");
        w.ReadyForQuery();
        return output.WrittenSpan.ToArray();
    }

    private static byte[] XLogData(Lsn start, byte[] payload)
    {
        var message = new byte[25 + payload.Length];
        message[0] = (byte)'w';
        BinaryPrimitives.WriteUInt64BigEndian(message.AsSpan(1), start.Value);
        BinaryPrimitives.WriteUInt64BigEndian(message.AsSpan(9), start.Value + (ulong)payload.Length);
        payload.CopyTo(message, 25);
        return message;
    }

    // A server that sends a fixed byte string and ignores what it is sent.
    private sealed class ServerBytes(byte[] bytes) : Stream
    {
        private readonly MemoryStream _input = new(bytes);
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => _input.Read(buffer, offset, count);
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) { }
    }

}
