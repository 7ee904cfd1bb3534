using System.Globalization;
using System.Text.Json.Nodes;
using static KubeCaRotate.Lab.ControllerManager.WorkloadPods;

namespace KubeCaRotate.Lab.ControllerManager;

/// <summary>
/// The statefulset controller with OrderedReady pods NAME-0..N-1: a pod is created only when all lower ordinals are
/// Ready; a changed template is rolled from the highest ordinal down, one pod at a time (paced), above the partition.
/// Revisions are NAME-HASH in label controller-revision-hash; status as `kubectl rollout status` reads it. A pod being
/// deleted holds its ordinal (its name) until the object is gone: the controller waits for it and counts it nowhere.
/// </summary>
public sealed class StatefulSetController(KubeconfigClient client, RolloutPacer pacer, TimeProvider time, TextWriter log)
{
    public async Task SyncAsync(IReadOnlyList<JsonObject> statefulSets, ILookup<string, JsonObject> podsByOwner, CancellationToken ct)
    {
        foreach (var sts in statefulSets)
        {
            try
            {
                await SyncOneAsync(sts, podsByOwner[Uid(sts)].ToList(), ct).ConfigureAwait(false);
            }
            catch (ApiCallException e) when (e.IsConflict || e.IsNotFound || e.IsAlreadyExists)
            {
            }
        }
    }

    private async Task SyncOneAsync(JsonObject sts, List<JsonObject> owned, CancellationToken ct)
    {
        var ns = Namespace(sts);
        var name = Name(sts);
        var spec = sts["spec"] as JsonObject ?? new JsonObject();
        var desired = spec["replicas"]?.GetValue<int>() ?? 1;
        var revision = $"{name}-{TemplateHash(spec["template"])}";
        var partition = spec["updateStrategy"]?["rollingUpdate"]?["partition"]?.GetValue<int>() ?? 0;
        var onDelete = Str(spec["updateStrategy"]?["type"]) == "OnDelete";
        var byOrdinal = new Dictionary<int, JsonObject>();
        foreach (var p in owned)
        {
            if (Name(p).StartsWith(name + "-", StringComparison.Ordinal) && int.TryParse(Name(p)[(name.Length + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var ordinal))
                byOrdinal[ordinal] = p;
        }

        foreach (var (ordinal, p) in byOrdinal.Where(kv => IsFinished(kv.Value) || kv.Key >= desired).OrderByDescending(kv => kv.Key).ToList())
        {
            if (IsTerminating(p))
            {
                if (ordinal >= desired)
                    break; // scale down one at a time: wait until this one is gone
                continue;
            }
            await client.DeleteAsync($"/api/v1/namespaces/{ns}/pods/{Name(p)}", ct).ConfigureAwait(false);
            byOrdinal.Remove(ordinal);
            if (ordinal >= desired)
                break; // scale down one at a time
        }
        for (var i = 0; i < desired; i++)
        {
            if (byOrdinal.TryGetValue(i, out var existing))
            {
                if (IsTerminating(existing) || !IsReady(existing))
                    break; // OrderedReady: wait for this one (a terminating one must be gone before it is made again)
                continue;
            }
            var podName = $"{name}-{i}";
            var podRevision = i < partition && Str(sts["status"]?["currentRevision"]) is { Length: > 0 } current ? current : revision;
            var pod = NewPod(sts, "StatefulSet", new Dictionary<string, string>
            {
                ["controller-revision-hash"] = podRevision,
                ["statefulset.kubernetes.io/pod-name"] = podName,
                ["apps.kubernetes.io/pod-index"] = i.ToString(CultureInfo.InvariantCulture),
            }, podName, null, s =>
            {
                s["hostname"] = podName;
                if (Str(spec["serviceName"]) is { Length: > 0 } service)
                    s["subdomain"] = service;
            });
            await client.CreateAsync($"/api/v1/namespaces/{ns}/pods", pod, ct).ConfigureAwait(false);
            log.WriteLine($"{time.GetUtcNow():O} statefulset {ns}/{name}: created pod {podName}");
            break; // one at a time
        }

        var allReady = byOrdinal.Count == desired && byOrdinal.Values.All(p => IsReady(p) && !IsTerminating(p));
        if (!onDelete && allReady && pacer.MayAct(Uid(sts)))
        {
            var stale = byOrdinal.Where(kv => kv.Key >= partition && Label(kv.Value, "controller-revision-hash") != revision).OrderByDescending(kv => kv.Key).FirstOrDefault();
            if (stale.Value is not null)
            {
                await client.DeleteAsync($"/api/v1/namespaces/{ns}/pods/{Name(stale.Value)}", ct).ConfigureAwait(false);
                byOrdinal.Remove(stale.Key);
                pacer.Acted(Uid(sts));
                log.WriteLine($"{time.GetUtcNow():O} statefulset {ns}/{name}: replacing pod {Name(stale.Value)} for revision {revision}");
            }
        }

        var pods = byOrdinal.Values.Where(p => !IsTerminating(p)).ToList();
        var updatedCount = pods.Count(p => Label(p, "controller-revision-hash") == revision);
        var currentRevision = Str(sts["status"]?["currentRevision"]);
        if (currentRevision.Length == 0 || (updatedCount == desired && pods.All(IsReady)))
            currentRevision = revision;
        var ready = pods.Count(IsReady);
        var status = new JsonObject
        {
            ["observedGeneration"] = Generation(sts),
            ["replicas"] = pods.Count,
            ["readyReplicas"] = ready,
            ["currentReplicas"] = pods.Count(p => Label(p, "controller-revision-hash") == currentRevision),
            ["updatedReplicas"] = updatedCount,
            ["currentRevision"] = currentRevision,
            ["updateRevision"] = revision,
            ["collisionCount"] = 0,
            ["availableReplicas"] = ready,
        };
        if (JsonNode.DeepEquals(status, sts["status"]))
            return;
        var copy = (JsonObject)sts.DeepClone();
        copy["status"] = status;
        await client.ReplaceAsync($"/apis/apps/v1/namespaces/{ns}/statefulsets/{name}/status", copy, ct).ConfigureAwait(false);
    }
}
