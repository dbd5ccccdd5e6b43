// PgMessageWriter: builds protocol 3.0 messages into an IBufferWriter (a PipeWriter): the type
// byte, a length filled in when the message is complete, then the fields. One writer serves both
// the server's messages (authentication, results, COPY, errors) and the client's (startup, query,
// password, COPY).
using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace PgWal.Replication.Protocol;

/// <summary>Writes messages to an <see cref="IBufferWriter{T}"/>.</summary>
public sealed class PgMessageWriter(IBufferWriter<byte> output)
{
    private readonly ArrayBufferWriter<byte> _message = new(256);

    /// <summary>Starts a message of <paramref name="type"/> (0: a startup packet, which has no type byte).</summary>
    public PgMessageWriter Begin(byte type)
    {
        _message.ResetWrittenCount();
        _type = type;
        return this;
    }

    private byte _type;

    /// <summary>A big-endian int16.</summary>
    public PgMessageWriter Int16(short value)
    {
        BinaryPrimitives.WriteInt16BigEndian(_message.GetSpan(2), value);
        _message.Advance(2);
        return this;
    }

    /// <summary>A big-endian int32.</summary>
    public PgMessageWriter Int32(int value)
    {
        BinaryPrimitives.WriteInt32BigEndian(_message.GetSpan(4), value);
        _message.Advance(4);
        return this;
    }

    /// <summary>A big-endian int64.</summary>
    public PgMessageWriter Int64(long value)
    {
        BinaryPrimitives.WriteInt64BigEndian(_message.GetSpan(8), value);
        _message.Advance(8);
        return this;
    }

    /// <summary>One byte.</summary>
    public PgMessageWriter Byte(byte value)
    {
        _message.GetSpan(1)[0] = value;
        _message.Advance(1);
        return this;
    }

    /// <summary>Raw bytes.</summary>
    public PgMessageWriter Bytes(ReadOnlySpan<byte> value)
    {
        _message.Write(value);
        return this;
    }

    /// <summary>A NUL-terminated UTF-8 string (which must not contain NUL).</summary>
    public PgMessageWriter CString(string value)
    {
        if (value.Contains('\0'))
            throw new ArgumentException("a protocol string cannot contain NUL", nameof(value));
        _message.Write(Encoding.UTF8.GetBytes(value));
        return Byte(0);
    }

    /// <summary>Completes the message: writes the type byte (unless a startup packet), the length and the fields.</summary>
    public void End()
    {
        int header = _type == 0 ? 4 : 5;
        var span = output.GetSpan(header + _message.WrittenCount);
        int at = 0;
        if (_type != 0)
            span[at++] = _type;
        BinaryPrimitives.WriteInt32BigEndian(span[at..], _message.WrittenCount + 4);
        _message.WrittenSpan.CopyTo(span[(at + 4)..]);
        output.Advance(header + _message.WrittenCount);
    }

    // ---- the server's messages ----

    /// <summary>AuthenticationOk.</summary>
    public void AuthenticationOk() => Begin((byte)'R').Int32(0).End();

    /// <summary>AuthenticationSASL with the mechanisms offered.</summary>
    public void AuthenticationSasl(params string[] mechanisms)
    {
        Begin((byte)'R').Int32(10);
        foreach (var m in mechanisms)
            CString(m);
        Byte(0).End();
    }

    /// <summary>AuthenticationSASLContinue.</summary>
    public void AuthenticationSaslContinue(ReadOnlySpan<byte> data) => Begin((byte)'R').Int32(11).Bytes(data).End();

    /// <summary>AuthenticationSASLFinal.</summary>
    public void AuthenticationSaslFinal(ReadOnlySpan<byte> data) => Begin((byte)'R').Int32(12).Bytes(data).End();

    /// <summary>ParameterStatus.</summary>
    public void ParameterStatus(string name, string value) => Begin((byte)'S').CString(name).CString(value).End();

