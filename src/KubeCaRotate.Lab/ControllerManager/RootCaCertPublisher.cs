using System.Text.Json.Nodes;

namespace KubeCaRotate.Lab.ControllerManager;

/// <summary>
/// root-ca-cert-publisher: every active namespace has a ConfigMap kube-root-ca.crt whose only key ca.crt holds the
/// root CA the controller-manager read at its start; a missing one is created, a differing one is overwritten.
/// </summary>
public sealed class RootCaCertPublisher(KubeconfigClient client, string rootCaPem, TimeProvider time, TextWriter log)
{
    public const string ConfigMapName = "kube-root-ca.crt";
    private const string Description = "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.";

    public string RootCaPem { get; } = rootCaPem;

    public async Task SyncAsync(IReadOnlyList<JsonObject> namespaces, IReadOnlyList<JsonObject> configMaps, CancellationToken ct)
    {
        var existing = configMaps
            .Where(c => c["metadata"]?["name"]?.GetValue<string>() == ConfigMapName)
            .ToDictionary(c => c["metadata"]?["namespace"]?.GetValue<string>() ?? "");
        foreach (var ns in namespaces)
        {
            var name = ns["metadata"]?["name"]?.GetValue<string>() ?? "";
            if (name.Length == 0 || ns["metadata"]?["deletionTimestamp"] is not null || ns["status"]?["phase"]?.GetValue<string>() == "Terminating")
                continue;
            try
            {
                if (!existing.TryGetValue(name, out var cm))
                {
                    await client.CreateAsync($"/api/v1/namespaces/{name}/configmaps", new JsonObject
                    {
                        ["apiVersion"] = "v1",
                        ["kind"] = "ConfigMap",
                        ["metadata"] = new JsonObject { ["name"] = ConfigMapName, ["annotations"] = new JsonObject { ["kubernetes.io/description"] = Description } },
                        ["data"] = new JsonObject { ["ca.crt"] = RootCaPem },
                    }, ct).ConfigureAwait(false);
                    log.WriteLine($"{time.GetUtcNow():O} root-ca-cert-publisher: created {name}/{ConfigMapName}");
                    continue;
                }
                var data = cm["data"] as JsonObject;
                if (data is not null && data.Count == 1 && data["ca.crt"]?.GetValue<string>() == RootCaPem)
                    continue;
                var updated = (JsonObject)cm.DeepClone();
                updated["data"] = new JsonObject { ["ca.crt"] = RootCaPem };
                await client.ReplaceAsync($"/api/v1/namespaces/{name}/configmaps/{ConfigMapName}", updated, ct).ConfigureAwait(false);
                log.WriteLine($"{time.GetUtcNow():O} root-ca-cert-publisher: updated {name}/{ConfigMapName}");
            }
            catch (ApiCallException e) when (e.IsConflict || e.IsNotFound)
            {
                // raced with someone: the next sync sees the new state
            }
        }
    }
}
