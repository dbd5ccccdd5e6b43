// RecoveryPreScan: reads the WAL crash recovery is about to replay, on another thread and ahead of
// it (decoding is several times faster than redo), to learn where the WAL ends and what that end is
// (WalEndInspector) before anything on disk changes. Until its verdict is in, replay writes no page
// (the buffer pool's WAL-flush hook waits for it) and the control file is not touched, so damage
// that stops recovery leaves every file as it was.
using PgWal.Format;
using PgWal.Read;

namespace PgWal.Recovery;

internal sealed class RecoveryPreScan
{
    /// <summary>Where the WAL stopped being readable, the end of the last valid record, and what the stop is.</summary>
    public sealed record Verdict(WalReadError Stop, Lsn LastRecord, Lsn ValidUpTo, Lsn AbortedRecord, Lsn MissingContinuation, WalEndInspector.Finding Finding);

    private readonly Task<Verdict> _task;
    private readonly Lsn _checkpointLocation;
    private readonly WalRecoveryMode _mode;

    public RecoveryPreScan(Func<WalReader> newReader, Lsn redo, Lsn checkpointLocation, WalEndInspector inspector, WalRecoveryMode mode)
    {
        _checkpointLocation = checkpointLocation;
        _mode = mode;
        _task = Task.Factory.StartNew(() => Scan(newReader, redo, inspector, mode == WalRecoveryMode.PointInTime),
            CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }

    public bool IsCompleted => _task.IsCompleted;

    private static Verdict Scan(Func<WalReader> newReader, Lsn redo, WalEndInspector inspector, bool scanDataPages)
    {
        using var reader = newReader();
        reader.BeginRead(redo);
        Lsn last = Lsn.Invalid;
        ReadOutcome outcome;
        while ((outcome = reader.ReadRecord()).IsRecord)
            last = outcome.Record!.Lsn;
        var stop = outcome.Error!;
        Lsn validUpTo = reader.EndRecPtr;
        var finding = inspector.Inspect(stop, reader.MissingContinuationLsn, validUpTo, scanDataPages);
        return new Verdict(stop, last, validUpTo, reader.AbortedRecordLsn, reader.MissingContinuationLsn, finding);
    }

    /// <summary>
    /// Waits for the verdict and enforces it: damage that the mode does not accept throws (nothing
    /// has been changed yet); otherwise the verdict is returned.
    /// </summary>
    /// <exception cref="WalDamagedException">Damage, with <see cref="WalRecoveryMode.TolerateTornTail"/>.</exception>
    /// <exception cref="RecoveryException">The WAL ends before the checkpoint record recovery starts from.</exception>
    public Verdict Enforce()
    {
        var verdict = _task.GetAwaiter().GetResult();
        if (verdict.ValidUpTo <= _checkpointLocation)
        {
            string what = verdict.Finding.Damage?.Describe() ?? verdict.Stop.ToString();
            throw new RecoveryException($"WAL ends before the checkpoint record at {_checkpointLocation} (which was durable before the control file named it): {what}");
        }
        if (verdict.Finding.Damage is { Certain: true } damage && _mode == WalRecoveryMode.TolerateTornTail)
            throw new WalDamagedException(damage);
        return verdict;
    }
}
