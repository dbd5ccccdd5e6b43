// WalDumpArguments: pg_waldump's command line (pg_waldump.c main up to "done with argument
// parsing"): options, STARTSEG/ENDSEG, locating the WAL directory and the segment size, with
// pg_waldump's messages and exit statuses.
using PgWal.Cli.Common;
using PgWal.Format;
using PgWal.Rmgr;

namespace PgWal.Cli.WalDump;

internal static class WalDumpArguments
{
    private static readonly LongOption[] s_longOptions =
    [
        new("bkp-details", ArgumentKind.None, 'b'),
        new("block", ArgumentKind.Required, 'B'),
        new("end", ArgumentKind.Required, 'e'),
        new("follow", ArgumentKind.None, 'f'),
        new("fork", ArgumentKind.Required, 'F'),
        new("fullpage", ArgumentKind.None, 'w'),
        new("help", ArgumentKind.None, '?'),
        new("limit", ArgumentKind.Required, 'n'),
        new("path", ArgumentKind.Required, 'p'),
        new("quiet", ArgumentKind.None, 'q'),
        new("relation", ArgumentKind.Required, 'R'),
        new("rmgr", ArgumentKind.Required, 'r'),
        new("start", ArgumentKind.Required, 's'),
        new("timeline", ArgumentKind.Required, 't'),
        new("xid", ArgumentKind.Required, 'x'),
        new("version", ArgumentKind.None, 'V'),
        new("stats", ArgumentKind.Optional, 'z'),
    ];

