using System.Text.RegularExpressions;

namespace KubeCaRotate.Nodes;

/// <summary>
/// Whether a systemd unit runs and since when, as
/// <c>env TZ=UTC systemctl show kubelet --property=ActiveState --property=ActiveEnterTimestamp</c> prints it: one
/// KEY=VALUE line per property, in systemd's order (ActiveState first), e.g. "ActiveState=inactive" then
/// "ActiveEnterTimestamp=Sun 2026-11-29 10:01:02 UTC". A property asked for by name is printed even when empty: a unit
/// that never became active prints "ActiveEnterTimestamp=" (older systemd "n/a"). ActiveEnterTimestamp stays after the
/// unit stops, so only ActiveState tells a stopped unit from a running one.
/// <para>A custom command may still print the bare timestamp (the output of <c>--value</c>, see
/// <see cref="SystemdTimestamp"/>): the unit's state is then not known and it counts as running, as before.</para>
/// </summary>
public static partial class SystemdUnitActivity
{
    public const string ActiveStateProperty = "ActiveState";
    public const string ActiveEnterTimestampProperty = "ActiveEnterTimestamp";

    /// <summary>systemd's ActiveState values (org.freedesktop.systemd1 Unit interface).</summary>
    public static readonly IReadOnlyList<string> ActiveStates = ["active", "reloading", "inactive", "failed", "activating", "deactivating", "maintenance", "refreshing"];

    /// <summary>
    /// The outcome: <see cref="ActiveState"/> (null when the output did not say), when the unit last became active
    /// (<see cref="Entered"/>: a time or never), or <see cref="Error"/>: why the output is not what systemctl prints.
    /// </summary>
    public readonly record struct Parsed(string? ActiveState, SystemdTimestamp.Parsed Entered, string? Error)
    {
        /// <summary>
        /// The unit's processes run: active, or active while reloading its configuration (reloading, refreshing).
        /// Every other state (inactive, failed, activating — e.g. waiting to restart after a crash —, deactivating,
        /// maintenance) means nothing of the unit is up. Unknown state (a bare timestamp) counts as running.
        /// </summary>
        public bool Running => ActiveState is null or "active" or "reloading" or "refreshing";
    }

    [GeneratedRegex(@"^(?<key>[A-Za-z][A-Za-z0-9]*)=(?<value>.*)$", RegexOptions.CultureInvariant)]
    private static partial Regex Property();

    /// <summary>Parses the whole output of the command: KEY=VALUE lines, or one bare timestamp.</summary>
    public static Parsed Parse(string output)
    {
        var lines = output.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0).ToList();
        if (lines.Count == 0 || !Property().IsMatch(lines[0]))
        {
            var bare = SystemdTimestamp.Parse(output);
            return new Parsed(null, bare, bare.Error);
        }

        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in lines)
        {
            if (Property().Match(line) is not { Success: true } m)
                return Refused($"'{Shorten(line)}' is not a KEY=VALUE line as systemctl show prints");
            var key = m.Groups["key"].Value;
            if (key is not (ActiveStateProperty or ActiveEnterTimestampProperty))
                return Refused($"it printed {key}, but only {ActiveStateProperty} and {ActiveEnterTimestampProperty} are read; ask systemctl show for those two properties");
            if (!values.TryAdd(key, m.Groups["value"].Value.Trim()))
                return Refused($"it printed {key} twice");
        }
        if (!values.TryGetValue(ActiveEnterTimestampProperty, out var entered))
            return Refused($"it printed no {ActiveEnterTimestampProperty} line; add --property={ActiveEnterTimestampProperty}");
        string? state = null;
        if (values.TryGetValue(ActiveStateProperty, out var s))
        {
            if (!ActiveStates.Contains(s))
                return Refused($"{ActiveStateProperty}='{Shorten(s)}' is not a systemd unit state ({string.Join(", ", ActiveStates)})");
            state = s;
        }
        var timestamp = SystemdTimestamp.Parse(entered);
        return timestamp.Error is { } error
            ? Refused($"{ActiveEnterTimestampProperty}: {error}")
            : new Parsed(state, timestamp, null);
    }

    private static Parsed Refused(string why) => new(null, default, why);

    private static string Shorten(string text) => text.Length > 80 ? text[..80] + "..." : text;
}
