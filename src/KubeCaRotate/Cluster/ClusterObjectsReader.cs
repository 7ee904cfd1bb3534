using System.Text;
using k8s.Models;
using KubeCaRotate.Layout;

namespace KubeCaRotate.Cluster;

/// <summary>
/// Reads the objects that carry CA data (reference/kubeadm-pki.md section 6) and the pods and nodes whose start times
/// tell what a component loaded (the kubelet's start comes from its node: <see cref="KubeletStart"/>). Lists run in
/// parallel within the client's concurrency bound. A list that fails is one sentence in <see cref="Result.Problems"/>,
/// the others still count.
/// </summary>
public sealed class ClusterObjectsReader(ClusterApi api)
{
    public const string MirrorAnnotation = "kubernetes.io/config.mirror";
    private const string PemMarker = "-----BEGIN CERTIFICATE-----";

    public sealed record Result(ClusterObjects Objects, IReadOnlyList<string> Problems);

    public async Task<Result> ReadAsync(CancellationToken ct)
    {
        var problems = new List<string>();
        async Task<IReadOnlyList<T>> Guard<T>(Func<CancellationToken, Task<IReadOnlyList<T>>> list)
        {
            try
            {
                return await list(ct).ConfigureAwait(false);
            }
            catch (ClusterApiException e)
            {
                lock (problems) problems.Add(e.Message);
                return [];
            }
        }

        var configMaps = Guard(api.ListConfigMapsAsync);
        var secrets = Guard(api.ListSecretsAsync);
        var pods = Guard(api.ListPodsAsync);
        var nodes = Guard(api.ListNodesAsync);
        var namespaces = Guard(api.ListNamespacesAsync);
        var validating = Guard(api.ListValidatingWebhooksAsync);
        var mutating = Guard(api.ListMutatingWebhooksAsync);
        var apiServices = Guard(api.ListApiServicesAsync);
        var crds = Guard(api.ListCustomResourceDefinitionsAsync);
        await Task.WhenAll(configMaps, secrets, pods, nodes, namespaces, validating, mutating, apiServices, crds).ConfigureAwait(false);

        var caData = new List<ObjectCaData>();
        var allowedNames = new List<string>();
        foreach (var cm in await configMaps.ConfigureAwait(false))
        {
            var obj = new ObjectRef("ConfigMap", cm.Namespace(), cm.Name());
            var changed = ChangedAt(cm.Metadata);
            foreach (var (key, value) in cm.Data ?? new Dictionary<string, string>())
            {
                if (obj == ClusterObjects.ClusterInfo && key == "kubeconfig")
                {
                    if (ClusterInfoCa(value) is { } pem) caData.Add(new ObjectCaData(obj, "kubeconfig certificate-authority-data", pem, changed));
                    continue;
                }
                if (obj == ClusterObjects.ExtensionApiserverAuthentication && key == "requestheader-allowed-names")
                {
                    allowedNames.AddRange(ParseNames(value));
                    continue;
                }
                if (value.Contains(PemMarker, StringComparison.Ordinal)) caData.Add(new ObjectCaData(obj, $"data[{key}]", value, changed));
            }
        }
        foreach (var secret in await secrets.ConfigureAwait(false))
        {
            var obj = new ObjectRef("Secret", secret.Namespace(), secret.Name());
            foreach (var (key, value) in secret.Data ?? new Dictionary<string, byte[]>())
            {
                // Only certificates are kept: tokens and keys never leave this loop.
                if (value is null || !ContainsPem(value)) continue;
                var text = Encoding.ASCII.GetString(value);
                caData.Add(new ObjectCaData(obj, $"data[{key}]", OnlyCertificates(text), ChangedAt(secret.Metadata)));
            }
        }
        foreach (var w in await validating.ConfigureAwait(false))
        {
            var obj = new ObjectRef("ValidatingWebhookConfiguration", null, w.Name());
            foreach (var (hook, i) in (w.Webhooks ?? []).Select((h, i) => (h, i)))
                AddBundle(caData, obj, $"webhooks[{i}] ({hook.Name}) clientConfig.caBundle", hook.ClientConfig?.CaBundle, ChangedAt(w.Metadata));
        }
        foreach (var w in await mutating.ConfigureAwait(false))
        {
            var obj = new ObjectRef("MutatingWebhookConfiguration", null, w.Name());
            foreach (var (hook, i) in (w.Webhooks ?? []).Select((h, i) => (h, i)))
                AddBundle(caData, obj, $"webhooks[{i}] ({hook.Name}) clientConfig.caBundle", hook.ClientConfig?.CaBundle, ChangedAt(w.Metadata));
        }
        var services = new List<ApiServiceFacts>();
        foreach (var s in await apiServices.ConfigureAwait(false))
        {
            AddBundle(caData, new ObjectRef("APIService", null, s.Name()), "spec.caBundle", s.Spec?.CaBundle, ChangedAt(s.Metadata));
            services.Add(new ApiServiceFacts(s.Name(), s.Spec?.Service?.NamespaceProperty, s.Spec?.Service?.Name, s.Spec?.InsecureSkipTLSVerify == true, s.Spec?.CaBundle is { Length: > 0 }));
        }
        foreach (var crd in await crds.ConfigureAwait(false))
            AddBundle(caData, new ObjectRef("CustomResourceDefinition", null, crd.Name()), "spec.conversion.webhook.clientConfig.caBundle",
                crd.Spec?.Conversion?.Webhook?.ClientConfig?.CaBundle, ChangedAt(crd.Metadata));

        // No kubelet start from the API: the node Lease's acquireTime is not set by the kubelet's lease controller (and
        // would not move on a restart under the same holder); the node itself reports it (KubeletStart).
        var nodeFacts = (await nodes.ConfigureAwait(false)).Select(n => new NodeFacts(
            n.Name(),
            n.Status?.Addresses?.FirstOrDefault(a => a.Type == "InternalIP")?.Address,
            NodeObject.IsControlPlane(n),
            null)).ToList();

        var podFacts = (await pods.ConfigureAwait(false)).Select(ToFacts).ToList();
        var result = new ClusterObjects
        {
            CaData = caData,
            Pods = podFacts,
            Nodes = nodeFacts,
            ApiServices = services,
            Namespaces = (await namespaces.ConfigureAwait(false)).Select(n => n.Name()).ToList(),
            RequestHeaderAllowedNames = allowedNames,
        };
        return new Result(result, problems);
    }

