// DecodeOnly: `pgwal recover --decode-only` — reads and decodes exactly the WAL crash recovery
// would replay (from the control file's redo point to the end of valid WAL) without applying it,
// to measure the reader's share of recovery time.
using System.Diagnostics;
using PgWal.Checkpoint;
using PgWal.Format;
using PgWal.Read;
using PgWal.Recovery;
using PgWal.Storage;

namespace PgWal.Cli.DataDir;

internal static class DecodeOnly
{
    public static int Run(string path, bool json)
    {
        var storage = new FileSystemDataDirectory(path);
        var control = ControlFileManager.Read(storage.Control, path);
        var geometry = new WalGeometry((int)control.WalSegmentSize);
        var options = new WalReaderOptions
        {
            SegmentSize = geometry.SegmentSize, Timeline = control.CheckPointCopy.ThisTimeline, SystemIdentifier = control.SystemIdentifier,
        };
        using var reader = new WalReader(new SegmentDirectorySource(Path.Combine(path, "pg_wal"), geometry.SegmentSize), options);
        var clock = Stopwatch.StartNew();
        reader.BeginRead(control.CheckPointCopy.Redo);
        long records = 0;
        Lsn end = control.CheckPointCopy.Redo;
        ReadOutcome outcome;
        while ((outcome = reader.ReadRecord()).IsRecord)
        {
            records++;
            end = reader.EndRecPtr;
        }
        clock.Stop();
        var result = new RecoveryResult
        {
            CrashRecovery = true, Checkpoint = control.CheckPointLocation, RedoStart = control.CheckPointCopy.Redo, EndOfWal = end,
            Records = records, Elapsed = clock.Elapsed, EndReason = outcome.Error?.Message,
        };
        if (json)
            DataDirCommands.Print(result, json: true);
        else
            Console.WriteLine($"decoded {records:N0} records, {result.Bytes / 1048576.0:F1} MB in {clock.Elapsed.TotalSeconds:F2} s ({result.MegabytesPerSecond:F0} MB/s); end: {outcome.Error?.Message}");
        return 0;
    }
}
