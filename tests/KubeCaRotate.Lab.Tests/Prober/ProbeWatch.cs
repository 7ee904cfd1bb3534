using KubeCaRotate.Lab.Prober;
using KubeCaRotate.Lab.Topology;

namespace KubeCaRotate.Lab.Tests.Prober;

/// <summary>Waits on what the lab's prober (started by lab up) writes to DIR/probe.jsonl.</summary>
public sealed class ProbeWatch(LabTopology lab)
{
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(180);

    public ProbeLog Log { get; } = ProbeLog.Of(lab);

    public IReadOnlyList<ProbeRecord> Since(DateTimeOffset since) => Log.Read().Where(r => r.Time >= since).ToList();

    /// <summary>How long an edge may go unprobed while others are before it counts as gone (discovery runs every 5 s).</summary>
    private static readonly TimeSpan Gone = TimeSpan.FromSeconds(15);

    /// <summary>
    /// Waits until every edge still probed since <paramref name="since"/> has at least <paramref name="rounds"/> attempts
    /// after it, and returns them. An edge the prober stopped discovering (a replaced pod, an aggregated API server the
    /// prober can no longer list through an API server it does not trust) has no further attempts to wait for: it counts
    /// once nothing was recorded for it in <see cref="Gone"/> while other edges were.
    /// </summary>
    public async Task<IReadOnlyList<ProbeRecord>> RoundsAsync(DateTimeOffset since, int rounds)
    {
        IReadOnlyList<ProbeRecord> records = [];
        await UntilAsync($"{rounds} attempts on every edge still probed since {since:O}", () =>
        {
            records = Since(since);
            if (records.Count == 0) return false;
            var latest = records.Max(r => r.Time);
            var edges = records.GroupBy(r => r.Edge).ToList();
            return edges.Any(g => g.Count() >= rounds)
                && edges.All(g => g.Count() >= rounds || latest - g.Max(r => r.Time) > Gone);
        });
        return records;
    }

    /// <summary>Polls <paramref name="condition"/> every 250 ms until it holds; fails naming <paramref name="what"/> after <see cref="Patience"/>.</summary>
    public static async Task UntilAsync(string what, Func<bool> condition)
    {
        var deadline = DateTimeOffset.UtcNow + Patience;
        while (!condition())
        {
            if (DateTimeOffset.UtcNow > deadline) Assert.Fail($"Timed out after {Patience.TotalSeconds} s waiting for {what}.");
            await Task.Delay(250);
        }
    }

    public static string Describe(IEnumerable<ProbeRecord> records) =>
        string.Join("\n", records.Take(10).Select(r => $"{r.Time:HH:mm:ss.fff} {r.Edge} {r.Class}: {r.Error}"));
}
