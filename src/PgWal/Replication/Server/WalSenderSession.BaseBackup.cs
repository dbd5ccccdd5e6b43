// BASE_BACKUP in PostgreSQL 15's form (basebackup.c, basebackup_copy.c): options in the generic
// list; the start position as result set 1; the tablespace list (only the data directory, last
// and only, with its estimated size in kB when PROGRESS); one CopyOut carrying base.tar as 'n'
// (archive start), 'd' (tar bytes, at most 32 kB each), 'p' (progress), then 'm' and the manifest;
// CopyDone; the end position as result set 3. base.tar holds backup_label first, the data
// directory as BackupFileSet lists it, global/pg_control last, and with WAL every segment from
// start to end with its .done and the history files, then the two zero blocks. Files that change
// while read are sent with the size they had when their header was written (shorter: padded with
// zeros), as PostgreSQL does; replaying the backup's WAL repairs them.
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging;
using PgWal.Backup;
using PgWal.Format;

namespace PgWal.Replication.Server;

internal sealed partial class WalSenderSession
{
    private const int CopyChunk = 32 * 1024;

    private sealed record BackupRequest(string Label, bool Progress, bool Fast, bool Wal, bool Wait, long MaxRateKb, bool Manifest, bool ManifestChecksums);

    private static BackupRequest ParseBackupOptions(BaseBackupCommand command)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        string label = "base backup";
        bool progress = false, fast = false, wal = false, wait = true, manifest = false, checksums = true, checksumsGiven = false;
        long maxRate = 0;
        foreach (var (name, value) in command.Options)
        {
            if (!seen.Add(name))
                throw new ReplicationError("42601", $"duplicate option \"{name}\"");
            switch (name)
            {
                case "label":
                    label = value ?? "";
                    break;
                case "progress":
                    progress = ReplicationCommandParser.Boolean(name, value);
                    break;
                case "checkpoint":
                    fast = value?.ToLowerInvariant() switch
                    {
                        "fast" => true,
                        "spread" => false,
                        _ => throw new ReplicationError("22023", $"unrecognized checkpoint type: \"{value}\""),
                    };
                    break;
                case "wal":
                    wal = ReplicationCommandParser.Boolean(name, value);
                    break;
                case "wait":
                    wait = ReplicationCommandParser.Boolean(name, value);
                    break;
                case "max_rate":
                    if (!long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out maxRate) || (maxRate != 0 && maxRate is < 32 or > 1048576))
                        throw new ReplicationError("22003", $"{value} is out of range for option \"max_rate\" (32 .. 1048576 kB/s)");
                    break;
                case "tablespace_map" or "verify_checksums":
                    ReplicationCommandParser.Boolean(name, value);   // no tablespaces; data checksums are not verified on the way
                    break;
                case "manifest":
                    manifest = value?.ToLowerInvariant() switch
                    {
                        "yes" or "true" or "on" or "1" or "force-encode" => true,
                        "no" or "false" or "off" or "0" => false,
                        _ => throw new ReplicationError("22023", $"unrecognized manifest option: \"{value}\""),
                    };
                    break;
                case "manifest_checksums":
                    checksumsGiven = true;
                    checksums = value?.ToUpperInvariant() switch
                    {
                        "CRC32C" => true,
                        "NONE" => false,
                        _ => throw new ReplicationError("0A000", $"manifest checksum algorithm \"{value}\" is not supported by PgWal (use CRC32C or NONE)"),
                    };
                    break;
                case "target":
                    if (!string.Equals(value, "client", StringComparison.OrdinalIgnoreCase))
                        throw new ReplicationError("0A000", $"backup target \"{value}\" is not supported by PgWal (only 'client')");
                    break;
                case "compression" or "compression_detail":
                    if (!string.Equals(value, "none", StringComparison.OrdinalIgnoreCase))
                        throw new ReplicationError("0A000", "server-side compression of base backups is not supported by PgWal; compress on the client");
                    break;
                default:
                    throw new ReplicationError("42601", $"unrecognized base backup option: \"{name}\"");
            }
        }
        if (checksumsGiven && !manifest)
            throw new ReplicationError("22023", "manifest checksums require a backup manifest");
        return new BackupRequest(label, progress, fast, wal, wait, maxRate, manifest, checksums);
    }

    private async Task BaseBackupAsync(BaseBackupCommand command, CancellationToken cancellation)
    {
        var request = ParseBackupOptions(command);
        var instance = _server.Instance;
        State = "backup";
        var w = _connection.Writer;
        var label = instance.StartBackup(request.Label, request.Fast);
        var stream = new TarStream(this, request, cancellation);
        BackupStopResult? stop = null;
        try
        {
            var timeline = label.Timeline;
            w.RowDescription(("recptr", TextOid, -1, 0), ("tli", Int8Oid, -1, 0));
            w.DataRow(label.StartLsn.ToString(), timeline.Value.ToString(CultureInfo.InvariantCulture));
            w.CommandComplete("SELECT");
            var entries = BackupFileSet.Walk(instance.Location);
            long estimate = entries.Where(e => !e.IsDirectory).Sum(e => SizeOf(Path.Combine(instance.Location, e.Path)));
            w.RowDescription(("spcoid", OidOid, 4, 0), ("spclocation", TextOid, -1, 0), ("size", Int8Oid, 8, 0));
            w.DataRow(null, null, request.Progress ? (estimate / 1024).ToString(CultureInfo.InvariantCulture) : null);
            w.CommandComplete("SELECT");
            w.CopyOutResponse();
            w.Begin((byte)'d').Byte((byte)'n').CString("base.tar").CString("").End();
            await FlushAsync().ConfigureAwait(false);

            var geometry = _server.Geometry;
            await stream.AddBytesAsync(BackupLabel.FileName, Encoding.UTF8.GetBytes(label.ToText(geometry)), listed: true).ConfigureAwait(false);
            foreach (var entry in entries)
            {
                if (entry.IsDirectory)
                    await stream.AddDirectoryAsync(entry.Path == "pg_wal/archive_status" ? "./pg_wal/archive_status" : entry.Path).ConfigureAwait(false);
                else
                    await stream.AddFileAsync(instance.Location, entry.Path, listed: true).ConfigureAwait(false);
            }
            await stream.AddFileAsync(instance.Location, BackupFileSet.ControlFile, listed: true).ConfigureAwait(false);
            instance.HoldWalFrom(label.StartLsn);   // the WAL is sent after the stop: it must still be there
            try
            {
                stop = instance.StopBackup(label, request.Wait, cancellation);
                if (request.Wal)
                    await AddWalAsync(stream, label.StartLsn, stop).ConfigureAwait(false);
            }
            finally
            {
                instance.ReleaseWalFrom(label.StartLsn);
            }
            await stream.FinishArchiveAsync().ConfigureAwait(false);
            if (request.Manifest)
            {
                w.Begin((byte)'d').Byte((byte)'m').End();
                var manifest = stream.Manifest(stop.Timeline, label.StartLsn, stop.StopLsn);
                for (int at = 0; at < manifest.Length; at += CopyChunk)
                    w.Begin((byte)'d').Byte((byte)'d').Bytes(manifest.AsSpan(at, Math.Min(CopyChunk, manifest.Length - at))).End();
            }
            w.CopyDone();
            w.RowDescription(("recptr", TextOid, -1, 0), ("tli", Int8Oid, -1, 0));
            w.DataRow(stop.StopLsn.ToString(), stop.Timeline.Value.ToString(CultureInfo.InvariantCulture));
            w.CommandComplete("SELECT");
            _logger.LogInformation("walsender {Pid}: base backup \"{Label}\" sent, WAL {Start} to {Stop}", Pid, request.Label, label.StartLsn, stop.StopLsn);
        }
        finally
        {
            if (stop == null)
            {
                try
                {
                    instance.StopBackup(label, waitForArchive: false);
                }
                catch (Exception e) when (e is InvalidOperationException or IOException)
                {
                    _logger.LogWarning("walsender {Pid}: stopping the aborted backup failed: {Message}", Pid, e.Message);
                }
            }
        }
    }

    private async Task AddWalAsync(TarStream stream, Lsn start, BackupStopResult stop)
    {
        var geometry = _server.Geometry;
        var walDirectory = Path.Combine(_server.Instance.Location, "pg_wal");
        for (ulong s = geometry.SegmentOf(start).Value; s <= geometry.SegmentOf(stop.StopLsn - 1).Value; s++)
        {
            string name = SegmentFileName.Format(stop.Timeline, new SegmentNumber(s), geometry);
            if (!File.Exists(Path.Combine(walDirectory, name)))
                throw new ReplicationError("58P01", $"could not find WAL file \"{name}\"");
            await stream.AddFileAsync(walDirectory, name, listed: false, archivePath: "pg_wal/" + name).ConfigureAwait(false);
            await stream.AddBytesAsync($"pg_wal/archive_status/{name}.done", [], listed: true).ConfigureAwait(false);
        }
        foreach (var path in Directory.EnumerateFiles(walDirectory, "*.history").Order(StringComparer.Ordinal))
        {
            string name = Path.GetFileName(path);
            await stream.AddFileAsync(walDirectory, name, listed: false, archivePath: "pg_wal/" + name).ConfigureAwait(false);
            await stream.AddBytesAsync($"pg_wal/archive_status/{name}.done", [], listed: true).ConfigureAwait(false);
        }
    }

    private static long SizeOf(string path)
    {
        try
        {
            return new FileInfo(path).Length;
        }
        catch (IOException)
        {
            return 0;
        }
    }

    // base.tar as CopyData: headers, contents (CRC-32C for the manifest), progress, MAX_RATE.
    private sealed class TarStream(WalSenderSession session, BackupRequest request, CancellationToken cancellation)
    {
        private readonly byte[] _buffer = new byte[256 * 1024];
        private readonly BackupManifest _manifest = new();
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private long _done, _lastProgress, _lastProgressTicks;

        public Task AddDirectoryAsync(string path)
        {
            Span<byte> header = stackalloc byte[TarHeader.BlockSize];
            TarHeader.Write(header, path, directory: true, 0, 0x1C0, DateTimeOffset.UtcNow);
            Send(header);
            return Task.CompletedTask;
        }

        public async Task AddBytesAsync(string path, byte[] content, bool listed)
        {
            Header(path, content.Length, DateTimeOffset.UtcNow);
            Send(content);
            Send(new byte[TarHeader.Padding(content.Length)]);
            if (listed)
                _manifest.AddFile(path, content.Length, DateTimeOffset.UtcNow, request.ManifestChecksums ? Crc32C.Compute(content) : null);
            await MaybeFlushAsync().ConfigureAwait(false);
        }

        public async Task AddFileAsync(string root, string path, bool listed, string? archivePath = null)
        {
            string full = Path.Combine(root, path);
            Microsoft.Win32.SafeHandles.SafeFileHandle handle;
            DateTimeOffset modified;
            try
            {
                handle = File.OpenHandle(full, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                modified = new DateTimeOffset(File.GetLastWriteTimeUtc(full), TimeSpan.Zero);
            }
            catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
            {
                return;   // dropped while the backup ran: replaying the WAL drops it too
            }
            using (handle)
            {
                long size = RandomAccess.GetLength(handle);
                Header(archivePath ?? path, size, modified);
                uint crc = Crc32C.InitialValue;
                long offset = 0;
                while (offset < size)
                {
                    cancellation.ThrowIfCancellationRequested();
                    int want = (int)Math.Min(_buffer.Length, size - offset);
                    int n = RandomAccess.Read(handle, _buffer.AsSpan(0, want), offset);
                    if (n == 0)
                    {
                        _buffer.AsSpan(0, want).Clear();   // shrank while read: zeros, as PostgreSQL pads
                        n = want;
                    }
                    crc = Crc32C.Append(crc, _buffer.AsSpan(0, n));
                    Send(_buffer.AsSpan(0, n));
                    offset += n;
                    await MaybeFlushAsync().ConfigureAwait(false);
                }
                Send(new byte[TarHeader.Padding(size)]);
                if (listed)
                    _manifest.AddFile(archivePath ?? path, size, modified, request.ManifestChecksums ? Crc32C.Finish(crc) : null);
            }
        }

        public async Task FinishArchiveAsync()
        {
            Send(new byte[2 * TarHeader.BlockSize]);
            Progress(force: true);
            await session.FlushAsync().ConfigureAwait(false);
        }

        public byte[] Manifest(TimelineId timeline, Lsn start, Lsn stop)
        {
            _manifest.AddWalRange(timeline, start, stop);
            return _manifest.ToBytes();
        }

        private void Header(string path, long size, DateTimeOffset modified)
        {
            Span<byte> header = stackalloc byte[TarHeader.BlockSize];
            TarHeader.Write(header, path, directory: false, size, 0x180, modified);
            Send(header);
        }

        private void Send(ReadOnlySpan<byte> data)
        {
            var w = session._connection.Writer;
            for (int at = 0; at < data.Length; at += CopyChunk)
                w.Begin((byte)'d').Byte((byte)'d').Bytes(data.Slice(at, Math.Min(CopyChunk, data.Length - at))).End();
            _done += data.Length;
        }

        // 'p' after 64 kB and a second, as PostgreSQL; MAX_RATE sleeps off any excess.
        private void Progress(bool force)
        {
            if (!force && (_done - _lastProgress < 64 * 1024 || Stopwatch.GetElapsedTime(_lastProgressTicks) < TimeSpan.FromSeconds(1)))
                return;
            session._connection.Writer.Begin((byte)'d').Byte((byte)'p').Int64(_done).End();
            _lastProgress = _done;
            _lastProgressTicks = Stopwatch.GetTimestamp();
        }

        private async Task MaybeFlushAsync()
        {
            Progress(force: false);
            await session.FlushAsync().ConfigureAwait(false);
            if (request.MaxRateKb > 0)
            {
                var due = TimeSpan.FromSeconds(_done / 1024.0 / request.MaxRateKb);
                if (due > _clock.Elapsed)
                    await Task.Delay(due - _clock.Elapsed, cancellation).ConfigureAwait(false);
            }
        }
    }
}