    /// <summary>Parses and resolves; returns null with the exit code when the program must stop.</summary>
    /// <param name="describers">Registered custom managers can be named in -r by their own names (kv, pagetest), not only as custom###.</param>
    public static WalDumpOptions? Parse(IReadOnlyList<string> args, RecordDescribers describers, ToolOutput output, out int exitCode)
    {
        exitCode = 1;
        var o = new WalDumpOptions();
        if (args.Count == 0)
        {
            output.ErrorLine("no arguments specified");
            return BadArgument(output);
        }
        var parsed = new List<ParsedOption>();
        var operands = new List<string>();
        var getopt = new GetOptLong(output.ProgramName, "bB:e:fF:n:p:qr:R:s:t:wx:z", s_longOptions);
        if (!getopt.TryParse(args, parsed, operands, output.Error))
            return BadArgument(output);

        foreach (var (option, value) in parsed)
        {
            string arg = value ?? "";
            switch (option)
            {
                case 'b':
                    o.BlockDetails = true;
                    break;
                case 'B':
                    if (!CScan.TryUInt(arg, out o.BlockFilter) || o.BlockFilter == uint.MaxValue)
                        return Invalid(output, $"invalid block number: \"{arg}\"");
                    o.BlockFilterEnabled = true;
                    o.ExtendedFilter = true;
                    break;
                case 'e':
                    if (!CScan.TryLsn(arg, out o.End))
                        return Invalid(output, $"invalid WAL location: \"{arg}\"");
                    break;
                case 'f':
                    o.Follow = true;
                    break;
                case 'F':
                    o.ForkFilter = arg switch { "main" => 0, "fsm" => 1, "vm" => 2, "init" => 3, _ => -1 };
                    if (o.ForkFilter < 0)
                        return Invalid(output, $"invalid fork name: \"{arg}\"");
                    o.ExtendedFilter = true;
                    break;
                case 'n':
                    if (!CScan.TryInt(arg, out o.StopAfterRecords))
                        return Invalid(output, $"invalid value \"{arg}\" for option -n/--limit");
                    break;
                case 'p':
                    o.WalDirectory = arg;
                    break;
                case 'q':
                    o.Quiet = true;
                    break;
                case 'r':
                    if (string.Equals(arg, "list", StringComparison.OrdinalIgnoreCase))
                    {
                        foreach (var name in RmgrIds.BuiltinNames)
                            output.Text.Append(name).Append('\n');
                        output.Flush();
                        exitCode = 0;
                        return null;
                    }
                    if (CScan.TryCustomRmgr(arg, out int customId))
                    {
                        if (customId < RmgrIds.MinCustom || customId > 255)
                            return Invalid(output, $"custom resource manager \"{arg}\" does not exist");
                        o.RmgrFilter[customId] = true;
                        o.RmgrFilterEnabled = true;
                        break;
                    }
                    int builtin = -1;
                    for (int id = 0; id <= RmgrIds.MaxBuiltin; id++)
                    {
                        if (string.Equals(arg, RmgrIds.BuiltinNames[id], StringComparison.OrdinalIgnoreCase))
                        {
                            builtin = id;
                            break;
                        }
                    }
                    for (int id = RmgrIds.MinCustom; builtin < 0 && id <= 255; id++)
                    {
                        if (string.Equals(arg, describers[(byte)id].Name, StringComparison.OrdinalIgnoreCase))
                            builtin = id;
                    }
                    if (builtin < 0)
                        return Invalid(output, $"resource manager \"{arg}\" does not exist");
                    o.RmgrFilter[builtin] = true;
                    o.RmgrFilterEnabled = true;
                    break;
                case 'R':
                    if (CScan.ScanRelation(arg, out uint spc, out uint db, out uint rel) != 3 || spc == 0 || rel == 0)
                    {
                        output.ErrorLine($"invalid relation specification: \"{arg}\"");
                        output.Detail("Expecting \"tablespace OID/database OID/relation filenode\".");
                        return BadArgument(output);
                    }
                    o.RelationFilter = new RelFileLocator(spc, db, rel);
                    o.RelationFilterEnabled = true;
                    o.ExtendedFilter = true;
                    break;
                case 's':
                    if (!CScan.TryLsn(arg, out o.Start))
                        return Invalid(output, $"invalid WAL location: \"{arg}\"");
                    break;
                case 't':
                    if (!CScan.TryUInt(arg, out uint tli))
                        return Invalid(output, $"invalid timeline specification: \"{arg}\"");
                    o.Timeline = new TimelineId(tli);
                    break;
                case 'w':
                    o.FullPageFilter = true;
                    break;
                case 'x':
                    if (!CScan.TryUInt(arg, out o.XidFilter))
                        return Invalid(output, $"invalid transaction ID specification: \"{arg}\"");
                    o.XidFilterEnabled = true;
                    break;
                case 'z':
                    o.Stats = true;
                    o.StatsPerRecord = false;
                    if (value != null)
                    {
                        if (value == "record")
                            o.StatsPerRecord = true;
                        else if (value != "rmgr")
                            return Invalid(output, $"unrecognized value for option --stats: {value}");
                    }
                    break;
                default: // '?', 'V' anywhere but first
                    return BadArgument(output);
            }
        }

        if (o.BlockFilterEnabled && !o.RelationFilterEnabled)
            return Invalid(output, "option -B/--block requires option -R/--relation to be specified");
        if (operands.Count > 2)
            return Invalid(output, $"too many command-line arguments (first is \"{operands[2]}\")");
        if (o.WalDirectory != null && !Directory.Exists(o.WalDirectory))
            return Invalid(output, $"could not open directory \"{o.WalDirectory}\": No such file or directory");

        if (operands.Count > 0)
        {
            var (directory, fname) = SplitPath(operands[0]);
            if (o.WalDirectory == null && directory != null)
            {
                o.WalDirectory = directory;
                if (!Directory.Exists(directory))
                    return Fatal(output, $"could not open directory \"{directory}\": No such file or directory");
            }
            if (!WalDirectoryLocator.Identify(o, fname, output))
                return null;
            if (!File.Exists(Path.Combine(o.WalDirectory!, fname)))
                return Fatal(output, $"could not open file \"{fname}\"");
            var geometry = new WalGeometry(o.SegmentSize);
            SegmentFileName.TryParseLeading(fname, geometry, out o.Timeline, out var segno);
            if (!o.Start.IsValid)
                o.Start = geometry.SegmentStart(segno);
            else if (!geometry.Contains(segno, o.Start))
                return Invalid(output, $"start WAL location {o.Start} is not inside file \"{fname}\"");
            if (operands.Count == 1 && !o.End.IsValid)
                o.End = geometry.SegmentStart(segno.Next);
            if (operands.Count > 1)
            {
                var (_, endName) = SplitPath(operands[1]);
                if (!File.Exists(Path.Combine(o.WalDirectory!, endName)))
                    return Fatal(output, $"could not open file \"{endName}\"");
                SegmentFileName.TryParseLeading(endName, geometry, out o.Timeline, out var endSegno);
                if (endSegno < segno)
                    return Fatal(output, $"ENDSEG {operands[1]} is before STARTSEG {operands[0]}");
                if (!o.End.IsValid)
                    o.End = geometry.SegmentStart(endSegno.Next);
                segno = endSegno;
            }
            if (!geometry.Contains(segno, o.End) && o.End != geometry.SegmentStart(segno.Next))
                return Invalid(output, $"end WAL location {o.End} is not inside file \"{operands[^1]}\"");
        }
        else if (!WalDirectoryLocator.Identify(o, null, output))
        {
            return null;
        }

        if (!o.Start.IsValid)
            return Invalid(output, "no start WAL location given");
        exitCode = 0;
        return o;
    }

    private static (string? Directory, string FileName) SplitPath(string path)
    {
        int slash = path.LastIndexOf('/');
        return slash >= 0 ? (path[..slash], path[(slash + 1)..]) : (null, path);
    }

    private static WalDumpOptions? Invalid(ToolOutput output, string message)
    {
        output.ErrorLine(message);
        return BadArgument(output);
    }

    private static WalDumpOptions? BadArgument(ToolOutput output)
    {
        output.TryHelpHint();
        return null;
    }

    private static WalDumpOptions? Fatal(ToolOutput output, string message)
    {
        output.ErrorLine(message);
        return null;
    }
}
