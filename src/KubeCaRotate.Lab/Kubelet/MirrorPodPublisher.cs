using System.Net;
using System.Text.Json.Nodes;

namespace KubeCaRotate.Lab.Kubelet;

/// <summary>
/// Mirror pods, as the kubelet keeps them for its static pods: kube-system/POD-NODE with the annotations
/// kubernetes.io/config.mirror and kubernetes.io/config.hash (the manifest's content hash) and
/// kubernetes.io/config.source=file, kubernetes.io/config.seen = when the kubelet first saw the manifest content (RFC 3339
/// with nanoseconds, as the kubelet writes it), status.startTime = when the pod's process started. A changed manifest
/// replaces the mirror pod (delete and create, as the kubelet does when the hash differs), a restarted process
/// updates its status, a removed manifest deletes it, a mirror pod someone deleted is made again. The kubelet deletes
/// mirror pods with grace period 0 and their uid as a precondition.
/// </summary>
public sealed class MirrorPodPublisher(string nodeName, string nodeAddress, ApiServerConnection api, TimeProvider time)
{
    public const string MirrorAnnotation = "kubernetes.io/config.mirror";
    public const string HashAnnotation = "kubernetes.io/config.hash";
    public const string SourceAnnotation = "kubernetes.io/config.source";
    public const string SeenAnnotation = "kubernetes.io/config.seen";

    /// <summary>Go's RFC3339Nano: fractional seconds without trailing zeros (none at all on a whole second), UTC.</summary>
    public static string SeenStamp(DateTimeOffset t) =>
        t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", System.Globalization.CultureInfo.InvariantCulture);

    public string MirrorName(StaticPodStatus pod) => $"{pod.PodName}-{nodeName}";

    /// <summary>Brings the mirror pods in line with the running static pods; <paramref name="existing"/> are the node's pods carrying the mirror annotation.</summary>
    public async Task SyncAsync(IReadOnlyList<StaticPodStatus> pods, IReadOnlyList<JsonObject> existing, CancellationToken ct)
    {
        var byName = existing.ToDictionary(p => p["metadata"]!["name"]!.GetValue<string>(), StringComparer.Ordinal);
        foreach (var pod in pods)
        {
            var name = MirrorName(pod);
            if (byName.TryGetValue(name, out var deleting) && deleting["metadata"]?["deletionTimestamp"] is not null)
            {
                // Someone deleted the mirror pod: the kubelet removes it at once and makes it again (the static pod runs on).
                byName.Remove(name);
                await DeleteAsync(deleting, ct).ConfigureAwait(false);
                await CreateAsync(pod, name, ct).ConfigureAwait(false);
                await PostStatusAsync(pod, name, ct).ConfigureAwait(false);
                continue;
            }
            if (byName.Remove(name, out var current))
            {
                var hash = current["metadata"]?["annotations"]?[MirrorAnnotation]?.GetValue<string>();
                var startTime = current["status"]?["startTime"]?.GetValue<string>();
                if (hash == pod.Hash && startTime == PodStatusDocument.Stamp(pod.StartedAt)) continue;
                if (hash != pod.Hash)
                {
                    await DeleteAsync(current, ct).ConfigureAwait(false);
                    await CreateAsync(pod, name, ct).ConfigureAwait(false);
                }
                await PostStatusAsync(pod, name, ct).ConfigureAwait(false);
                continue;
            }
            await CreateAsync(pod, name, ct).ConfigureAwait(false);
            await PostStatusAsync(pod, name, ct).ConfigureAwait(false);
        }
        foreach (var stale in byName.Values) await DeleteAsync(stale, ct).ConfigureAwait(false);
    }

    private async Task CreateAsync(StaticPodStatus pod, string name, CancellationToken ct)
    {
        var body = new JsonObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "Pod",
            ["metadata"] = new JsonObject
            {
                ["name"] = name,
                ["namespace"] = "kube-system",
                ["labels"] = new JsonObject { ["component"] = pod.PodName, ["tier"] = "control-plane" },
                ["annotations"] = new JsonObject
                {
                    [MirrorAnnotation] = pod.Hash, [HashAnnotation] = pod.Hash, [SourceAnnotation] = "file",
                    [SeenAnnotation] = SeenStamp(pod.SeenAt ?? time.GetUtcNow()),
                },
            },
            ["spec"] = new JsonObject
            {
                ["nodeName"] = nodeName,
                ["hostNetwork"] = true,
                ["priorityClassName"] = "system-node-critical",
                ["containers"] = new JsonArray(new JsonObject { ["name"] = pod.PodName, ["image"] = pod.Image ?? "" }),
            },
        };
        var reply = await api.PostAsync("api/v1/namespaces/kube-system/pods", body, ct).ConfigureAwait(false);
        if (!reply.Ok && reply.Status != HttpStatusCode.Conflict)
            throw new InvalidOperationException($"The kubelet of {nodeName} could not create mirror pod kube-system/{name}: {reply.Describe()}.");
    }

    private async Task PostStatusAsync(StaticPodStatus pod, string name, CancellationToken ct)
    {
        var path = $"api/v1/namespaces/kube-system/pods/{name}/status";
        var patch = new JsonObject { ["status"] = PodStatusDocument.Running(pod.StartedAt, nodeAddress, true, null, pod.PodName, pod.Image ?? "", pod.StartedAt) };
        var reply = await api.MergePatchAsync(path, patch, ct).ConfigureAwait(false);
        if (!reply.Ok)
            throw new InvalidOperationException($"The kubelet of {nodeName} could not update the status of mirror pod kube-system/{name}: {reply.Describe()}.");
    }

    /// <summary>Deletes a mirror pod as the kubelet does: grace period 0 (nothing of it runs) and its uid as a precondition.</summary>
    private async Task DeleteAsync(JsonObject mirror, CancellationToken ct)
    {
        var name = mirror["metadata"]!["name"]!.GetValue<string>();
        var uid = mirror["metadata"]?["uid"]?.GetValue<string>() ?? "";
        var reply = await api.DeleteStoppedPodAsync("kube-system", name, uid, ct).ConfigureAwait(false);
        if (!reply.Ok && reply.Status is not (HttpStatusCode.NotFound or HttpStatusCode.Conflict))
            throw new InvalidOperationException($"The kubelet of {nodeName} could not delete mirror pod kube-system/{name}: {reply.Describe()}.");
    }
}