    /// <summary>BackendKeyData.</summary>
    public void BackendKeyData(int processId, int secretKey) => Begin((byte)'K').Int32(processId).Int32(secretKey).End();

    /// <summary>ReadyForQuery ('I' idle).</summary>
    public void ReadyForQuery(byte status = (byte)'I') => Begin((byte)'Z').Byte(status).End();

    /// <summary>RowDescription: text columns, table OID 0, attnum 0, as a walsender sends them.</summary>
    public void RowDescription(params (string Name, int TypeOid, short TypeLength, int TypeModifier)[] columns)
    {
        Begin((byte)'T').Int16((short)columns.Length);
        foreach (var c in columns)
            CString(c.Name).Int32(0).Int16(0).Int32(c.TypeOid).Int16(c.TypeLength).Int32(c.TypeModifier).Int16(0);
        End();
    }

    /// <summary>DataRow of text values (null: SQL NULL).</summary>
    public void DataRow(params string?[] values)
    {
        Begin((byte)'D').Int16((short)values.Length);
        foreach (var v in values)
        {
            if (v == null)
            {
                Int32(-1);
                continue;
            }
            var bytes = Encoding.UTF8.GetBytes(v);
            Int32(bytes.Length).Bytes(bytes);
        }
        End();
    }

    /// <summary>CommandComplete.</summary>
    public void CommandComplete(string tag) => Begin((byte)'C').CString(tag).End();

    /// <summary>ErrorResponse (or, with severity NOTICE/WARNING and <paramref name="notice"/>, NoticeResponse).</summary>
    public void ErrorResponse(string severity, string sqlState, string message, string? detail = null, bool notice = false)
    {
        Begin(notice ? (byte)'N' : (byte)'E').Byte((byte)'S').CString(severity).Byte((byte)'V').CString(severity)
            .Byte((byte)'C').CString(sqlState).Byte((byte)'M').CString(message);
        if (detail != null)
            Byte((byte)'D').CString(detail);
        Byte(0).End();
    }

    /// <summary>CopyBothResponse (binary, no columns), which starts streaming.</summary>
    public void CopyBothResponse() => Begin((byte)'W').Byte(0).Int16(0).End();

    /// <summary>CopyOutResponse (binary, no columns).</summary>
    public void CopyOutResponse() => Begin((byte)'H').Byte(0).Int16(0).End();

    /// <summary>CopyData.</summary>
    public void CopyData(ReadOnlySpan<byte> data) => Begin((byte)'d').Bytes(data).End();

    /// <summary>CopyDone.</summary>
    public void CopyDone() => Begin((byte)'c').End();

    // ---- the client's messages ----

    /// <summary>StartupMessage (protocol 3.0) with its parameters.</summary>
    public void Startup(params KeyValuePair<string, string>[] parameters)
    {
        Begin(0).Int32(PgMessageReader.ProtocolVersion3);
        foreach (var p in parameters)
            CString(p.Key).CString(p.Value);
        Byte(0).End();
    }

    /// <summary>SSLRequest.</summary>
    public void SslRequest() => Begin(0).Int32(PgMessageReader.SslRequestCode).End();

    /// <summary>CancelRequest.</summary>
    public void CancelRequest(int processId, int secretKey) => Begin(0).Int32(PgMessageReader.CancelRequestCode).Int32(processId).Int32(secretKey).End();

    /// <summary>Query (simple query protocol).</summary>
    public void Query(string sql) => Begin((byte)'Q').CString(sql).End();

    /// <summary>SASLInitialResponse.</summary>
    public void SaslInitialResponse(string mechanism, ReadOnlySpan<byte> data) => Begin((byte)'p').CString(mechanism).Int32(data.Length).Bytes(data).End();

    /// <summary>SASLResponse.</summary>
    public void SaslResponse(ReadOnlySpan<byte> data) => Begin((byte)'p').Bytes(data).End();

    /// <summary>Terminate.</summary>
    public void Terminate() => Begin((byte)'X').End();
}
