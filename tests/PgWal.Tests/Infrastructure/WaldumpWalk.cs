// WaldumpWalk: checks a pg_wal directory end to end with PostgreSQL 15's pg_waldump — from the
// first record of the oldest segment still present (found by our reader, as pg_waldump would) to
// the end of the last record — expecting exit status 0 and exactly the records our reader sees.
using System.Text.RegularExpressions;
using PgWal.Format;
using PgWal.Read;
using PgWal.Storage;

namespace PgWal.Tests.Infrastructure;

internal static partial class WaldumpWalk
{
    /// <summary>Walks the durable WAL of a simulated disk (exported to a scratch directory) against its pg_control.</summary>
    public static string AssertWalks(SimulatedDisk disk)
    {
        using var dir = new TempDirectory("walk");
        disk.ExportWal(dir.Path);
        var control = new byte[ControlFileData.FileSize];
        Assert.True(disk.Control.Read(control) > 0, "the simulated disk has no pg_control");
        return AssertWalks(dir.Path, ControlFileData.Decode(control));
    }

    /// <summary>Returns pg_waldump's output; asserts it walked everything. The last record must be the control file's checkpoint.</summary>
    public static string AssertWalks(string walDirectory, ControlFileData control)
    {
        var geometry = new WalGeometry((int)control.WalSegmentSize);
        var segments = Directory.GetFiles(walDirectory).Select(p => Path.GetFileName(p)!)
            .Where(n => SegmentFileName.IsSegmentFileName(n)).Order(StringComparer.Ordinal).ToList();
        var options = new WalReaderOptions { SegmentSize = geometry.SegmentSize, SystemIdentifier = control.SystemIdentifier };
        foreach (var oldest in segments)
        {
            SegmentFileName.TryParse(oldest, geometry, out _, out var segment);
            using var reader = new WalReader(new SegmentDirectorySource(walDirectory, geometry.SegmentSize), options);
            Lsn first = reader.FindNextRecord(geometry.SegmentStart(segment), out _);
            if (!first.IsValid)
                continue;   // a recycled segment (old page addresses): no record starts here
            reader.BeginRead(first);
            int records = 0;
            while (reader.ReadRecord().IsRecord)
                records++;
            Assert.Equal(control.CheckPointLocation, reader.ReadRecPtr);
            var pg = PgTools.Waldump(["-p", walDirectory, oldest, "-s", first.ToString(), "-e", reader.EndRecPtr.ToString()]);
            Assert.True(pg.ExitCode == 0, pg.Stderr);
            Assert.Equal(records, RecordLine().Count(pg.StdoutText));
            return pg.StdoutText;
        }
        Assert.Fail($"no segment in {walDirectory} holds a record start");
        return "";
    }

    [GeneratedRegex(@"^rmgr: ", RegexOptions.Multiline)]
    private static partial Regex RecordLine();
}
