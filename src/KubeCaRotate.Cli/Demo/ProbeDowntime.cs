using KubeCaRotate.Lab.Prober;

namespace KubeCaRotate.Cli.Demo;

/// <summary>
/// The demo's downtime figure: the longest interval during which every edge of one kind that the prober had tried was
/// failing (its latest attempt failed) — e.g. no API server reachable through the HA endpoint, or no kubelet able to
/// reach its API server. One API server restarting while the others answer is not downtime; a single edge kind
/// (the HA endpoint) failing is. The interval runs from the attempt that made the kind fail entirely to the next
/// successful attempt of that kind (or the last attempt in the window). Zero when no kind ever failed entirely.
/// </summary>
public sealed record ProbeDowntime(TimeSpan Longest, EdgeKind? Kind, DateTimeOffset? From)
{
    public static ProbeDowntime Measure(IEnumerable<ProbeRecord> records, DateTimeOffset? since = null, DateTimeOffset? until = null)
    {
        var longest = new ProbeDowntime(TimeSpan.Zero, null, null);
        var window = records.Where(r => (since is null || r.Time >= since) && (until is null || r.Time < until));
        foreach (var kind in window.GroupBy(r => r.Kind))
        {
            var latest = new Dictionary<string, bool>(StringComparer.Ordinal);
            DateTimeOffset? downSince = null;
            DateTimeOffset last = default;
            foreach (var r in kind.OrderBy(r => r.Time))
            {
                latest[r.Edge] = r.Ok;
                last = r.Time;
                var down = latest.Values.All(ok => !ok);
                if (down && downSince is null)
                {
                    downSince = r.Time;
                }
                else if (!down && downSince is { } from)
                {
                    longest = Longer(longest, new ProbeDowntime(r.Time - from, kind.Key, from));
                    downSince = null;
                }
            }
            if (downSince is { } open) longest = Longer(longest, new ProbeDowntime(last - open, kind.Key, open));
        }
        return longest;
    }

    private static ProbeDowntime Longer(ProbeDowntime a, ProbeDowntime b) => b.Longest > a.Longest || a.Kind is null && b.Kind is not null ? b : a;
}
