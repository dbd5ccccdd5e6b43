// WalSenderInfo: one row of pg_stat_replication, as WalSenderServer.Snapshot reports it.
using System.Net;

namespace PgWal.Replication.Server;

/// <summary>A walsender, as PostgreSQL's pg_stat_replication shows it.</summary>
/// <param name="Pid">Its process id (BackendKeyData's; also in temporary slot names).</param>
/// <param name="User">The authenticated user.</param>
/// <param name="ApplicationName">application_name from the startup packet.</param>
/// <param name="ClientAddress">The client's address.</param>
/// <param name="ClientPort">The client's port.</param>
/// <param name="BackendStart">When it connected.</param>
/// <param name="State">startup, catchup, streaming, backup, stopping; idle between commands.</param>
/// <param name="SentLsn">Sent up to (Invalid: nothing yet).</param>
/// <param name="WriteLsn">The client reported writing up to (Invalid: not reported).</param>
/// <param name="FlushLsn">The client reported flushing up to.</param>
/// <param name="ReplayLsn">The client reported applying up to.</param>
/// <param name="WriteLag">From the local flush of WAL to the client reporting it written (null: unknown).</param>
/// <param name="FlushLag">... reporting it flushed.</param>
/// <param name="ReplayLag">... reporting it applied.</param>
/// <param name="ReplyTime">The client's clock in its last status update.</param>
/// <param name="Slot">The slot it streams with, if any.</param>
public sealed record WalSenderInfo(int Pid, string User, string ApplicationName, IPAddress ClientAddress, int ClientPort, DateTimeOffset BackendStart,
    string State, Lsn SentLsn, Lsn WriteLsn, Lsn FlushLsn, Lsn ReplayLsn, TimeSpan? WriteLag, TimeSpan? FlushLag, TimeSpan? ReplayLag,
    DateTimeOffset? ReplyTime, string? Slot)
{
    /// <summary>
    /// sync_priority: its position in synchronous_standby_names (1 for every match with ANY); 0 when
    /// it matches no entry or has reported no flush position.
    /// </summary>
    public int SyncPriority { get; init; }

    /// <summary>
    /// sync_state: "async" (priority 0), "sync" (a synchronous standby now, FIRST), "quorum" (a
    /// candidate with ANY), or "potential" (matches, but is not chosen now).
    /// </summary>
    public string SyncState { get; init; } = "async";
}
