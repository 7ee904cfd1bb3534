using System.Globalization;

namespace KubeCaRotate.Cluster;

/// <summary>
/// Times as the API carries them: metav1.Time in whole seconds (startTime, lastHeartbeatTime), metav1.MicroTime in
/// microseconds (a Lease's renewTime). A time read from the API is compared with an instant of this tool only after
/// that instant is cut to the same precision, so "the same second" is never mistaken for "before".
/// </summary>
public static class ApiTime
{
    /// <summary>The instant as a UTC <see cref="DateTimeOffset"/>, whatever kind the client gave the <see cref="DateTime"/>.</summary>
    public static DateTimeOffset Utc(DateTime value) => value.Kind switch
    {
        DateTimeKind.Local => new DateTimeOffset(value.ToUniversalTime(), TimeSpan.Zero),
        _ => new DateTimeOffset(DateTime.SpecifyKind(value, DateTimeKind.Utc), TimeSpan.Zero),
    };

    /// <summary>Cut to the whole second (metav1.Time's precision).</summary>
    public static DateTimeOffset ToSecond(DateTimeOffset t) => new(t.UtcTicks - t.UtcTicks % TimeSpan.TicksPerSecond, TimeSpan.Zero);

    /// <summary>Cut to the microsecond (metav1.MicroTime's precision).</summary>
    public static DateTimeOffset ToMicrosecond(DateTimeOffset t) => new(t.UtcTicks - t.UtcTicks % 10, TimeSpan.Zero);

    /// <summary>
    /// An RFC 3339 time with a fractional part (e.g. the kubelet's kubernetes.io/config.seen, written as RFC3339Nano),
    /// or null when the text is absent, not a time, or has no fractional part (then it may have been cut to the second).
    /// </summary>
    public static DateTimeOffset? ParsePrecise(string? text)
    {
        if (string.IsNullOrEmpty(text) || !text.Contains('.', StringComparison.Ordinal)) return null;
        // .NET reads at most 7 fractional digits; Go writes up to 9: drop the 8th and 9th, which only cut further.
        var dot = text.IndexOf('.', StringComparison.Ordinal);
        var end = dot + 1;
        while (end < text.Length && char.IsAsciiDigit(text[end])) end++;
        var trimmed = end - dot - 1 > 7 ? text[..(dot + 8)] + text[end..] : text;
        return DateTimeOffset.TryParse(trimmed, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var t) ? t : null;
    }

    /// <summary>"06:12:00Z" for an API time in whole seconds.</summary>
    public static string Seconds(DateTimeOffset t) => t.UtcDateTime.ToString("HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    /// <summary>"45 s" or "5 minutes": how long a wait lasted, for messages.</summary>
    public static string Duration(TimeSpan t) =>
        t.TotalSeconds < 120 ? $"{t.TotalSeconds.ToString("0.#", CultureInfo.InvariantCulture)} s" : $"{t.TotalMinutes.ToString("0.#", CultureInfo.InvariantCulture)} minutes";

    /// <summary>"06:12:00.123Z" for an instant of this tool.</summary>
    public static string Millis(DateTimeOffset t) => t.UtcDateTime.ToString("HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
}
