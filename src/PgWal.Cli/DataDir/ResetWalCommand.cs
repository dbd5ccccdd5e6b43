// ResetWalCommand: `pgwal resetwal` (pg_resetwal): -n prints the current and the new values,
// otherwise the WAL is discarded and restarted after a fresh shutdown checkpoint.
using PgWal.Checkpoint;
using PgWal.Format;
using PgWal.Storage;

namespace PgWal.Cli.DataDir;

internal static class ResetWalCommand
{
    public static int Run(string path, bool force, bool dryRun, string? walFile, uint? xid, uint? oid)
    {
        var storage = new FileSystemDataDirectory(path);
        using var directoryLock = storage.Lock();   // refuses a directory an instance has open
        var bytes = new byte[ControlFileData.FileSize];
        int n = storage.Control.Read(bytes);
        if (n < 0)
            throw new IOException($"could not open file \"global/pg_control\" for reading: No such file or directory");
        if (!ControlFileData.TryRead(bytes.AsSpan(0, n), out var control, out var error))
            throw new InvalidDataException($"pg_control exists but is broken or wrong version ({error}); refusing to guess the values");
        var geometry = new WalGeometry((int)control!.WalSegmentSize);
        var start = WalReset.DefaultStartSegment(storage, control);
        TimelineId? timeline = null;
        if (walFile != null)
        {
            // pg_resetwal: 24 hex digits of either case, then XLogFromFileName.
            if (walFile.Length != SegmentFileName.Length || !SegmentFileName.TryParseLeading(walFile, geometry, out var tli, out var requested))
                throw new ArgumentException($"invalid argument for option -l: \"{walFile}\" is not a WAL file name");
            if (requested.Value > start.Value)
                start = requested;
            if (tli.Value > control.CheckPointCopy.ThisTimeline.Value)
                timeline = tli;
        }
        if (xid is < 3)
            throw new ArgumentException("transaction ID (-x) must be greater than or equal to 3");
        if (oid == 0)
            throw new ArgumentException("OID (-o) must not be 0");
        ulong? nextXid = xid is { } x ? (control.CheckPointCopy.NextXid & 0xFFFF_FFFF_0000_0000UL) | x : null;
        var planned = WalReset.Plan(control, start, nextXid, oid, timeline);
        if (dryRun)
        {
            // pg_resetwal -n: the current values, then what would change (its order and its text).
            Console.WriteLine("Current pg_control values:\n");
            PrintValues(control);
            Console.WriteLine("\n\nValues to be changed:\n");
            Console.WriteLine($"First log segment after reset:        {SegmentFileName.Format(planned.CheckPointCopy.ThisTimeline, start, geometry)}");
            if (oid != null)
                Console.WriteLine($"NextOID:                              {planned.CheckPointCopy.NextOid}");
            if (nextXid != null)
                Console.WriteLine($"NextXID:                              {(uint)planned.CheckPointCopy.NextXid}");
            return 0;
        }
        if (control.State != DatabaseState.ShutDown && !force)
        {
            // On standard output with exit status 1, as pg_resetwal does.
            Console.WriteLine("The database server was not shut down cleanly.\nResetting the write-ahead log might cause data to be lost.\nIf you want to proceed anyway, use -f to force reset.");
            return 1;
        }
        WalReset.Apply(storage, planned);
        Console.WriteLine("Write-ahead log reset");
        return 0;
    }

    // PrintControlValues of pg_resetwal 15, line for line.
    private static void PrintValues(ControlFileData c)
    {
        var cp = c.CheckPointCopy;
        Console.WriteLine($"pg_control version number:            {c.ControlVersion}");
        Console.WriteLine($"Catalog version number:               {c.CatalogVersionNo}");
        Console.WriteLine($"Database system identifier:           {c.SystemIdentifier}");
        Console.WriteLine($"Latest checkpoint's TimeLineID:       {cp.ThisTimeline.Value}");
        Console.WriteLine($"Latest checkpoint's full_page_writes: {(cp.FullPageWrites ? "on" : "off")}");
        Console.WriteLine($"Latest checkpoint's NextXID:          {cp.NextXid >> 32}:{(uint)cp.NextXid}");
        Console.WriteLine($"Latest checkpoint's NextOID:          {cp.NextOid}");
        Console.WriteLine($"Latest checkpoint's NextMultiXactId:  {cp.NextMulti}");
        Console.WriteLine($"Latest checkpoint's NextMultiOffset:  {cp.NextMultiOffset}");
        Console.WriteLine($"Latest checkpoint's oldestXID:        {cp.OldestXid}");
        Console.WriteLine($"Latest checkpoint's oldestXID's DB:   {cp.OldestXidDb}");
        Console.WriteLine($"Latest checkpoint's oldestActiveXID:  {cp.OldestActiveXid}");
        Console.WriteLine($"Latest checkpoint's oldestMultiXid:   {cp.OldestMulti}");
        Console.WriteLine($"Latest checkpoint's oldestMulti's DB: {cp.OldestMultiDb}");
        Console.WriteLine($"Latest checkpoint's oldestCommitTsXid:{cp.OldestCommitTsXid}");
        Console.WriteLine($"Latest checkpoint's newestCommitTsXid:{cp.NewestCommitTsXid}");
        Console.WriteLine($"Maximum data alignment:               {c.MaxAlign}");
        Console.WriteLine($"Database block size:                  {c.BlockSize}");
        Console.WriteLine($"Blocks per segment of large relation: {c.RelSegSize}");
        Console.WriteLine($"WAL block size:                       {c.WalBlockSize}");
        Console.WriteLine($"Bytes per WAL segment:                {c.WalSegmentSize}");
        Console.WriteLine($"Maximum length of identifiers:        {c.NameDataLen}");
        Console.WriteLine($"Maximum columns in an index:          {c.IndexMaxKeys}");
        Console.WriteLine($"Maximum size of a TOAST chunk:        {c.ToastMaxChunkSize}");
        Console.WriteLine($"Size of a large-object chunk:         {c.LargeObjectBlockSize}");
        Console.WriteLine("Date/time type storage:               64-bit integers");
        Console.WriteLine($"Float8 argument passing:              {(c.Float8ByVal ? "by value" : "by reference")}");
        Console.WriteLine($"Data page checksum version:           {c.DataChecksumVersion}");
    }
}
