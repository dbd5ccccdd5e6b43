// WalDirectoryLocator: pg_waldump's identify_target_directory / search_directory: find the
// directory holding the WAL (the given one, its pg_wal/, or ., ./pg_wal, $PGDATA/pg_wal) and take
// the segment size from the first segment file's long page header.
using System.Buffers.Binary;
using PgWal.Cli.Common;
using PgWal.Format;

namespace PgWal.Cli.WalDump;

internal static class WalDirectoryLocator
{
    /// <summary>Sets WalDirectory and SegmentSize, or prints pg_waldump's fatal message and returns false.</summary>
    public static bool Identify(WalDumpOptions o, string? fileName, ToolOutput output)
    {
        var candidates = new List<string>();
        if (o.WalDirectory != null)
        {
            candidates.Add(o.WalDirectory);
            candidates.Add(Path.Combine(o.WalDirectory, "pg_wal"));
        }
        else
        {
            candidates.Add(".");
            candidates.Add("pg_wal");
            string? pgdata = Environment.GetEnvironmentVariable("PGDATA");
            if (pgdata != null)
                candidates.Add(Path.Combine(pgdata, "pg_wal"));
        }
        foreach (var directory in candidates)
        {
            var result = Search(directory, fileName, output);
            if (result is null)
                return false; // fatal already reported
            if (result.Value)
            {
                o.WalDirectory = directory;
                return true;
            }
        }
        output.ErrorLine(fileName != null ? $"could not locate WAL file \"{fileName}\"" : "could not find any WAL file");
        return false;

        bool? Search(string directory, string? name, ToolOutput output)
        {
            string? path = null;
            if (name != null)
            {
                string candidate = Path.Combine(directory, name);
                if (File.Exists(candidate))
                    path = candidate;
            }
            else if (Directory.Exists(directory))
            {
                foreach (var entry in Directory.EnumerateFileSystemEntries(directory))
                {
                    string entryName = Path.GetFileName(entry);
                    if (SegmentFileName.IsSegmentFileName(entryName))
                    {
                        path = entry;
                        name = entryName;
                        break;
                    }
                }
            }
            if (path is null)
                return false;
            Span<byte> page = stackalloc byte[WalGeometry.PageSize];
            int read;
            try
            {
                using var stream = File.OpenRead(path);
                read = stream.ReadAtLeast(page, page.Length, throwOnEndOfStream: false);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                output.ErrorLine($"could not read file \"{name}\": {PgWal.Storage.OsErrors.Describe(e, path)}");
                return null;
            }
            if (read < WalGeometry.PageSize)
            {
                output.ErrorLine($"could not read file \"{name}\": read {read} of {WalGeometry.PageSize}");
                return null;
            }
            int segmentSize = BinaryPrimitives.ReadInt32LittleEndian(page[PageHeader.SegmentSizeOffset..]);
            if (!WalGeometry.IsValidSegmentSize(segmentSize))
            {
                output.ErrorLine($"WAL segment size must be a power of two between 1 MB and 1 GB, but the WAL file \"{name}\" header specifies {segmentSize} byte{(segmentSize == 1 ? "" : "s")}");
                return null;
            }
            o.SegmentSize = segmentSize;
            return true;
        }
    }
}