    private static PodFacts ToFacts(V1Pod pod)
    {
        string? mirror = null;
        if (pod.Metadata?.Annotations?.ContainsKey(MirrorAnnotation) == true)
        {
            mirror = pod.Metadata.Labels?.TryGetValue("component", out var c) == true ? c : pod.Spec?.Containers?.FirstOrDefault()?.Name;
        }
        DateTimeOffset? started = pod.Status?.StartTime is { } t ? new DateTimeOffset(DateTime.SpecifyKind(t, DateTimeKind.Utc)) : null;
        return new PodFacts(pod.Namespace(), pod.Name(), pod.Spec?.NodeName, started, mirror,
            pod.Spec?.ServiceAccountName ?? "default",
            mirror is null && pod.Spec?.AutomountServiceAccountToken != false,
            pod.Status?.Phase ?? "Unknown");
    }

    private static DateTimeOffset? ChangedAt(V1ObjectMeta? meta)
    {
        var times = meta?.ManagedFields?.Where(f => f.Time is not null).Select(f => new DateTimeOffset(DateTime.SpecifyKind(f.Time!.Value, DateTimeKind.Utc))).ToList();
        return times is { Count: > 0 } ? times.Max() : null;
    }

    private static void AddBundle(List<ObjectCaData> into, ObjectRef obj, string field, byte[]? bundle, DateTimeOffset? changed)
    {
        if (bundle is not { Length: > 0 } || !ContainsPem(bundle)) return;
        into.Add(new ObjectCaData(obj, field, Encoding.ASCII.GetString(bundle), changed));
    }

    private static bool ContainsPem(byte[] value) => value.AsSpan().IndexOf("-----BEGIN CERTIFICATE-----"u8) >= 0;

    private static string OnlyCertificates(string text)
    {
        var sb = new StringBuilder();
        var at = 0;
        while ((at = text.IndexOf(PemMarker, at, StringComparison.Ordinal)) >= 0)
        {
            var end = text.IndexOf("-----END CERTIFICATE-----", at, StringComparison.Ordinal);
            if (end < 0) break;
            end += "-----END CERTIFICATE-----".Length;
            sb.Append(text, at, end - at).Append('\n');
            at = end;
        }
        return sb.ToString();
    }

    private static string? ClusterInfoCa(string kubeconfig)
    {
        try
        {
            var config = Kubeconfig.Parse(kubeconfig, "ConfigMap kube-public/cluster-info");
            return config.Clusters.FirstOrDefault()?.CertificateAuthorityData is { } data ? Encoding.ASCII.GetString(data) : null;
        }
        catch (LayoutFormatException)
        {
            return null;
        }
    }

    private static IEnumerable<string> ParseNames(string value)
    {
        try
        {
            return System.Text.Json.JsonSerializer.Deserialize<string[]>(value) ?? [];
        }
        catch (System.Text.Json.JsonException)
        {
            return value.Split([',', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        }
    }
}
