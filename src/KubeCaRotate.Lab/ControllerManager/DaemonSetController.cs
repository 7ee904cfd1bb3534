using System.Text.Json.Nodes;
using KubeCaRotate.Lab.Scheduler;
using static KubeCaRotate.Lab.ControllerManager.WorkloadPods;

namespace KubeCaRotate.Lab.ControllerManager;

/// <summary>
/// The daemonset controller: one pod per eligible node (node selector matches, NoSchedule/NoExecute taints tolerated),
/// bound with spec.nodeName. A changed template is rolled node by node within maxUnavailable (default 1), paced, and the
/// replacement on a node is created as soon as the old pod is gone: a pod being deleted still holds its node until its
/// kubelet has stopped it and the object is gone, and is not deleted again. Status as `kubectl rollout status` reads it.
/// </summary>
public sealed class DaemonSetController(KubeconfigClient client, RolloutPacer pacer, TimeProvider time, TextWriter log)
{
    public async Task SyncAsync(IReadOnlyList<JsonObject> daemonSets, ILookup<string, JsonObject> podsByOwner, IReadOnlyList<JsonObject> nodes, CancellationToken ct)
    {
        foreach (var ds in daemonSets)
        {
            try
            {
                await SyncOneAsync(ds, podsByOwner[Uid(ds)].ToList(), nodes, ct).ConfigureAwait(false);
            }
            catch (ApiCallException e) when (e.IsConflict || e.IsNotFound || e.IsAlreadyExists)
            {
            }
        }
    }

    private async Task SyncOneAsync(JsonObject ds, List<JsonObject> owned, IReadOnlyList<JsonObject> nodes, CancellationToken ct)
    {
        var ns = Namespace(ds);
        var template = ds["spec"]?["template"] as JsonObject ?? new JsonObject();
        var podSpec = template["spec"] as JsonObject ?? new JsonObject();
        var hash = TemplateHash(template);
        var eligible = nodes.Where(n => TaintToleration.MatchesNodeSelector(podSpec, n) && TaintToleration.Tolerates(podSpec, n)).Select(Name).ToHashSet();
        var maxUnavailable = Math.Max(1, Scaled(ds["spec"]?["updateStrategy"]?["rollingUpdate"]?["maxUnavailable"], "1", eligible.Count, roundUp: true));
        var onDelete = Str(ds["spec"]?["updateStrategy"]?["type"]) == "OnDelete";

        var held = owned.Where(IsTerminating).Select(p => Str(p["spec"]?["nodeName"])).ToHashSet();
        owned = owned.Where(p => !IsTerminating(p)).ToList();
        foreach (var p in owned.Where(p => IsFinished(p) || !eligible.Contains(Str(p["spec"]?["nodeName"]))).ToList())
        {
            await client.DeleteAsync($"/api/v1/namespaces/{ns}/pods/{Name(p)}", ct).ConfigureAwait(false);
            owned.Remove(p);
        }
        var byNode = owned.GroupBy(p => Str(p["spec"]?["nodeName"])).ToDictionary(g => g.Key, g => g.ToList());
        foreach (var (node, pods) in byNode.Where(kv => kv.Value.Count > 1).ToList())
        {
            // more than one pod on a node: keep a ready, current one
            var keep = pods.OrderByDescending(p => Label(p, "controller-revision-hash") == hash).ThenByDescending(IsReady).First();
            foreach (var extra in pods.Where(p => p != keep))
            {
                await client.DeleteAsync($"/api/v1/namespaces/{ns}/pods/{Name(extra)}", ct).ConfigureAwait(false);
                owned.Remove(extra);
            }
            byNode[node] = [keep];
        }
        foreach (var node in eligible.Where(n => !byNode.ContainsKey(n) && !held.Contains(n)).Order())
        {
            var pod = NewPod(ds, "DaemonSet", new Dictionary<string, string> { ["controller-revision-hash"] = hash, ["pod-template-generation"] = Generation(ds).ToString(System.Globalization.CultureInfo.InvariantCulture) },
                null, Name(ds) + "-", spec => spec["nodeName"] = node);
            var created = await client.CreateAsync($"/api/v1/namespaces/{ns}/pods", pod, ct).ConfigureAwait(false);
            log.WriteLine($"{time.GetUtcNow():O} daemonset {ns}/{Name(ds)}: created pod {Name(created!)} on {node}");
        }

        var old = owned.Where(p => Label(p, "controller-revision-hash") != hash).ToList();
        if (!onDelete && old.Count > 0 && pacer.MayAct(Uid(ds)))
        {
            var unavailable = eligible.Count - owned.Count(IsReady);
            var acted = false;
            foreach (var p in old.OrderBy(IsReady).ThenBy(p => Str(p["spec"]?["nodeName"]), StringComparer.Ordinal))
            {
                if (IsReady(p))
                {
                    if (unavailable >= maxUnavailable)
                        break;
                    unavailable++;
                }
                await client.DeleteAsync($"/api/v1/namespaces/{ns}/pods/{Name(p)}", ct).ConfigureAwait(false);
                owned.Remove(p);
                acted = true;
            }
            if (acted)
                pacer.Acted(Uid(ds));
        }

        var ready = owned.Count(IsReady);
        var updated = owned.Count(p => Label(p, "controller-revision-hash") == hash);
        var status = new JsonObject
        {
            ["currentNumberScheduled"] = owned.Select(p => Str(p["spec"]?["nodeName"])).Concat(held.Where(eligible.Contains)).Distinct().Count(),
            ["desiredNumberScheduled"] = eligible.Count,
            ["numberMisscheduled"] = 0,
            ["numberReady"] = ready,
            ["observedGeneration"] = Generation(ds),
            ["updatedNumberScheduled"] = updated,
            ["numberAvailable"] = ready,
            ["numberUnavailable"] = Math.Max(0, eligible.Count - ready),
        };
        foreach (var zero in new[] { "updatedNumberScheduled", "numberAvailable", "numberUnavailable" })
            if (status[zero]!.GetValue<int>() == 0)
                status.Remove(zero);
        if (JsonNode.DeepEquals(status, ds["status"]))
            return;
        var copy = (JsonObject)ds.DeepClone();
        copy["status"] = status;
        await client.ReplaceAsync($"/apis/apps/v1/namespaces/{ns}/daemonsets/{Name(ds)}/status", copy, ct).ConfigureAwait(false);
    }
}
