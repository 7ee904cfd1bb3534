using System.Text.Json.Nodes;
using k8s;
using k8s.Models;

namespace KubeCaRotate.Cluster;

/// <summary>
/// The pods of a workload that do not carry its newest pod template, terminating ones included. `kubectl rollout
/// status` does not wait for these: a Deployment's, ReplicaSet's and StatefulSet's status counts no pod that is being
/// deleted, yet such a pod runs on (its containers get up to terminationGracePeriodSeconds to stop) with the trust it
/// loaded at its start. The newest template is, for a Deployment, the pod-template-hash of its new ReplicaSet (the one
/// whose template equals the Deployment's, apart from that label, as kubectl finds it); for a DaemonSet, the
/// controller-revision-hash of its newest ControllerRevision; for a StatefulSet, status.updateRevision. A Deployment or
/// DaemonSet that owns its pods without those objects is judged by its active pods, which after a finished rollout all
/// carry the new template.
/// </summary>
public sealed record OldTemplatePods(IReadOnlyList<V1Pod> Pods, string? Undetermined)
{
    public const string PodTemplateHash = "pod-template-hash";
    public const string ControllerRevisionHash = "controller-revision-hash";

    /// <summary>True when no pod of an earlier template is left.</summary>
    public bool None => Undetermined is null && Pods.Count == 0;

    /// <summary>What is still there, for a wait's progress and its timeout message.</summary>
    public string Describe()
    {
        if (Undetermined is not null) return Undetermined;
        var named = Pods.Take(5).Select(p =>
            $"{p.Namespace()}/{p.Name()} ({(p.Metadata?.DeletionTimestamp is null ? "running" : "terminating")}{(string.IsNullOrEmpty(p.Spec?.NodeName) ? "" : " on " + p.Spec.NodeName)})");
        var more = Pods.Count > 5 ? $" and {Pods.Count - 5} more" : "";
        return $"{Pods.Count} pod{(Pods.Count == 1 ? "" : "s")} of an earlier pod template still exist{(Pods.Count == 1 ? "s" : "")}: {string.Join(", ", named)}{more}";
    }

    public static async Task<OldTemplatePods> FindAsync(ClusterApi api, object workload, CancellationToken ct)
    {
        switch (workload)
        {
            case V1Deployment d:
            {
                var ns = d.Namespace();
                var selector = SelectorText(d.Spec?.Selector);
                var replicaSets = (await api.ListAllAsync($"list the ReplicaSets of Deployment {ns}/{d.Name()}", async (c, limit, t) =>
                {
                    var l = await api.Client.AppsV1.ListNamespacedReplicaSetAsync(ns, labelSelector: selector, continueParameter: c, limit: limit, cancellationToken: t).ConfigureAwait(false);
                    return (l.Items, l.Metadata?.ContinueProperty);
                }, ct).ConfigureAwait(false)).Where(rs => ControllerUid(rs.Metadata) == d.Uid()).ToList();
                var owners = replicaSets.Select(rs => rs.Uid()).Append(d.Uid()).ToHashSet(StringComparer.Ordinal);
                var pods = (await PodsAsync(api, ns, selector, $"Deployment {ns}/{d.Name()}", ct).ConfigureAwait(false))
                    .Where(p => ControllerUid(p.Metadata) is { } uid && owners.Contains(uid)).ToList();
                var newest = replicaSets.FirstOrDefault(rs => EqualIgnoringHash(rs.Spec?.Template, d.Spec?.Template));
                var hash = Label(newest?.Spec?.Template?.Metadata, PodTemplateHash) ?? Label(newest?.Metadata, PodTemplateHash);
                return Judge(pods, PodTemplateHash, hash, newest is not null);
            }
            case V1DaemonSet ds:
            {
                var ns = ds.Namespace();
                var selector = SelectorText(ds.Spec?.Selector);
                IReadOnlyList<V1ControllerRevision> revisions;
                try
                {
                    revisions = (await api.ListAllAsync($"list the ControllerRevisions of DaemonSet {ns}/{ds.Name()}", async (c, limit, t) =>
                    {
                        var l = await api.Client.AppsV1.ListNamespacedControllerRevisionAsync(ns, labelSelector: selector, continueParameter: c, limit: limit, cancellationToken: t).ConfigureAwait(false);
                        return (l.Items, l.Metadata?.ContinueProperty);
                    }, ct).ConfigureAwait(false)).Where(r => ControllerUid(r.Metadata) == ds.Uid()).ToList();
                }
                catch (ClusterApiException e) when (e.IsNotFound)
                {
                    revisions = []; // an API without ControllerRevisions
                }
                var newest = revisions.OrderByDescending(r => r.Revision).FirstOrDefault();
                var pods = (await PodsAsync(api, ns, selector, $"DaemonSet {ns}/{ds.Name()}", ct).ConfigureAwait(false))
                    .Where(p => ControllerUid(p.Metadata) == ds.Uid()).ToList();
                return Judge(pods, ControllerRevisionHash, Label(newest?.Metadata, ControllerRevisionHash), newest is not null);
            }
            case V1StatefulSet sts:
            {
                var ns = sts.Namespace();
                var selector = SelectorText(sts.Spec?.Selector);
                var pods = (await PodsAsync(api, ns, selector, $"StatefulSet {ns}/{sts.Name()}", ct).ConfigureAwait(false))
                    .Where(p => ControllerUid(p.Metadata) == sts.Uid()).ToList();
                return Judge(pods, ControllerRevisionHash, sts.Status?.UpdateRevision, !string.IsNullOrEmpty(sts.Status?.UpdateRevision));
            }
            default:
                throw new ArgumentException($"{workload.GetType().Name} is not a Deployment, DaemonSet or StatefulSet.", nameof(workload));
        }
    }

