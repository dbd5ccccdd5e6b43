// StandbyOptions: PostgreSQL 15's standby settings (standby.signal): primary_conninfo,
// primary_slot_name, restore_command and recovery_target_timeline, plus the intervals of the
// walreceiver and of restartpoints. Given in WalInstanceOptions.Standby, or read from the data
// directory's postgresql.conf / postgresql.auto.conf (FromConfiguration), as PostgreSQL does.
using PgWal.Archive;
using PgWal.Recovery;
using PgWal.Replication.Client;

namespace PgWal.Standby;

/// <summary>How a standby (a data directory with standby.signal) follows its primary.</summary>
public sealed record StandbyOptions
{
    /// <summary>
    /// <c>primary_conninfo</c>: libpq keyword/value string or URI of the primary (its walsender).
    /// application_name defaults to "walreceiver", as PostgreSQL's; it is what the primary's
    /// synchronous_standby_names matches. Null: WAL only from the archive (restore_command).
    /// </summary>
    public string? PrimaryConnInfo { get; init; }

    /// <summary><c>primary_slot_name</c>: the replication slot on the primary that keeps this standby's WAL; null: none.</summary>
    public string? PrimarySlotName { get; init; }

    /// <summary>Archived WAL in-process (<see cref="RepositoryRestorer"/>); takes precedence over <see cref="RestoreCommand"/>.</summary>
    public IWalRestorer? Restorer { get; init; }

    /// <summary><c>restore_command</c>: where WAL comes from when streaming cannot deliver it; null: streaming only.</summary>
    public string? RestoreCommand { get; init; }

    /// <summary><c>recovery_target_timeline</c>; default latest (a standby follows its primary's promotions).</summary>
    public RecoveryTimeline TargetTimeline { get; init; } = RecoveryTimeline.Latest;

    /// <summary>wal_receiver_status_interval: status updates to the primary at least this often. Default 10 s.</summary>
    public TimeSpan StatusInterval { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>wal_retrieve_retry_interval: wait before connecting again or asking the archive again. Default 5 s.</summary>
    public TimeSpan RetryInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Restartpoints (a standby's checkpoints: replayed pages written, pg_control moved to the last
    /// replayed checkpoint so a restart replays little, old WAL removed) at most this often; null:
    /// the instance's checkpoint_timeout.
    /// </summary>
    public TimeSpan? RestartpointInterval { get; init; }

    /// <summary>
    /// How long opening waits for a consistent state (hot-standby reads are refused before it);
    /// null waits as long as it takes, as PostgreSQL does.
    /// </summary>
    public TimeSpan? ConsistencyTimeout { get; init; }

    internal ConnectionSettings? Connection()
    {
        if (string.IsNullOrWhiteSpace(PrimaryConnInfo))
            return null;
        try
        {
            return ConnectionSettings.Parse(PrimaryConnInfo, "walreceiver");
        }
        catch (ConnectionSettingsException e)
        {
            throw new RecoveryException($"invalid value for parameter \"primary_conninfo\": {e.Message}");
        }
    }

    internal IWalRestorer? RestorerFor(string dataDirectory)
        => Restorer ?? (string.IsNullOrEmpty(RestoreCommand) ? null : new ShellRestoreCommand(RestoreCommand, dataDirectory));

    /// <summary>The standby settings of <paramref name="dataDirectory"/>'s postgresql.conf and postgresql.auto.conf (the latter wins).</summary>
    /// <exception cref="RecoveryException">A value is invalid (the message names the setting, the file and the value).</exception>
    public static StandbyOptions FromConfiguration(string dataDirectory)
    {
        var settings = RecoveryConfigFile.ReadSettings(dataDirectory);
        var recovery = RecoveryConfigFile.FromSettings(name => settings.TryGetValue(name, out var v) ? v : null);
        string? Text(string name) => settings.TryGetValue(name, out var v) && v.Value.Length > 0 ? v.Value : null;
        var options = new StandbyOptions
        {
            PrimaryConnInfo = Text("primary_conninfo"), PrimarySlotName = Text("primary_slot_name"),
            RestoreCommand = recovery.RestoreCommand, TargetTimeline = recovery.TargetTimeline,
        };
        if (options.PrimaryConnInfo != null)
        {
            try
            {
                ConnectionSettings.Parse(options.PrimaryConnInfo, "walreceiver");
            }
            catch (ConnectionSettingsException e)
            {
                var (value, file) = settings["primary_conninfo"];
                throw new RecoveryException($"invalid value for parameter \"primary_conninfo\": \"{value}\" in \"{file}\": {e.Message}");
            }
        }
        return options;
    }
}
