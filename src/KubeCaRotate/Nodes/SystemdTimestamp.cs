using System.Globalization;
using System.Text.RegularExpressions;

namespace KubeCaRotate.Nodes;

/// <summary>
/// A wall-clock timestamp as <c>systemctl show --value</c> prints one (format_timestamp): "Sun 2026-11-29 10:01:02 UTC",
/// with microseconds under <c>--timestamp=us</c> ("Sun 2026-11-29 10:01:02.123456 UTC"), or "@1764410462" under
/// <c>--timestamp=unix</c>. A unit that never entered the state prints an empty line (older systemd) or "n/a".
/// The zone is the one systemctl formats in (TZ): only UTC/GMT or a numeric offset name one instant, so the inventory's
/// default command sets TZ=UTC; an abbreviation such as CET or EST is refused rather than guessed.
/// </summary>
public static partial class SystemdTimestamp
{
    /// <summary>The outcome: a time, "never" (no timestamp) or why the text is not a timestamp.</summary>
    public readonly record struct Parsed(DateTimeOffset? At, bool Never, string? Error);

    [GeneratedRegex(@"^(?:(?<dow>Mon|Tue|Wed|Thu|Fri|Sat|Sun) )?(?<date>\d{4}-\d{2}-\d{2}) (?<time>\d{2}:\d{2}:\d{2})(?<frac>\.\d{1,6})?(?: (?<zone>[A-Za-z][A-Za-z0-9+\-/_]*|[+-]\d{2}:?\d{2}))?$", RegexOptions.CultureInvariant)]
    private static partial Regex Pretty();

    [GeneratedRegex(@"^@(?<seconds>\d{1,12})(?<frac>\.\d{1,6})?$", RegexOptions.CultureInvariant)]
    private static partial Regex Unix();

    /// <summary>Parses the whole output of the command (one line; surrounding white space is ignored).</summary>
    public static Parsed Parse(string output)
    {
        var text = output.Trim();
        if (text.Length == 0 || text == "n/a") return new Parsed(null, true, null);
        if (text.Contains('\n', StringComparison.Ordinal))
            return new Parsed(null, false, $"expected one timestamp line, got {text.Split('\n').Length} lines");
        if (Unix().Match(text) is { Success: true } u)
        {
            var at = DateTimeOffset.FromUnixTimeSeconds(long.Parse(u.Groups["seconds"].Value, CultureInfo.InvariantCulture));
            return new Parsed(at.AddTicks(FractionTicks(u.Groups["frac"].Value)), false, null);
        }
        if (Pretty().Match(text) is not { Success: true } m)
            return new Parsed(null, false, $"'{Shorten(text)}' is not a systemd timestamp such as \"Sun 2026-11-29 10:01:02 UTC\"");
        if (!m.Groups["zone"].Success)
            return new Parsed(null, false, $"'{text}' names no time zone; run systemctl with TZ=UTC");
        var zone = m.Groups["zone"].Value;
        TimeSpan offset;
        if (zone is "UTC" or "GMT" or "Z" or "UCT") offset = TimeSpan.Zero;
        else if (zone[0] is '+' or '-')
        {
            var digits = zone[1..].Replace(":", "", StringComparison.Ordinal);
            offset = new TimeSpan(int.Parse(digits[..2], CultureInfo.InvariantCulture), int.Parse(digits[2..], CultureInfo.InvariantCulture), 0);
            if (zone[0] == '-') offset = -offset;
            if (offset.Duration() > TimeSpan.FromHours(14)) return new Parsed(null, false, $"'{text}' has an impossible UTC offset {zone}");
        }
        else
        {
            return new Parsed(null, false, $"'{text}' is in the time zone {zone}, whose abbreviation does not name one UTC offset; run systemctl with TZ=UTC (env TZ=UTC systemctl ...)");
        }
        if (!DateTime.TryParseExact($"{m.Groups["date"].Value} {m.Groups["time"].Value}", "yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture, DateTimeStyles.None, out var local))
            return new Parsed(null, false, $"'{text}' is not a valid date and time");
        var result = new DateTimeOffset(local, offset).AddTicks(FractionTicks(m.Groups["frac"].Value));
        if (m.Groups["dow"].Success && result.DayOfWeek.ToString()[..3] != m.Groups["dow"].Value)
            return new Parsed(null, false, $"'{text}' names {m.Groups["dow"].Value}, but {m.Groups["date"].Value} is a {result.DayOfWeek}");
        return new Parsed(result.ToUniversalTime(), false, null);
    }

    /// <summary>The format systemctl prints with TZ=UTC: "Sun 2026-11-29 10:01:02 UTC" (whole seconds).</summary>
    public static string Format(DateTimeOffset at) =>
        at.UtcDateTime.ToString("ddd yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) + " UTC";

    private static long FractionTicks(string fraction) =>
        fraction.Length == 0 ? 0 : long.Parse(fraction[1..].PadRight(7, '0'), CultureInfo.InvariantCulture);

    private static string Shorten(string text) => text.Length > 80 ? text[..80] + "..." : text;
}
