// WalDumpCommand: `pgwal waldump`, pg_waldump 15's behaviour on PgWal's reader: find the first
// record, then print each record (or accumulate statistics) through the filters, and end the way
// pg_waldump ends: silently at --end, with "error in WAL record at X: <reason>" at the end of
// valid WAL, or with the page source's fatal message when a segment is missing or short.
using PgWal.Cli.Common;
using PgWal.Diagnostics.Dump;
using PgWal.Format;
using PgWal.Read;
using PgWal.Rmgr;
using PgWal.Storage;

namespace PgWal.Cli.WalDump;

internal static class WalDumpCommand
{
    public const string ProgramName = "pgwal waldump";

    public static int Run(IReadOnlyList<string> args, Stream stdout, TextWriter stderr, CancellationToken cancel = default)
    {
        var output = new ToolOutput(ProgramName, stdout, stderr);
        if (args.Count > 0 && (args[0] == "--help" || args[0] == "-?"))
        {
            output.Text.Append(Usage);
            output.Flush();
            return 0;
        }
        if (args.Count > 0 && (args[0] == "--version" || args[0] == "-V"))
        {
            output.Text.Append($"{ProgramName} (PgWal) {ToolVersion.Short}; reads PostgreSQL 15, 16, 17 and 18 WAL\n");
            output.Flush();
            return 0;
        }
        var describers = new RecordDescribers();   // PgWal's own resource managers, described by name
        describers.Register(PageTest.PageTestResourceManager.RmgrId, PageTest.PageTestResourceManager.Instance);
        describers.Register(PgWal.Kv.KvResourceManager.RmgrId, PgWal.Kv.KvResourceManager.Instance);
        var o = WalDumpArguments.Parse(args, describers, output, out int exitCode);
        if (o is null)
        {
            output.Flush();
            return exitCode;
        }
        try
        {
            try
            {
                return Dump(o, describers, output, cancel);
            }
            finally
            {
                output.Flush();
            }
        }
        catch (IOException) when (output.StdoutBroken)
        {
            // The reader of our output went away (e.g. `| head`): stop quietly, as pg_waldump does
            // when SIGPIPE ends it (a shell reports 128 + 13).
            return 141;
        }
    }

    private static int Dump(WalDumpOptions o, RecordDescribers describers, ToolOutput output, CancellationToken cancel)
    {
        var readerOptions = new WalReaderOptions
        {
            SegmentSize = o.SegmentSize,
            Timeline = o.Timeline,
            StopAt = o.End,
            ClassifyEndOfWal = false,
            // 64 kB reads stay in the CPU's caches between the kernel's copy and the decoder
            // (about 5% faster than 1 MB on 70 MB of WAL; docs/benchmarks.md).
            ReadAheadBytes = 64 * 1024,
        };
        using var reader = new WalReader(new SegmentDirectorySource(o.WalDirectory!, o.SegmentSize), readerOptions);
        var formatter = new RecordLineFormatter(describers);
        var stats = new WalStatistics();
        var geometry = new WalGeometry(o.SegmentSize);

        Lsn first = reader.FindNextRecord(o.Start, out var findError);
        if (!first.IsValid)
        {
            output.ErrorLine(IsSourceFailure(findError)
                ? findError.Message
                : $"could not find a valid record after {o.Start}");
            // pg_waldump says no more; a page of no known version (not a zeroed one) deserves its
            // name and magic.
            if (findError is { Kind: CorruptionKind.BadPageMagic, PageMagic: not 0 } bad && PageHeader.VersionOf(bad.PageMagic) == WalVersion.Unknown)
                output.Hint($"{bad.Message}; {KnownMagics}");
            return 1;
        }
        if (first != o.Start && geometry.OffsetInSegment(o.Start) != 0)
        {
            ulong skipped = first - o.Start;
            string skip = $"first record is after {o.Start}, at {first}, skipping over {(uint)skipped} byte{(skipped == 1 ? "" : "s")}";
            if (reader.Version >= WalVersion.Pg17)
                output.Info(skip);              // 17 made it pg_log_info: stderr
            else
                output.Text.Append(skip).Append('\n');
        }
        if (o.Stats && !o.Quiet)
            stats.Start = first;

        int displayed = 0;
        int missingSegmentTries = 0;
        WalReadError? error = null;
        while (!cancel.IsCancellationRequested)
        {
            var outcome = reader.ReadRecord();
            if (!outcome.IsRecord)
            {
                error = outcome.Error;
                // --follow, like pg_waldump: wait for more WAL every second, but give a segment file
                // that does not exist 10 tries, 500 ms apart, before failing. (Without --follow,
                // pg_waldump also makes those tries; we fail at once, with the same message.)
                bool missing = error!.Kind == CorruptionKind.SegmentMissing;
                bool fatal = error.Kind is CorruptionKind.StopPointReached or CorruptionKind.ShortRead or CorruptionKind.SourceError;
                if (o.Follow && !fatal && (!missing || ++missingSegmentTries < 10))
                {
                    output.Flush();
                    cancel.WaitHandle.WaitOne(TimeSpan.FromMilliseconds(missing ? 500 : 1000));
                    continue;
                }
                break;
            }
            missingSegmentTries = 0;
            var record = outcome.Record!;
            if (o.RmgrFilterEnabled && !o.RmgrFilter[record.RmgrId])
                continue;
            if (o.XidFilterEnabled && o.XidFilter != record.Xid)
                continue;
            if (o.ExtendedFilter && !MatchesRelationBlock(record, o))
                continue;
            if (o.FullPageFilter && !record.HasAnyImage)
                continue;
            if (!o.Quiet)
            {
                if (o.Stats)
                    stats.Add(record);
                else
                {
                    formatter.Append(record, output.Text, o.BlockDetails);
                    output.MaybeFlush();
                }
            }
            displayed++;
            if (o.StopAfterRecords > 0 && displayed >= o.StopAfterRecords)
            {
                error = null;
                break;
            }
        }

        if (IsSourceFailure(error))
        {
            // pg_waldump dies inside its page-read callback here, before printing statistics.
            output.ErrorLine(error.Message);
            return 1;
        }
        if (o.Stats && !o.Quiet)
            stats.Render(output.Text, describers, o.StatsPerRecord);
        if (cancel.IsCancellationRequested)
            return 0;
        if (error is not null && error.Kind != CorruptionKind.StopPointReached)
        {
            output.ErrorLine($"error in WAL record at {reader.ReadRecPtr}: {error.Message}");
            if (error is { Kind: CorruptionKind.BadPageMagic, PageMagic: not 0 } bad)
                MagicHint(output, bad, reader.Version);
            return 1;
        }
        return 0;
    }

