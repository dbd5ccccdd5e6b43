// ReceiveWalCommand: `pgwal receivewal`, pg_receivewal 15 in PgWal (reference §4): streams WAL
// from a PostgreSQL 15 server (or PgWal's walsender) into -D as pg_receivewal does — .partial
// while in progress, renamed when complete, resumed from what is there — and with --repo also into
// a PgWal archive repository as each file completes. --create-slot / --drop-slot manage the slot
// and exit. SIGINT/SIGTERM: CopyDone, the open file closed (not renamed), exit 0. Exit 1 when the
// connection ends with -n.
using System.CommandLine;
using PgWal.Archive;
using PgWal.Cli.Common;
using PgWal.Replication.Client;

namespace PgWal.Cli.Replication;

internal static class ReceiveWalCommand
{
    private const string Program = "pgwal receivewal";

    public static Command Create()
    {
        var directory = new Option<string?>("--directory", "-D") { Description = "receive write-ahead log files into this directory" };
        var endpos = new Option<string?>("--endpos", "-E") { Description = "exit after receiving the specified LSN" };
        var ifNotExists = new Option<bool>("--if-not-exists") { Description = "do not error if slot already exists when creating a slot" };
        var noLoop = new Option<bool>("--no-loop", "-n") { Description = "do not loop on connection lost" };
        var noSync = new Option<bool>("--no-sync") { Description = "do not wait for changes to be written safely to disk" };
        var interval = CliOptions.Int("--status-interval", "-s", "time between status packets sent to server (in seconds)", 0, 86400, 10);
        var slot = new Option<string?>("--slot", "-S") { Description = "replication slot to use" };
        var synchronous = new Option<bool>("--synchronous") { Description = "flush write-ahead log immediately after writing" };
        var verbose = new Option<bool>("--verbose", "-v") { Description = "output verbose messages" };
        var compress = new Option<string?>("--compress", "-Z") { Description = "compress as specified: gzip[:LEVEL], a level 0..9 (gzip), or none" };
        var createSlot = new Option<bool>("--create-slot") { Description = "create a new replication slot (for the slot's name see --slot)" };
        var dropSlot = new Option<bool>("--drop-slot") { Description = "drop the replication slot (for the slot's name see --slot)" };
        var repo = new Option<string?>("--repo") { Description = "also put each completed file into this PgWal archive repository" };
        var connection = new ConnectionOptions();
        var command = new Command("receivewal", "Receive PostgreSQL streamed write-ahead logs, like pg_receivewal 15")
        {
            directory, endpos, ifNotExists, noLoop, noSync, interval, slot, synchronous, verbose, compress, createSlot, dropSlot, repo,
        };
        connection.AddTo(command);
        command.SetAction(p => CommandBoundary.Run("receivewal", () =>
        {
            bool isVerbose = p.GetValue(verbose);
            void Say(string message) => Console.Error.WriteLine($"{Program}: {message}");
            var settings = connection.Settings(p, "pg_receivewal");
            string? slotName = p.GetValue(slot);
            if (p.GetValue(createSlot) && p.GetValue(dropSlot))
                throw new UsageException("cannot use --create-slot together with --drop-slot");
            if ((p.GetValue(createSlot) || p.GetValue(dropSlot)) && slotName == null)
                throw new UsageException($"{(p.GetValue(createSlot) ? "--create-slot" : "--drop-slot")} needs a slot to be specified using --slot");
            if (p.GetValue(synchronous) && p.GetValue(noSync))
                throw new UsageException("cannot use --synchronous together with --no-sync");
            int gzipLevel = ParseCompression(p.GetValue(compress));
            if (gzipLevel > 0 && p.GetValue(repo) != null)
                throw new UsageException("--repo needs uncompressed files (the repository compresses what it stores): drop -Z");
            if (p.GetValue(dropSlot))
                return RunSlotCommand(settings, async client =>
                {
                    if (isVerbose)
                        Say($"dropping replication slot \"{slotName}\"");
                    await client.DropReplicationSlotAsync(slotName!).ConfigureAwait(false);
                });
            if (p.GetValue(createSlot))
                return RunSlotCommand(settings, async client =>
                {
                    if (isVerbose)
                        Say($"creating replication slot \"{slotName}\"");
                    try
                    {
                        await client.CreateReplicationSlotAsync(slotName!, temporary: false, reserveWal: false).ConfigureAwait(false);
                    }
                    catch (PgServerException e) when (e.SqlState == "42710" && p.GetValue(ifNotExists))
                    {
                        if (isVerbose)
                            Say($"replication slot \"{slotName}\" already exists");
                    }
                });

            string target = p.GetValue(directory) ?? throw new UsageException("no target directory specified");
            if (!Directory.Exists(target))
                throw new UsageException($"could not access directory \"{target}\": No such file or directory");
            Lsn end = Lsn.Invalid;
            if (p.GetValue(endpos) is { } e && !Lsn.TryParse(e, null, out end))
                throw new UsageException($"could not parse end position \"{e}\"");
            RepositoryWalSink? sink = null;
            if (p.GetValue(repo) is { } repoPath)
            {
                sink = new RepositoryWalSink(WalRepository.Open(repoPath), isVerbose ? Say : null);
                sink.CatchUp(target);
            }
            bool sync = !p.GetValue(noSync);
            var receiver = new WalReceiver(new WalReceiverOptions
            {
                Connection = settings,
                Slot = slotName,
                Synchronous = p.GetValue(synchronous),
                NoLoop = p.GetValue(noLoop),
                EndPosition = end,
                StatusInterval = TimeSpan.FromSeconds(p.GetValue(interval)),
                CreateTarget = (geometry, mode) => gzipLevel > 0
                    ? new GzipWalTarget(target, geometry, sync, gzipLevel, mode, Say)
                    : new DirectoryWalTarget(target, geometry, sync, mode, Say),
                Sink = sink,
                Verbose = isVerbose ? Say : null,
                Warning = Say,
            });
            using var signals = new StopSignals();
            var outcome = receiver.RunAsync(signals.Token).GetAwaiter().GetResult();
            if (outcome == WalReceiverOutcome.EndPositionReached && isVerbose)
                Say($"stopped log streaming at the end position {end}");
            return outcome == WalReceiverOutcome.Disconnected ? 1 : 0;
        }));
        return command;
    }

