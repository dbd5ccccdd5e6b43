// ShowTargetCommand: `pgwal archive show-target --repo R (--lsn L | --xid X | --time T | --name N)
// [--exclusive] [--timeline N] [--json]`: reads the archived WAL and says where a recovery to that
// target would stop, with PostgreSQL 15's log message, the LSN pg_last_wal_replay_lsn() would
// report, and the transaction ends just before and after — or that the target is never reached
// (exit 3), before anybody restores anything. Reads the lowest archived timeline unless --timeline
// names another, which is read along its history file (its ancestors' WAL up to each switch).
using System.CommandLine;
using System.Globalization;
using PgWal.Archive;
using PgWal.Cli.Common;
using PgWal.Diagnostics;
using PgWal.Format;

namespace PgWal.Cli.Archive;

internal static class ShowTargetCommand
{
    public static Command Create()
    {
        var repo = ArchiveCommands.Repo();
        var lsn = new Option<string?>("--lsn") { Description = "recovery_target_lsn (X/X)" };
        var xid = new Option<string?>("--xid") { Description = "recovery_target_xid" };
        var time = new Option<string?>("--time") { Description = "recovery_target_time (ISO 8601; UTC unless an offset is given)" };
        var name = new Option<string?>("--name") { Description = "recovery_target_name (a restore point)" };
        var exclusive = new Option<bool>("--exclusive") { Description = "recovery_target_inclusive = off" };
        var timeline = CliOptions.OptionalLong("--timeline", null, "the timeline to read, along its history file (default: the lowest archived)", 1, uint.MaxValue);
        var json = new Option<bool>("--json") { Description = "print one JSON object" };
        var command = new Command("show-target", "Say where a point-in-time recovery to a target would stop, from the archived WAL") { repo, lsn, xid, time, name, exclusive, timeline, json };
        command.SetAction(p => CommandBoundary.Run("archive show-target", () =>
        {
            var target = Target(p.GetValue(lsn), p.GetValue(xid), p.GetValue(time), p.GetValue(name), !p.GetValue(exclusive));
            var r = WalRepository.Open(p.GetValue(repo)!);
            var tli = p.GetValue(timeline) is { } t ? new TimelineId((uint)t)
                : r.List().FirstOrDefault(x => x.Ranges.Count > 0)?.Timeline ?? throw new ArchiveException($"repository \"{r.Path}\" holds no WAL segment");
            var result = RecoveryTargetSearch.Find(r, tli, target);
            if (p.GetValue(json))
                Console.WriteLine(CliJson.Line(Json(result)));
            else
                Print(result);
            if (!result.Reached)
                throw new ArchiveException(result.Message);
            return 0;
        }));
        return command;
    }

    private static RecoveryTarget Target(string? lsn, string? xid, string? time, string? name, bool inclusive)
    {
        int given = new[] { lsn, xid, time, name }.Count(v => v != null);
        if (given != 1)
            throw new UsageException("give exactly one of --lsn, --xid, --time, --name (PostgreSQL: \"multiple recovery targets specified\")");
        if (lsn != null)
            return CScan.TryLsn(lsn, out var l) ? new RecoveryTarget(RecoveryTargetKind.Lsn, Lsn: l, Inclusive: inclusive)
                : throw new UsageException($"invalid value for --lsn: \"{lsn}\" (must be X/X, e.g. 0/3000028)");
        if (xid != null)
            return ulong.TryParse(xid, NumberStyles.None, CultureInfo.InvariantCulture, out var x)
                ? new RecoveryTarget(RecoveryTargetKind.Xid, Xid: unchecked((uint)x), Inclusive: inclusive)   // epoch-qualified values truncate, as PostgreSQL's do
                : throw new UsageException($"invalid value for --xid: \"{xid}\" (must be a transaction id)");
        if (time != null)
        {
            if (!DateTimeOffset.TryParse(time, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t))
                throw new UsageException($"invalid value for --time: \"{time}\" (must be a timestamp, e.g. 2026-12-02 07:45:00+00)");
            return new RecoveryTarget(RecoveryTargetKind.Time, Time: PgTimestamp.FromDateTimeOffset(t), Inclusive: inclusive);
        }
        if (System.Text.Encoding.UTF8.GetByteCount(name!) >= 64)
            throw new UsageException($"invalid value for --name: \"{name}\" (at most 63 bytes, as restore point names)");
        return new RecoveryTarget(RecoveryTargetKind.Name, Name: name!, Inclusive: inclusive);
    }

    private static void Print(TargetSearchResult r)
    {
        Console.WriteLine($"timeline {r.Timeline.Value}: {r.Message}");
        if (r.Reached)
        {
            Console.WriteLine($"stop record at {r.StopRecord}; replay ends at {r.ReplayedUpTo} (pg_last_wal_replay_lsn)");
        }
        Console.WriteLine($"last transaction end replayed: {Describe(r.LastReplayed)}");
        if (r.Reached)
            Console.WriteLine($"first transaction end not replayed: {Describe(r.FirstNotReplayed)}");
    }

    private static string Describe(TransactionEnd? e) => e is null ? "none"
        : $"{(e.Commit ? "commit" : "abort")} of transaction {e.Xid} at {e.Lsn}, time {PgTimestamp.Format(e.Time)}";

    private static Dictionary<string, object?> Json(TargetSearchResult r) => new()
    {
        ["reached"] = r.Reached,
        ["timeline"] = (long)r.Timeline.Value,
        ["message"] = r.Message,
        ["stop_record_lsn"] = r.Reached ? r.StopRecord.ToString() : null,
        ["replayed_up_to"] = r.ReplayedUpTo.ToString(),
        ["end_of_wal"] = r.Reached ? null : r.EndOfWal.ToString(),
        ["last_replayed"] = End(r.LastReplayed),
        ["first_not_replayed"] = End(r.FirstNotReplayed),
    };

    private static Dictionary<string, object?>? End(TransactionEnd? e) => e is null ? null : new()
    {
        ["xid"] = (long)e.Xid, ["commit"] = e.Commit, ["lsn"] = e.Lsn.ToString(), ["time"] = PgTimestamp.Format(e.Time),
    };
}
