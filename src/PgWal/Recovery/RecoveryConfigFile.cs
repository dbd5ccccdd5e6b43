// RecoveryConfigFile: the recovery settings of a data directory's postgresql.conf and
// postgresql.auto.conf (the latter wins, as PostgreSQL reads it last). Lines are
// "name = value" or "name value", values optionally in single quotes ('' for a quote), '#'
// starts a comment. Every value is checked as PostgreSQL checks it, and a bad one is an error
// naming the setting, the file and the value; two targets at once are refused.
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using PgWal.Archive;
using PgWal.Diagnostics;

namespace PgWal.Recovery;

/// <summary>Reads PostgreSQL's recovery settings from configuration files.</summary>
public static partial class RecoveryConfigFile
{
    private static readonly string[] Files = ["postgresql.conf", "postgresql.auto.conf"];

    /// <summary>The settings of <paramref name="dataDirectory"/>'s configuration files.</summary>
    /// <exception cref="RecoveryException">A setting has an invalid value, or several targets are set.</exception>
    public static ArchiveRecoveryOptions Read(string dataDirectory)
    {
        var settings = ReadSettings(dataDirectory);
        return FromSettings(name => settings.TryGetValue(name, out var v) ? v : null);
    }

    /// <summary>Every setting of the directory's postgresql.conf and postgresql.auto.conf (lower-case names; the later file wins), with the file it came from.</summary>
    public static IReadOnlyDictionary<string, (string Value, string File)> ReadSettings(string dataDirectory)
    {
        var settings = new Dictionary<string, (string Value, string File)>(StringComparer.Ordinal);
        foreach (var file in Files)
        {
            string path = Path.Combine(dataDirectory, file);
            if (!File.Exists(path))
                continue;
            foreach (var line in File.ReadAllLines(path))
            {
                if (ParseLine(line) is { } pair)
                    settings[pair.Name.ToLowerInvariant()] = (pair.Value, path);
            }
        }
        return settings;
    }

    /// <summary>
    /// <paramref name="options"/> with archive_mode, archive_command and archive_timeout taken from
    /// <paramref name="dataDirectory"/>'s configuration files where they are set there (what
    /// <c>pgwal</c>'s commands do, so a data directory is configured as PostgreSQL's is).
    /// </summary>
    /// <exception cref="RecoveryException">A value is invalid (the message names the setting and the file).</exception>
    public static WalInstanceOptions ApplyArchiveSettings(string dataDirectory, WalInstanceOptions options)
    {
        if (!Directory.Exists(dataDirectory))
            return options;
        var settings = ReadSettings(dataDirectory);
        RecoveryException Bad(string name, string why) => new($"invalid value for parameter \"{name}\": \"{settings[name].Value}\" in \"{settings[name].File}\": {why}");
        if (settings.TryGetValue("archive_mode", out var mode))
        {
            options = options with
            {
                ArchiveMode = mode.Value.ToLowerInvariant() switch
                {
                    "always" => ArchiveMode.Always,
                    var v when ParseBool(v) is { } on => on ? ArchiveMode.On : ArchiveMode.Off,
                    _ => throw Bad("archive_mode", "must be on, off or always"),
                },
            };
        }
        if (settings.TryGetValue("archive_command", out var command))
            options = options with { ArchiveCommand = command.Value };
        if (settings.TryGetValue("archive_timeout", out var timeout))
            options = options with { ArchiveTimeout = ParseSeconds(timeout.Value) ?? throw Bad("archive_timeout", "must be a duration such as 60, 60s, 5min or 500ms") };
        return options;
    }

    // A time setting in seconds by default, with PostgreSQL's units.
    private static TimeSpan? ParseSeconds(string text)
    {
        var m = Regex.Match(text.Trim(), @"^(\d+)\s*(ms|s|min|h|d)?$");
        if (!m.Success || !long.TryParse(m.Groups[1].Value, NumberStyles.None, CultureInfo.InvariantCulture, out long n))
            return null;
        return m.Groups[2].Value switch
        {
            "ms" => TimeSpan.FromMilliseconds(n),
            "min" => TimeSpan.FromMinutes(n),
            "h" => TimeSpan.FromHours(n),
            "d" => TimeSpan.FromDays(n),
            _ => TimeSpan.FromSeconds(n),
        };
    }

