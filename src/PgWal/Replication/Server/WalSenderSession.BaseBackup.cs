namespace PgWal.Replication.Server;

internal sealed partial class WalSenderSession
{
    private Task BaseBackupAsync(BaseBackupCommand command, CancellationToken cancellation)
        => throw new ReplicationError("0A000", "BASE_BACKUP is not available yet");
}
