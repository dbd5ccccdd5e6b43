// ResetWalCommand: `pgwal resetwal` (pg_resetwal 15): -n prints the current and the new values,
// otherwise the WAL is discarded and restarted after a fresh shutdown checkpoint. The command line
// is pg_resetwal's (getopt; -x/-o as strtoul, -l as 24 hex digits, checked in its order) and so are
// the failures: one "error:" line (plus pg_resetwal's hint where it prints one) and exit status 1,
// compared with the real tool by the interop tests; not the exit 2/3 of the other commands
// (docs/cli.md). pg_resetwal's -c -e -m -O -u --wal-segsize are recognised and refused.
using PgWal.Checkpoint;
using PgWal.Cli.Common;
using PgWal.Format;
using PgWal.Storage;

namespace PgWal.Cli.DataDir;

internal static class ResetWalCommand
{
    private const string ProgramName = "pgwal resetwal";
    private const char WalSegSize = '\u0001';

    private static readonly LongOption[] s_longOptions =
    [
        new("commit-timestamp-ids", ArgumentKind.Required, 'c'),
        new("pgdata", ArgumentKind.Required, 'D'),
        new("epoch", ArgumentKind.Required, 'e'),
        new("force", ArgumentKind.None, 'f'),
        new("next-wal-file", ArgumentKind.Required, 'l'),
        new("multixact-ids", ArgumentKind.Required, 'm'),
        new("dry-run", ArgumentKind.None, 'n'),
        new("next-oid", ArgumentKind.Required, 'o'),
        new("multixact-offset", ArgumentKind.Required, 'O'),
        new("oldest-transaction-id", ArgumentKind.Required, 'u'),
        new("next-transaction-id", ArgumentKind.Required, 'x'),
        new("wal-segsize", ArgumentKind.Required, WalSegSize),
    ];

    public static int Run(IReadOnlyList<string> args)
    {
        if (args.Count > 0 && args[0] is "--help" or "-?")
        {
            Console.Write(Usage);
            return 0;
        }
        if (args.Count > 0 && args[0] is "--version" or "-V")
        {
            Console.WriteLine($"{ProgramName} (PgWal) {ToolVersion.Short}; pg_resetwal 15's options -f -n -l -x -o");
            return 0;
        }
        var options = new List<ParsedOption>();
        var operands = new List<string>();
        if (!new GetOptLong(ProgramName, "c:D:e:fl:m:no:O:u:x:", s_longOptions).TryParse(args, options, operands, Console.Error))
            return Hint();
        string? dataDir = null, walFile = null;
        bool force = false, dryRun = false;
        uint? xid = null, oid = null;
        foreach (var (option, value) in options)
        {
            string arg = value ?? "";
            switch (option)
            {
                case 'D':
                    dataDir = arg;
                    break;
                case 'f':
                    force = true;
                    break;
                case 'n':
                    dryRun = true;
                    break;
                case 'x':
                    if (!CScan.TryStrtoulWhole(arg, out ulong x))
                        return InvalidArgument("-x");
                    xid = unchecked((uint)x);   // TransactionId
                    if (xid < 3)
                        return Fail("transaction ID (-x) must be greater than or equal to 3");
                    break;
                case 'o':
                    if (!CScan.TryStrtoulWhole(arg, out ulong o))
                        return InvalidArgument("-o");
                    oid = unchecked((uint)o);   // Oid
                    if (oid == 0)
                        return Fail("OID (-o) must not be 0");
                    break;
                case 'l':
                    if (HexPrefixLength(arg) != 24)   // strspn(optarg, "01234567890ABCDEFabcdef") != XLOG_FNAME_LEN
                        return InvalidArgument("-l");
                    walFile = arg;
                    break;
                default:
                    return Fail($"option {(option == WalSegSize ? "--wal-segsize" : "-" + option)} is not supported by {ProgramName} (PgWal supports -f -n -l -x -o)");
            }
        }
        int next = 0;
        if (dataDir == null && next < operands.Count)
            dataDir = operands[next++];
        if (next < operands.Count)
        {
            Console.Error.WriteLine($"{ProgramName}: error: too many command-line arguments (first is \"{operands[next]}\")");
            return Hint();
        }
        if (dataDir == null)
        {
            Console.Error.WriteLine($"{ProgramName}: error: no data directory specified");
            return Hint();
        }
        try
        {
            return Reset(dataDir, force, dryRun, walFile, xid, oid);
        }
        catch (Exception e)
        {
            return Fail(ErrorText.Of(e));   // pg_fatal: one line, exit 1
        }
    }

