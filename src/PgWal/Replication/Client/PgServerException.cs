// PgServerException: an ErrorResponse from the server (or a FATAL during startup), with its
// fields as PostgreSQL sends them (severity, SQLSTATE, message, detail, hint). The text reads
// as libpq prints it ("FATAL:  password authentication failed for user ..."), so tools can show
// it unchanged; callers decide by SqlState (42710 duplicate slot, 57014 cancelled, ...).
using System.Text;
using PgWal.Replication.Protocol;

namespace PgWal.Replication.Client;

/// <summary>An error reported by the server.</summary>
public sealed class PgServerException : Exception
{
    /// <summary>Builds one from its fields.</summary>
    public PgServerException(string severity, string sqlState, string messageText, string? detail = null, string? hint = null)
        : base(Format(severity, messageText, detail, hint))
    {
        Severity = severity;
        SqlState = sqlState;
        MessageText = messageText;
        Detail = detail;
        Hint = hint;
    }

    /// <summary>ERROR, FATAL or PANIC (the untranslated 'V' field when sent).</summary>
    public string Severity { get; }

    /// <summary>The five-character SQLSTATE ('C').</summary>
    public string SqlState { get; }

    /// <summary>The primary message ('M').</summary>
    public string MessageText { get; }

    /// <summary>The detail ('D'), if any.</summary>
    public string? Detail { get; }

    /// <summary>The hint ('H'), if any.</summary>
    public string? Hint { get; }

    /// <summary>Decodes an ErrorResponse (or NoticeResponse) body: fields of a type byte and a string, ended by a 0 byte.</summary>
    /// <exception cref="ProtocolException">A field is not NUL-terminated, or the terminator is missing.</exception>
    public static PgServerException Decode(ReadOnlySpan<byte> body)
    {
        var reader = new PgBodyReader(body, "ErrorResponse");
        string severity = "ERROR", sqlState = "XX000", message = "", localizedSeverity = "";
        string? detail = null, hint = null;
        while (true)
        {
            byte field = reader.ReadByte();
            if (field == 0)
                break;
            string value = reader.ReadCString();
            switch (field)
            {
                case (byte)'S': localizedSeverity = value; break;
                case (byte)'V': severity = value; break;
                case (byte)'C': sqlState = value; break;
                case (byte)'M': message = value; break;
                case (byte)'D': detail = value; break;
                case (byte)'H': hint = value; break;
            }
        }
        reader.EnsureEnd();
        if (severity == "ERROR" && localizedSeverity.Length > 0)
            severity = localizedSeverity;
        return new PgServerException(severity, sqlState, message, detail, hint);
    }

    private static string Format(string severity, string message, string? detail, string? hint)
    {
        var text = new StringBuilder().Append(severity).Append(":  ").Append(message);
        if (detail != null)
            text.Append("\nDETAIL:  ").Append(detail);
        if (hint != null)
            text.Append("\nHINT:  ").Append(hint);
        return text.ToString();
    }
}
