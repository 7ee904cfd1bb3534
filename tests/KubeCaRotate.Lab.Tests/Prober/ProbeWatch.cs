using KubeCaRotate.Lab.Prober;
using KubeCaRotate.Lab.Topology;

namespace KubeCaRotate.Lab.Tests.Prober;

/// <summary>Waits on what the lab's prober (started by lab up) writes to DIR/probe.jsonl.</summary>
public sealed class ProbeWatch(LabTopology lab)
{
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(180);

    public ProbeLog Log { get; } = ProbeLog.Of(lab);

    public IReadOnlyList<ProbeRecord> Since(DateTimeOffset since) => Log.Read().Where(r => r.Time >= since).ToList();

    /// <summary>Waits until every edge seen since <paramref name="since"/> has at least <paramref name="rounds"/> attempts after it, and returns them.</summary>
    public async Task<IReadOnlyList<ProbeRecord>> RoundsAsync(DateTimeOffset since, int rounds)
    {
        IReadOnlyList<ProbeRecord> records = [];
        await UntilAsync($"{rounds} attempts on every edge since {since:O}", () =>
        {
            records = Since(since);
            return records.Count > 0 && records.GroupBy(r => r.Edge).All(g => g.Count() >= rounds);
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
