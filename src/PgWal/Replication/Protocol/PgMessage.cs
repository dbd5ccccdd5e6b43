// PgMessage / StartupPacket: the two framings of PostgreSQL's protocol 3.0. After startup every
// message is a type byte and a big-endian int32 length that counts itself, then the body; the
// first packets of a connection (StartupMessage, SSLRequest, GSSENCRequest, CancelRequest) have
// no type byte: an int32 length, an int32 code, then the body.
using System.Buffers;

namespace PgWal.Replication.Protocol;

/// <summary>One message: its type byte and its body (a slice of the input, not copied).</summary>
/// <param name="Type">The type byte ('Q', 'd', 'R' ...).</param>
/// <param name="Body">The body, after the length.</param>
public readonly record struct PgMessage(byte Type, ReadOnlySequence<byte> Body);

/// <summary>What the first packet of a connection asks for.</summary>
public enum StartupKind
{
    /// <summary>StartupMessage (protocol 3.0) with its parameters.</summary>
    Startup,
    /// <summary>SSLRequest: the client wants TLS first.</summary>
    SslRequest,
    /// <summary>GSSENCRequest: the client wants GSSAPI encryption first.</summary>
    GssEncRequest,
    /// <summary>CancelRequest: cancel the query of another connection.</summary>
    CancelRequest,
}

/// <summary>A decoded first packet.</summary>
/// <param name="Kind">What it is.</param>
/// <param name="Parameters">StartupMessage's name/value pairs (user, database, replication, application_name ...), in order.</param>
/// <param name="ProcessId">CancelRequest: the backend's process id.</param>
/// <param name="SecretKey">CancelRequest: the backend's secret key.</param>
public sealed record StartupPacket(StartupKind Kind, IReadOnlyList<KeyValuePair<string, string>> Parameters, int ProcessId = 0, int SecretKey = 0)
{
    /// <summary>A parameter's value, or null.</summary>
    public string? this[string name] => Parameters.FirstOrDefault(p => p.Key == name) is { Key: not null } p ? p.Value : null;
}
