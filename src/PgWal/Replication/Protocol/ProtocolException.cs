// ProtocolException: a peer broke the frontend/backend protocol (a bad length, a missing NUL, an
// unknown packet code). The connection is closed with this message; nothing else is affected.
namespace PgWal.Replication.Protocol;

/// <summary>A protocol violation by the peer; the message says what was wrong and where.</summary>
public sealed class ProtocolException(string message, string sqlState = "08P01") : IOException(message)
{
    /// <summary>The SQLSTATE to report (08P01 protocol_violation unless said otherwise).</summary>
    public string SqlState { get; } = sqlState;
}