    private static int Reset(string path, bool force, bool dryRun, string? walFile, uint? xid, uint? oid)
    {
        // pg_resetwal's order: the directory's permissions (stat), chdir, the lock, pg_control.
        int errno = Posix.PathError(path);
        if (errno != 0)
            return Fail($"could not read permissions of directory \"{path}\": {Posix.Describe(errno)}");
        if (!Directory.Exists(path))
            return Fail($"could not change directory to \"{path}\": Not a directory");
        var storage = new FileSystemDataDirectory(path);
        using var directoryLock = storage.Lock();   // refuses a directory an instance has open
        var bytes = new byte[ControlFileData.FileSize];
        errno = Posix.PathError(Path.Combine(path, "global", "pg_control"));
        if (errno != 0)
        {
            Console.Error.WriteLine($"{ProgramName}: error: could not open file \"global/pg_control\" for reading: {Posix.Describe(errno)}");
            if (errno == Posix.ENOENT)
                Console.Error.WriteLine($"{ProgramName}: hint: If you are sure the data directory path is correct, execute\n  touch global/pg_control\nand try again.");
            return 1;
        }
        int n = storage.Control.Read(bytes);
        if (!ControlFileData.TryRead(bytes.AsSpan(0, Math.Max(n, 0)), out var control, out var error))
            return Fail($"pg_control exists but is broken or wrong version ({error}); refusing to guess the values");
        var geometry = new WalGeometry((int)control!.WalSegmentSize);
        var start = WalReset.DefaultStartSegment(storage, control);
        TimelineId? timeline = null;
        if (walFile != null)
        {
            // Checked as pg_resetwal does above (24 hex digits of either case); XLogFromFileName here.
            if (!SegmentFileName.TryParseLeading(walFile, geometry, out var tli, out var requested))
                return Fail($"invalid argument for option -l: \"{walFile}\" is not a WAL file name for {geometry.SegmentSize / 1048576} MB segments");
            if (requested.Value > start.Value)
                start = requested;
            if (tli.Value > control.CheckPointCopy.ThisTimeline.Value)
                timeline = tli;
        }
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

    private static int HexPrefixLength(string s)
    {
        int n = 0;
        while (n < s.Length && Uri.IsHexDigit(s[n]))
            n++;
        return n;
    }

    private static int Fail(string message)
    {
        Console.Error.WriteLine($"{ProgramName}: error: {message}");
        return 1;
    }

    private static int InvalidArgument(string option)
    {
        Console.Error.WriteLine($"{ProgramName}: error: invalid argument for option {option}");
        return Hint();
    }

    private static int Hint()
    {
        Console.Error.WriteLine($"{ProgramName}: hint: Try \"{ProgramName} --help\" for more information.");
        return 1;
    }

    private const string Usage = """
        pgwal resetwal resets the write-ahead log of a PgWal data directory, as pg_resetwal does.

        Usage:
          pgwal resetwal [OPTION]... DATADIR

        Options:
         [-D, --pgdata=]DATADIR            data directory
          -f, --force                      force update to be done
          -l, --next-wal-file=WALFILE      set minimum starting location for new WAL
          -n, --dry-run                    no update, just show what would be done
          -o, --next-oid=OID               set next OID
          -V, --version                    output version information, then exit
          -x, --next-transaction-id=XID    set next transaction ID
          -?, --help                       show this help, then exit

        pg_resetwal's -c, -e, -m, -O, -u and --wal-segsize are not supported.

        """;

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
