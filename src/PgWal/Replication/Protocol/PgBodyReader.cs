// PgBodyReader: fields of one message body, each read with a bounds check: a body shorter than
// its fields say, a string without its NUL, or a count that does not fit is a ProtocolException
// naming the message, never an exception of another kind or a read past the body.
using System.Buffers.Binary;
using System.Text;

namespace PgWal.Replication.Protocol;

/// <summary>Reads the fields of a message body in order.</summary>
public ref struct PgBodyReader(ReadOnlySpan<byte> body, string message)
{
    private readonly ReadOnlySpan<byte> _body = body;
    private int _position;

    /// <summary>Bytes not read yet.</summary>
    public readonly int Remaining => _body.Length - _position;

    /// <summary>A big-endian int16.</summary>
    public short ReadInt16() => BinaryPrimitives.ReadInt16BigEndian(Take(2, "an int16"));

    /// <summary>A big-endian int32.</summary>
    public int ReadInt32() => BinaryPrimitives.ReadInt32BigEndian(Take(4, "an int32"));

    /// <summary>A big-endian int64.</summary>
    public long ReadInt64() => BinaryPrimitives.ReadInt64BigEndian(Take(8, "an int64"));

    /// <summary>One byte.</summary>
    public byte ReadByte() => Take(1, "a byte")[0];

    /// <summary>A NUL-terminated UTF-8 string.</summary>
    public string ReadCString()
    {
        int nul = _body[_position..].IndexOf((byte)0);
        if (nul < 0)
            throw new ProtocolException($"invalid {message} message: a string is not NUL-terminated");
        string text = Encoding.UTF8.GetString(_body.Slice(_position, nul));
        _position += nul + 1;
        return text;
    }

    /// <summary><paramref name="count"/> bytes (a slice of the body).</summary>
    public ReadOnlySpan<byte> ReadBytes(int count)
    {
        if (count < 0)
            throw new ProtocolException($"invalid {message} message: negative length {count}");
        return Take(count, $"{count} bytes");
    }

    /// <summary>The rest of the body.</summary>
    public ReadOnlySpan<byte> ReadRest() => Take(Remaining, "the rest");

    /// <summary>Fails when bytes are left over.</summary>
    public readonly void EnsureEnd()
    {
        if (Remaining != 0)
            throw new ProtocolException($"invalid {message} message: {Remaining} unexpected byte(s) at its end");
    }

    private ReadOnlySpan<byte> Take(int count, string what)
    {
        if (count > Remaining)
            throw new ProtocolException($"invalid {message} message: {what} expected at byte {_position}, but the body has {_body.Length} bytes");
        var span = _body.Slice(_position, count);
        _position += count;
        return span;
    }
}
