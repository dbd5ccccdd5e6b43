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
        var bytes = new byte[ControlFileData.FileSize];
        int n = storage.Control.Read(bytes);
        if (n < 0)
            throw new IOException($"could not open file \"global/pg_control\" for reading: No such file or directory");
        if (!ControlFileData.TryRead(bytes.AsSpan(0, n), out var control, out var error))
            throw new InvalidDataException($"pg_control exists but is broken or wrong version ({error}); refusing to guess the values");
        var geometry = new WalGeometry((int)control!.WalSegmentSize);
        var start = WalReset.DefaultStartSegment(storage, control);
        if (walFile != null)
        {
            if (!SegmentFileName.TryParse(walFile, geometry, out _, out var requested))
                throw new ArgumentException($"invalid argument for option -l: \"{walFile}\" is not a WAL file name");
            if (requested.Value > start.Value)
                start = requested;
        }
        if (xid is < 3)
            throw new ArgumentException("transaction ID (-x) must be greater than or equal to 3");
        if (oid == 0)
            throw new ArgumentException("OID (-o) must not be 0");
        ulong? nextXid = xid is { } x ? (control.CheckPointCopy.NextXid & 0xFFFF_FFFF_0000_0000UL) | x : null;
        var planned = WalReset.Plan(control, start, nextXid, oid);
        if (dryRun)
        {
            Console.WriteLine("Current pg_control values:\n");
            PrintValues(control, geometry);
            Console.WriteLine("\n\nValues to be changed:\n");
            Console.WriteLine($"First log segment after reset:        {SegmentFileName.Format(control.CheckPointCopy.ThisTimeline, start, geometry)}");
            if (nextXid != null)
                Console.WriteLine($"NextXID:                              {(uint)planned.CheckPointCopy.NextXid}");
            if (oid != null)
                Console.WriteLine($"NextOID:                              {planned.CheckPointCopy.NextOid}");
            return 0;
        }
        if (control.State != DatabaseState.ShutDown && !force)
        {
            Console.Error.WriteLine("The database server was not shut down cleanly.\nResetting the write-ahead log might cause data to be lost.\nIf you want to proceed anyway, use -f to force reset.");
            return 1;
        }
        WalReset.Apply(storage, planned);
        Console.WriteLine("Write-ahead log reset");
        return 0;
    }

    private static void PrintValues(ControlFileData c, WalGeometry geometry)
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
        Console.WriteLine($"Bytes per WAL segment:                {geometry.SegmentSize}");
        Console.WriteLine($"Data page checksum version:           {c.DataChecksumVersion}");
    }
}
