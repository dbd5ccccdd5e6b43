// ReplicationError: what a walsender command reports to its client as an ErrorResponse, with
// PostgreSQL's SQLSTATE and wording. An ERROR ends the command (the session goes on, its temporary
// slots are dropped); a FATAL ends the connection.
namespace PgWal.Replication.Server;

/// <summary>An error reported to a replication client.</summary>
public sealed class ReplicationError(string sqlState, string message, string? detail = null, bool fatal = false) : Exception(message)
{
    /// <summary>The SQLSTATE (42704 undefined_object, 55006 object_in_use ...).</summary>
    public string SqlState { get; } = sqlState;

    /// <summary>The DETAIL line, if any.</summary>
    public string? Detail { get; } = detail;

    /// <summary>FATAL: the connection is closed after the report.</summary>
    public bool Fatal { get; } = fatal;

    /// <summary>syntax_error (42601), as the replication grammar reports.</summary>
    public static ReplicationError Syntax(string message = "syntax error") => new("42601", message);
}
