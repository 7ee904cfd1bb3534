using k8s.Models;

namespace KubeCaRotate.Cluster;

/// <summary>
/// What a static pod's mirror pod says about when the pod last started: the latest start of its running containers
/// (state.running.startedAt, which a container restart moves; status.startTime when no container reports one), the
/// kubelet's kubernetes.io/config.seen (when it first saw the manifest content it runs, before starting it; with
/// sub-second precision) and the Ready condition.
/// </summary>
public sealed record MirrorPodStart(string Name, DateTimeOffset? StartedAt, DateTimeOffset? SeenAt, bool Ready, string? Phase)
{
    public const string SeenAnnotation = "kubernetes.io/config.seen";

    public static MirrorPodStart From(V1Pod pod)
    {
        var name = $"{pod.Metadata?.NamespaceProperty}/{pod.Metadata?.Name}";
        var containerStarts = (pod.Status?.ContainerStatuses ?? [])
            .Select(c => c.State?.Running?.StartedAt)
            .OfType<DateTime>()
            .Select(ApiTime.Utc)
            .ToList();
        DateTimeOffset? started = containerStarts.Count > 0 ? containerStarts.Max()
            : pod.Status?.StartTime is { } start && (pod.Status.ContainerStatuses is null || pod.Status.ContainerStatuses.Count == 0) ? ApiTime.Utc(start) : null;
        var seen = ApiTime.ParsePrecise(pod.Metadata?.Annotations?.TryGetValue(SeenAnnotation, out var s) == true ? s : null);
        var ready = pod.Status?.Conditions?.Any(c => c.Type == "Ready" && c.Status == "True") == true;
        return new MirrorPodStart(name, started, seen, ready, pod.Status?.Phase);
    }

    /// <summary>
    /// Whether the pod started after <paramref name="after"/> (taken just before the change that restarts it). The API
    /// gives starts in whole seconds, so a start in a later second is after it; a start in the same second is after it
    /// only when the kubelet saw the pod's manifest content after <paramref name="after"/> (config.seen, which a real
    /// kubelet and the lab write with sub-second precision): a pod that started in that second before the change must
    /// not count.
    /// </summary>
    public bool StartedAfter(DateTimeOffset after)
    {
        if (StartedAt is not { } started) return false;
        var second = ApiTime.ToSecond(after);
        if (started > second) return true;
        if (started < second) return false;
        return SeenAt is { } seen && seen >= after;
    }

    /// <summary>What this pod shows, for a message about a restart that did not happen.</summary>
    public string Describe(DateTimeOffset after)
    {
        if (StartedAt is not { } started)
            return $"mirror pod {Name} has no running container (phase {Phase ?? "unknown"})";
        if (!StartedAfter(after))
        {
            return ApiTime.ToSecond(after) == started
                ? $"mirror pod {Name} started at {ApiTime.Seconds(started)}, the same second as the change at {ApiTime.Millis(after)}, and its {SeenAnnotation} ({(SeenAt is { } seen ? ApiTime.Millis(seen) : "absent or whole seconds")}) does not show the kubelet took the new manifest after the change"
                : $"mirror pod {Name} still started at {ApiTime.Seconds(started)}, before the change at {ApiTime.Millis(after)}";
        }
        return Ready ? $"mirror pod {Name} restarted at {ApiTime.Seconds(started)} and is Ready" : $"mirror pod {Name} restarted at {ApiTime.Seconds(started)} but is not Ready";
    }
}