    private const string KnownMagics = "the WAL page magic numbers read are D110 (PostgreSQL 15), D113 (16), D116 (17) and D118 (18)";

    // pg_waldump says no more than the error. A page of another known version means versions mixed
    // in one directory; a magic of none (not a zeroed page) gets the list of those read.
    private static void MagicHint(ToolOutput output, WalReadError bad, WalVersion before)
    {
        var version = PageHeader.VersionOf(bad.PageMagic);
        if (version == WalVersion.Unknown)
            output.Hint($"segment {bad.SegmentFile} has a page of no known version (magic {bad.PageMagic:X4}); {KnownMagics}");
        else if (before != WalVersion.Unknown && version != before)
            output.Hint($"segment {bad.SegmentFile} holds PostgreSQL {(int)version} WAL (magic {bad.PageMagic:X4}) where the WAL before it is PostgreSQL {(int)before}'s; one WAL stream is written by one version");
    }

    // Failures of the page source itself, which pg_waldump reports (and dies of) in its read callbacks.
    private static bool IsSourceFailure([System.Diagnostics.CodeAnalysis.NotNullWhen(true)] WalReadError? error)
        => error is { Kind: CorruptionKind.SegmentMissing or CorruptionKind.ShortRead or CorruptionKind.SourceError };

    private static bool MatchesRelationBlock(DecodedRecord record, WalDumpOptions o)
    {
        for (int id = 0; id <= record.MaxBlockId; id++)
        {
            if (!record.HasBlock(id))
                continue;
            ref readonly var b = ref record.Block(id);
            if ((o.ForkFilter < 0 || o.ForkFilter == (int)b.Fork) &&
                (!o.RelationFilterEnabled || o.RelationFilter == b.Rel) &&
                (!o.BlockFilterEnabled || o.BlockFilter == b.Block.Value))
                return true;
        }
        return false;
    }

    private const string Usage = """
        pgwal waldump decodes and displays PostgreSQL write-ahead logs for debugging.

        Usage:
          pgwal waldump [OPTION]... [STARTSEG [ENDSEG]]

        Options:
          -b, --bkp-details      output detailed information about backup blocks
          -B, --block=N          with --relation, only show records that modify block N
          -e, --end=RECPTR       stop reading at WAL location RECPTR
          -f, --follow           keep retrying after reaching end of WAL
          -F, --fork=FORK        only show records that modify blocks in fork FORK;
                                 valid names are main, fsm, vm, init
          -n, --limit=N          number of records to display
          -p, --path=PATH        directory in which to find log segment files or a
                                 directory with a ./pg_wal that contains such files
                                 (default: current directory, ./pg_wal, $PGDATA/pg_wal)
          -q, --quiet            do not print any output, except for errors
          -r, --rmgr=RMGR        only show records generated by resource manager RMGR;
                                 use --rmgr=list to list valid resource manager names
          -R, --relation=T/D/R   only show records that modify blocks in relation T/D/R
          -s, --start=RECPTR     start reading at WAL location RECPTR
          -t, --timeline=TLI     timeline from which to read log records
                                 (default: 1 or the value used in STARTSEG)
          -V, --version          output version information, then exit
          -w, --fullpage         only show records with a full page write
          -x, --xid=XID          only show records with transaction ID XID
          -z, --stats[=record]   show statistics instead of records
                                 (optionally, show per-record statistics)
          -?, --help             show this help, then exit

        Reads PostgreSQL 15, 16, 17 and 18 WAL; the output is identical to the pg_waldump
        of the version that wrote it.

        """;
}