    /// <summary>Builds options from setting values (names as PostgreSQL's; null = not set).</summary>
    /// <exception cref="RecoveryException">A value is invalid, or several targets are set.</exception>
    public static ArchiveRecoveryOptions FromSettings(Func<string, (string Value, string File)?> get)
    {
        string? Text(string name) => get(name) is { Value.Length: > 0 } v ? v.Value : null;
        RecoveryException Bad(string name, string why) => new($"invalid value for parameter \"{name}\": \"{get(name)!.Value.Value}\" in \"{get(name)!.Value.File}\": {why}");

        bool inclusive = true;
        if (Text("recovery_target_inclusive") is { } inc)
            inclusive = ParseBool(inc) ?? throw Bad("recovery_target_inclusive", "must be on or off");
        var targets = new List<RecoveryTarget>();
        if (Text("recovery_target") is { } t)
            targets.Add(t == "immediate" ? new RecoveryTarget(RecoveryTargetKind.Immediate) : throw Bad("recovery_target", "the only allowed value is \"immediate\""));
        if (Text("recovery_target_lsn") is { } lsn)
            targets.Add(Lsn.TryParse(lsn, out var l) ? new RecoveryTarget(RecoveryTargetKind.Lsn, Lsn: l, Inclusive: inclusive) : throw Bad("recovery_target_lsn", "must be a WAL location X/X"));
        if (Text("recovery_target_xid") is { } xid)
            targets.Add(ulong.TryParse(xid, NumberStyles.None, CultureInfo.InvariantCulture, out var x)
                ? new RecoveryTarget(RecoveryTargetKind.Xid, Xid: unchecked((uint)x), Inclusive: inclusive)
                : throw Bad("recovery_target_xid", "must be a transaction ID"));
        if (Text("recovery_target_time") is { } time)
            targets.Add(TryParseTime(time, out long tz) ? new RecoveryTarget(RecoveryTargetKind.Time, Time: tz, Inclusive: inclusive)
                : throw Bad("recovery_target_time", "must be a timestamp such as 2026-12-02 07:45:00+00 (special values like now are not allowed)"));
        if (Text("recovery_target_name") is { } name)
            targets.Add(Encoding.UTF8.GetByteCount(name) < 64 ? new RecoveryTarget(RecoveryTargetKind.Name, Name: name, Inclusive: inclusive)
                : throw Bad("recovery_target_name", "is too long (maximum 63 characters)"));
        if (targets.Count > 1)
            throw new RecoveryException("multiple recovery targets specified: at most one of recovery_target, recovery_target_lsn, recovery_target_name, recovery_target_time, recovery_target_xid may be set");

        var timeline = RecoveryTimeline.Latest;
        if (Text("recovery_target_timeline") is { } tl)
            timeline = ParseTimeline(tl) ?? throw Bad("recovery_target_timeline", "must be latest, current or a timeline ID");
        var action = RecoveryTargetAction.Pause;
        if (Text("recovery_target_action") is { } a)
        {
            action = a switch
            {
                "pause" => RecoveryTargetAction.Pause,
                "promote" => RecoveryTargetAction.Promote,
                "shutdown" => RecoveryTargetAction.Shutdown,
                _ => throw Bad("recovery_target_action", "must be pause, promote or shutdown"),
            };
        }
        return new ArchiveRecoveryOptions
        {
            RestoreCommand = Text("restore_command"), Target = targets.Count == 1 ? targets[0] : null, TargetTimeline = timeline,
            Action = action, RecoveryEndCommand = Text("recovery_end_command"),
        };
    }

    /// <summary>recovery_target_timeline's syntax: latest, current, or a number (decimal or 0x hex).</summary>
    public static RecoveryTimeline? ParseTimeline(string text)
    {
        if (text == "latest")
            return RecoveryTimeline.Latest;
        if (text == "current")
            return RecoveryTimeline.Current;
        bool hex = text.StartsWith("0x", StringComparison.OrdinalIgnoreCase);
        return uint.TryParse(hex ? text[2..] : text, hex ? NumberStyles.AllowHexSpecifier : NumberStyles.None, CultureInfo.InvariantCulture, out uint id) && id > 0
            ? RecoveryTimeline.Of(id) : null;
    }

    /// <summary>A timestamptz as PostgreSQL prints and reads them (no zone = UTC); special values are refused.</summary>
    public static bool TryParseTime(string text, out long timestampTz)
    {
        timestampTz = 0;
        string s = text.Trim();
        if (ShortOffset().Match(s) is { Success: true } m)
            s = s[..m.Index] + m.Value + ":00";    // "+00" → "+00:00"
        if (!DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time))
            return false;
        timestampTz = PgTimestamp.FromDateTimeOffset(time);
        return true;
    }

    [GeneratedRegex(@"[+-]\d\d$")]
    private static partial Regex ShortOffset();

    private static bool? ParseBool(string text) => text.ToLowerInvariant() switch
    {
        "on" or "true" or "yes" or "1" or "t" or "y" => true,
        "off" or "false" or "no" or "0" or "f" or "n" => false,
        _ => null,
    };

    // "name = value" / "name value", value bare or '...' with '' and \' escapes; '#' comments.
    private static (string Name, string Value)? ParseLine(string line)
    {
        int i = 0;
        while (i < line.Length && char.IsWhiteSpace(line[i]))
            i++;
        int nameStart = i;
        while (i < line.Length && (char.IsLetterOrDigit(line[i]) || line[i] is '_' or '.'))
            i++;
        if (i == nameStart)
            return null;
        string name = line[nameStart..i];
        while (i < line.Length && char.IsWhiteSpace(line[i]))
            i++;
        if (i < line.Length && line[i] == '=')
            i++;
        while (i < line.Length && char.IsWhiteSpace(line[i]))
            i++;
        var value = new StringBuilder();
        if (i < line.Length && line[i] == '\'')
        {
            for (i++; i < line.Length; i++)
            {
                if (line[i] == '\'' && i + 1 < line.Length && line[i + 1] == '\'')
                    value.Append(line[++i]);
                else if (line[i] == '\\' && i + 1 < line.Length)
                    value.Append(line[++i]);
                else if (line[i] == '\'')
                    break;
                else
                    value.Append(line[i]);
            }
        }
        else
        {
            while (i < line.Length && line[i] != '#' && !char.IsWhiteSpace(line[i]))
                value.Append(line[i++]);
        }
        return (name, value.ToString());
    }
}
