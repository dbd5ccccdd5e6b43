// PgMessageReader: framing of incoming bytes (from a PipeReader's buffer) into startup packets and
// messages. Every length is checked before anything is taken: at least the header, at most the
// caller's limit (so a length of 2 GB, or a negative one, is an error at once, never an
// allocation or a wait for bytes that will not come). Bodies are slices of the input.
using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace PgWal.Replication.Protocol;

/// <summary>Reads protocol 3.0 framing from a byte sequence.</summary>
public static class PgMessageReader
{
    /// <summary>Protocol 3.0's StartupMessage code.</summary>
    public const int ProtocolVersion3 = 196608;
    /// <summary>SSLRequest's code.</summary>
    public const int SslRequestCode = 80877103;
    /// <summary>GSSENCRequest's code.</summary>
    public const int GssEncRequestCode = 80877104;
    /// <summary>CancelRequest's code.</summary>
    public const int CancelRequestCode = 80877102;
    /// <summary>PostgreSQL's limit on a startup packet (MAX_STARTUP_PACKET_LENGTH).</summary>
    public const int MaxStartupLength = 10000;

    /// <summary>
    /// Takes the first packet of a connection off <paramref name="buffer"/>; false when more bytes
    /// are needed (the buffer is left as it was).
    /// </summary>
    /// <exception cref="ProtocolException">The packet is malformed: the message says how.</exception>
    public static bool TryReadStartup(ref ReadOnlySequence<byte> buffer, out StartupPacket packet)
    {
        packet = null!;
        if (buffer.Length < 4)
            return false;
        int length = ReadInt32(buffer);
        if (length < 8 || length > MaxStartupLength)
            throw new ProtocolException($"invalid length of startup packet: {length} (must be 8 to {MaxStartupLength})");
        if (buffer.Length < length)
            return false;
        var packetBytes = buffer.Slice(0, length);
        int code = ReadInt32(packetBytes.Slice(4));
        var body = packetBytes.Slice(8);
        packet = code switch
        {
            SslRequestCode when length == 8 => new StartupPacket(StartupKind.SslRequest, []),
            GssEncRequestCode when length == 8 => new StartupPacket(StartupKind.GssEncRequest, []),
            CancelRequestCode when length == 16 => new StartupPacket(StartupKind.CancelRequest, [], ReadInt32(body), ReadInt32(body.Slice(4))),
            SslRequestCode or GssEncRequestCode or CancelRequestCode => throw new ProtocolException($"invalid length {length} for a startup packet with code {code}"),
            ProtocolVersion3 => new StartupPacket(StartupKind.Startup, ReadParameters(body)),
            _ => throw new ProtocolException($"unsupported frontend protocol {code >> 16}.{code & 0xFFFF}: server supports 3.0 to 3.0", "0A000"),
        };
        buffer = buffer.Slice(length);
        return true;
    }

    // name\0value\0 ... \0
    private static List<KeyValuePair<string, string>> ReadParameters(ReadOnlySequence<byte> body)
    {
        var span = body.IsSingleSegment ? body.FirstSpan : body.ToArray();
        var result = new List<KeyValuePair<string, string>>();
        int i = 0;
        while (true)
        {
            if (i >= span.Length)
                throw new ProtocolException("invalid startup packet layout: expected terminator as last byte");
            if (span[i] == 0)
            {
                if (i != span.Length - 1)
                    throw new ProtocolException("invalid startup packet layout: bytes after the terminator");
                break;
            }
            string name = CString(span, ref i, "a parameter name");
            if (i >= span.Length)
                throw new ProtocolException($"invalid startup packet layout: parameter \"{name}\" has no value");
            string value = CString(span, ref i, $"the value of \"{name}\"");
            result.Add(new(name, value));
        }
        return result;
    }

    private static string CString(ReadOnlySpan<byte> span, ref int i, string what)
    {
        int nul = span[i..].IndexOf((byte)0);
        if (nul < 0)
            throw new ProtocolException($"invalid startup packet layout: {what} is not NUL-terminated");
        string text = Encoding.UTF8.GetString(span.Slice(i, nul));
        i += nul + 1;
        return text;
    }

    /// <summary>
    /// Takes one message off <paramref name="buffer"/>; false when more bytes are needed. A body
    /// longer than <paramref name="maxBodyLength"/> is an error, not a wait.
    /// </summary>
    /// <exception cref="ProtocolException">The length is below 4 or above the limit.</exception>
    public static bool TryReadMessage(ref ReadOnlySequence<byte> buffer, int maxBodyLength, out PgMessage message)
    {
        message = default;
        if (buffer.Length < 5)
            return false;
        byte type = buffer.FirstSpan[0];
        int length = ReadInt32(buffer.Slice(1));
        if (length < 4)
            throw new ProtocolException($"invalid message length {length} in a message of type '{Show(type)}'");
        if (length - 4 > maxBodyLength)
            throw new ProtocolException($"message of type '{Show(type)}' is {length - 4} bytes long, more than the {maxBodyLength} allowed");
        if (buffer.Length < 1L + length)
            return false;
        message = new PgMessage(type, buffer.Slice(5, length - 4));
        buffer = buffer.Slice(1 + length);
        return true;
    }

    /// <summary>A message type byte for messages: the character, or \xNN when it is not printable.</summary>
    public static string Show(byte type) => type is >= 0x20 and < 0x7F ? ((char)type).ToString() : $"\\x{type:X2}";

    private static int ReadInt32(ReadOnlySequence<byte> sequence)
    {
        Span<byte> four = stackalloc byte[4];
        sequence.Slice(0, 4).CopyTo(four);
        return BinaryPrimitives.ReadInt32BigEndian(four);
    }
}
