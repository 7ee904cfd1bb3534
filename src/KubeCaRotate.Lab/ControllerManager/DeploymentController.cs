using System.Text.Json.Nodes;
using static KubeCaRotate.Lab.ControllerManager.WorkloadPods;

namespace KubeCaRotate.Lab.ControllerManager;

/// <summary>
/// The deployment controller without ReplicaSets: pods named NAME-HASH-xxxxx with label pod-template-hash are owned by
/// the Deployment directly. A changed template is rolled out within maxSurge/maxUnavailable, one paced batch at a
/// time, counting a new pod only once it is Running and Ready; the status carries what `kubectl rollout status` reads.
/// Pods being deleted are not active (as controller.FilterActivePods): they count nowhere, in the rollout or the status,
/// though they run until their kubelet has stopped them.
/// </summary>
public sealed class DeploymentController(KubeconfigClient client, RolloutPacer pacer, TimeProvider time, TextWriter log)
{
    public async Task SyncAsync(IReadOnlyList<JsonObject> deployments, ILookup<string, JsonObject> podsByOwner, CancellationToken ct)
    {
        foreach (var d in deployments)
        {
            try
            {
                await SyncOneAsync(d, podsByOwner[Uid(d)].Where(p => !IsTerminating(p)).ToList(), ct).ConfigureAwait(false);
            }
            catch (ApiCallException e) when (e.IsConflict || e.IsNotFound || e.IsAlreadyExists)
            {
            }
        }
    }

    private async Task SyncOneAsync(JsonObject d, List<JsonObject> owned, CancellationToken ct)
    {
        var ns = Namespace(d);
        var name = Name(d);
        var spec = d["spec"] as JsonObject ?? new JsonObject();
        var desired = spec["replicas"]?.GetValue<int>() ?? 1;
        var hash = TemplateHash(spec["template"]);
        var recreate = Str(spec["strategy"]?["type"]) == "Recreate";
        var maxSurge = recreate ? 0 : Scaled(spec["strategy"]?["rollingUpdate"]?["maxSurge"], "25%", desired, roundUp: true);
        var maxUnavailable = recreate ? desired : Scaled(spec["strategy"]?["rollingUpdate"]?["maxUnavailable"], "25%", desired, roundUp: false);
        if (maxSurge == 0 && maxUnavailable == 0)
            maxUnavailable = 1;

        foreach (var finished in owned.Where(IsFinished).ToList())
        {
            await client.DeleteAsync($"/api/v1/namespaces/{ns}/pods/{Name(finished)}", ct).ConfigureAwait(false);
            owned.Remove(finished);
        }
        var fresh = owned.Where(p => Label(p, "pod-template-hash") == hash).ToList();
        var old = owned.Except(fresh).ToList();

        if (pacer.MayAct(Uid(d)))
        {
            var acted = false;
            if (recreate)
            {
                foreach (var p in old)
                    await client.DeleteAsync($"/api/v1/namespaces/{ns}/pods/{Name(p)}", ct).ConfigureAwait(false);
                acted = old.Count > 0;
                if (old.Count == 0 && fresh.Count < desired)
                    acted |= await CreateAsync(d, hash, desired - fresh.Count, ct).ConfigureAwait(false) > 0;
                old.Clear();
            }
            else
            {
                // scale the new pods up within the surge
                var room = Math.Min(desired - fresh.Count, desired + maxSurge - (fresh.Count + old.Count));
                if (room > 0)
                    acted |= await CreateAsync(d, hash, room, ct).ConfigureAwait(false) > 0;
                // too many new pods (scaled down): remove the not-ready ones first
                foreach (var extra in fresh.OrderBy(IsReady).Take(Math.Max(0, fresh.Count - desired)).ToList())
                {
                    await client.DeleteAsync($"/api/v1/namespaces/{ns}/pods/{Name(extra)}", ct).ConfigureAwait(false);
                    fresh.Remove(extra);
                    acted = true;
                }
                // old pods: the unhealthy ones go at once, ready ones only while enough pods stay available
                var available = fresh.Count(IsReady) + old.Count(IsReady);
                var removable = available - (desired - maxUnavailable);
                foreach (var p in old.OrderBy(IsReady).ToList())
                {
                    if (IsReady(p))
                    {
                        if (removable <= 0)
                            break;
                        removable--;
                    }
                    await client.DeleteAsync($"/api/v1/namespaces/{ns}/pods/{Name(p)}", ct).ConfigureAwait(false);
                    old.Remove(p);
                    acted = true;
                }
            }
            if (acted)
                pacer.Acted(Uid(d));
        }

        await WriteStatusAsync(d, desired, maxUnavailable, hash, fresh, old, ct).ConfigureAwait(false);
    }

    private async Task<int> CreateAsync(JsonObject d, string hash, int count, CancellationToken ct)
    {
        var ns = Namespace(d);
        for (var i = 0; i < count; i++)
        {
            var pod = NewPod(d, "Deployment", new Dictionary<string, string> { ["pod-template-hash"] = hash }, null, $"{Name(d)}-{hash}-");
            var created = await client.CreateAsync($"/api/v1/namespaces/{ns}/pods", pod, ct).ConfigureAwait(false);
            log.WriteLine($"{time.GetUtcNow():O} deployment {ns}/{Name(d)}: created pod {Name(created!)}");
        }
        return count;
    }

    private async Task WriteStatusAsync(JsonObject d, int desired, int maxUnavailable, string hash, List<JsonObject> fresh, List<JsonObject> old, CancellationToken ct)
    {
        var total = fresh.Count + old.Count;
        var ready = fresh.Count(IsReady) + old.Count(IsReady);
        var complete = fresh.Count == desired && old.Count == 0 && fresh.All(IsReady);
        var current = d["status"] as JsonObject;
        var rs = $"{Name(d)}-{hash}";
        var status = new JsonObject
        {
            ["observedGeneration"] = Generation(d),
            ["replicas"] = total,
            ["updatedReplicas"] = fresh.Count,
            ["readyReplicas"] = ready,
            ["availableReplicas"] = ready,
            ["unavailableReplicas"] = Math.Max(0, total - ready),
            ["conditions"] = Conditions(current?["conditions"] as JsonArray,
            [
                ready >= desired - maxUnavailable
                    ? ("Available", true, "MinimumReplicasAvailable", "Deployment has minimum availability.")
                    : ("Available", false, "MinimumReplicasUnavailable", "Deployment does not have minimum availability."),
                complete
                    ? ("Progressing", true, "NewReplicaSetAvailable", $"ReplicaSet \"{rs}\" has successfully progressed.")
                    : ("Progressing", true, "ReplicaSetUpdated", $"ReplicaSet \"{rs}\" is progressing."),
            ], time.GetUtcNow(), withUpdateTime: true),
        };
        foreach (var zero in new[] { "readyReplicas", "availableReplicas", "unavailableReplicas", "updatedReplicas", "replicas" })
            if (status[zero]!.GetValue<int>() == 0)
                status.Remove(zero); // omitempty, as the real status
        if (JsonNode.DeepEquals(status, current))
            return;
        var updated = (JsonObject)d.DeepClone();
        updated["status"] = status;
        await client.ReplaceAsync($"/apis/apps/v1/namespaces/{Namespace(d)}/deployments/{Name(d)}/status", updated, ct).ConfigureAwait(false);
    }
}