    // pg_receivewal 15's -Z: METHOD[:DETAIL] (gzip, none; detail a level or level=N) or a bare
    // level (0 = none, 1..9 = gzip). Returns the gzip level, 0 for none. lz4 is not supported here.
    private static int ParseCompression(string? text)
    {
        if (text == null)
            return 0;
        string method = text, detail = "";
        int colon = text.IndexOf(':', StringComparison.Ordinal);
        if (colon >= 0)
            (method, detail) = (text[..colon], text[(colon + 1)..]);
        if (int.TryParse(method, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int bare) && colon < 0)
            return bare <= 9 ? bare : throw new UsageException($"invalid compression level \"{text}\": must be 0..9");
        switch (method.ToLowerInvariant())
        {
            case "none":
                return 0;
            case "gzip":
                if (detail.StartsWith("level=", StringComparison.Ordinal))
                    detail = detail[6..];
                if (detail.Length == 0)
                    return 6;   // zlib's default level
                return int.TryParse(detail, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int level) && level is >= 1 and <= 9
                    ? level
                    : throw new UsageException($"invalid compression specification \"{text}\": the gzip level must be 1..9");
            case "lz4":
                throw new UsageException("compression method lz4 is not supported by pgwal receivewal (gzip is)");
            default:
                throw new UsageException($"compression method {method} is not supported");
        }
    }

    private static int RunSlotCommand(ConnectionSettings settings, Func<ReplicationClient, Task> action)
    {
        Task.Run(async () =>
        {
            await using var client = await ReplicationClient.ConnectAsync(settings).ConfigureAwait(false);
            await client.IdentifySystemAsync().ConfigureAwait(false);
            await action(client).ConfigureAwait(false);
        }).GetAwaiter().GetResult();
        return 0;
    }
}
