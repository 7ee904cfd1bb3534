using System.Collections.Concurrent;

namespace KubeCaRotate.Lab.ControllerManager;

/// <summary>
/// Spaces a workload's rollout batches: after a batch (pods created or deleted to replace old ones) the workload waits
/// <see cref="Pace"/> before the next, so a rollout over many replicas takes a time the lab can choose.
/// </summary>
public sealed class RolloutPacer(TimeSpan pace, TimeProvider time)
{
    private readonly ConcurrentDictionary<string, DateTimeOffset> _last = new();

    public TimeSpan Pace { get; } = pace;

    public bool MayAct(string workloadUid) => !_last.TryGetValue(workloadUid, out var last) || time.GetUtcNow() - last >= Pace;

    public void Acted(string workloadUid) => _last[workloadUid] = time.GetUtcNow();
}