    /// <summary>
    /// The pods whose <paramref name="label"/> is not <paramref name="newest"/>. Without a known newest template, the
    /// one the active pods share (after a finished rollout they all carry it); with none active, every pod left is old.
    /// </summary>
    private static OldTemplatePods Judge(List<V1Pod> pods, string label, string? newest, bool known)
    {
        if (!known)
        {
            var active = pods.Where(p => p.Metadata?.DeletionTimestamp is null).Select(p => p.GetLabel(label) ?? "").Distinct(StringComparer.Ordinal).ToList();
            if (active.Count > 1)
                return new OldTemplatePods([], $"its active pods carry {active.Count} different {label} labels ({string.Join(", ", active.Order(StringComparer.Ordinal))}), so a rollout is still under way");
            newest = active.SingleOrDefault();
        }
        var old = pods.Where(p => newest is null || p.GetLabel(label) != newest)
            .OrderBy(p => p.Name(), StringComparer.Ordinal).ToList();
        return new OldTemplatePods(old, null);
    }

    private static async Task<IReadOnlyList<V1Pod>> PodsAsync(ClusterApi api, string ns, string? selector, string owner, CancellationToken ct) =>
        await api.ListAllAsync($"list the pods of {owner}", async (c, limit, t) =>
        {
            var l = await api.Client.CoreV1.ListNamespacedPodAsync(ns, labelSelector: selector, continueParameter: c, limit: limit, cancellationToken: t).ConfigureAwait(false);
            return (l.Items, l.Metadata?.ContinueProperty);
        }, ct).ConfigureAwait(false);

    private static string? Label(V1ObjectMeta? metadata, string key) =>
        metadata?.Labels is { } labels && labels.TryGetValue(key, out var value) ? value : null;

    private static string? ControllerUid(V1ObjectMeta? metadata) => metadata?.OwnerReferences?.FirstOrDefault(o => o.Controller == true)?.Uid;

    /// <summary>kubectl's EqualIgnoreHash: two pod templates are the same apart from the pod-template-hash label.</summary>
    private static bool EqualIgnoringHash(V1PodTemplateSpec? a, V1PodTemplateSpec? b)
    {
        static JsonNode? Normal(V1PodTemplateSpec? t)
        {
            var node = t is null ? null : JsonNode.Parse(KubernetesJson.Serialize(t));
            if (node?["metadata"]?["labels"] is JsonObject labels)
            {
                labels.Remove(PodTemplateHash);
                if (labels.Count == 0) ((JsonObject)node["metadata"]!).Remove("labels");
            }
            return node;
        }
        return JsonNode.DeepEquals(Normal(a), Normal(b));
    }

    /// <summary>A label selector in the query syntax: k=v for matchLabels; in, notin, k and !k for matchExpressions.</summary>
    public static string? SelectorText(V1LabelSelector? selector)
    {
        if (selector is null) return null;
        var parts = new List<string>();
        foreach (var (key, value) in selector.MatchLabels ?? new Dictionary<string, string>())
            parts.Add($"{key}={value}");
        foreach (var e in selector.MatchExpressions ?? [])
        {
            parts.Add(e.OperatorProperty switch
            {
                "In" => $"{e.Key} in ({string.Join(",", e.Values ?? [])})",
                "NotIn" => $"{e.Key} notin ({string.Join(",", e.Values ?? [])})",
                "Exists" => e.Key,
                "DoesNotExist" => $"!{e.Key}",
                var op => throw new ArgumentException($"The label selector operator {op} is not one Kubernetes knows (In, NotIn, Exists, DoesNotExist)."),
            });
        }
        return parts.Count == 0 ? null : string.Join(",", parts);
    }
}
