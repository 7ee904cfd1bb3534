using System.Globalization;
using System.Text.RegularExpressions;

namespace KubeCaRotate.Lab.ControllerManager;

/// <summary>Durations as Kubernetes flags write them: Go's "8760h0m0s", "1m30s", "500ms", "2s".</summary>
public static partial class GoDuration
{
    public static TimeSpan Parse(string value, string flag)
    {
        var text = value.Trim();
        if (text == "0")
            return TimeSpan.Zero;
        var matches = Part().Matches(text);
        if (matches.Count == 0 || string.Concat(matches.Select(m => m.Value)) != text)
            throw new ArgumentException($"The flag --{flag} has '{value}', which is not a duration such as 8760h0m0s or 1s.");
        var total = TimeSpan.Zero;
        foreach (Match m in matches)
        {
            var n = double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
            total += m.Groups[2].Value switch
            {
                "h" => TimeSpan.FromHours(n),
                "m" => TimeSpan.FromMinutes(n),
                "s" => TimeSpan.FromSeconds(n),
                "ms" => TimeSpan.FromMilliseconds(n),
                "us" or "µs" => TimeSpan.FromMicroseconds(n),
                _ => TimeSpan.FromTicks((long)(n / 100)),
            };
        }
        return total;
    }

    [GeneratedRegex(@"(\d+(?:\.\d+)?)(h|ms|m|s|us|µs|ns)")]
    private static partial Regex Part();
}
