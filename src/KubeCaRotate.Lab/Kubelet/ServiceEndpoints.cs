using System.Text.Json.Nodes;
using KubeCaRotate.Lab.Topology;
using static KubeCaRotate.Lab.ControllerManager.WorkloadPods;

namespace KubeCaRotate.Lab.Kubelet;

/// <summary>
/// The endpoints controller's part for the pods this kubelet serves from a port of its own choosing (the aggregated API
/// server's): when such a pod is ready on NODE-ADDRESS:PORT, every Service of its namespace whose selector matches the
/// pod's labels gets the address in its Endpoints, with the port its named target port resolves to on that pod; when
/// the pod stops, the address goes. Updates are read-modify-write with the resourceVersion, retried on conflict.
/// </summary>
public sealed class ServiceEndpoints(ApiServerConnection api, LabNode node)
{
    public Task AddAsync(JsonObject pod, int port, CancellationToken ct) => UpdateAsync(pod, port, ct);

    public Task RemoveAsync(JsonObject pod, CancellationToken ct) => UpdateAsync(pod, null, ct);

    private async Task UpdateAsync(JsonObject pod, int? port, CancellationToken ct)
    {
        var ns = Namespace(pod);
        var services = await api.GetAsync($"api/v1/namespaces/{ns}/services", ct).ConfigureAwait(false);
        if (!services.Ok) throw new InvalidOperationException($"The kubelet of {node.Name} could not list the services of {ns}: {services.Describe()}.");
        var labels = pod["metadata"]?["labels"] as JsonObject ?? new JsonObject();
        foreach (var service in (services.Body?["items"] as JsonArray ?? []).OfType<JsonObject>())
        {
            if (service["spec"]?["selector"] is not JsonObject { Count: > 0 } selector || !selector.All(kv => Str(labels[kv.Key]) == Str(kv.Value))) continue;
            var portName = Str((service["spec"]?["ports"] as JsonArray ?? []).FirstOrDefault()?["name"]);
            for (var attempt = 0; attempt < 5; attempt++)
            {
                if (await TryWriteAsync(ns, Name(service), portName, pod, port, ct).ConfigureAwait(false)) break;
            }
        }
    }

    /// <summary>False on a conflict (someone else wrote in between): read again and retry.</summary>
    private async Task<bool> TryWriteAsync(string ns, string service, string portName, JsonObject pod, int? port, CancellationToken ct)
    {
        var path = $"api/v1/namespaces/{ns}/endpoints/{service}";
        var current = await api.GetAsync(path, ct).ConfigureAwait(false);
        var exists = current.Ok;
        var endpoints = current.Body is { } body && exists ? body : new JsonObject
        {
            ["apiVersion"] = "v1", ["kind"] = "Endpoints", ["metadata"] = new JsonObject { ["name"] = service, ["namespace"] = ns },
        };
        var entries = new List<(JsonObject Address, JsonObject Port)>();
        foreach (var subset in (endpoints["subsets"] as JsonArray ?? []).OfType<JsonObject>())
            foreach (var address in (subset["addresses"] as JsonArray ?? []).OfType<JsonObject>())
                if (Str(address["targetRef"]?["uid"]) != Uid(pod))
                    entries.Add((address, (JsonObject)((subset["ports"] as JsonArray)?.FirstOrDefault()?.DeepClone() ?? new JsonObject())));
        if (port is { } p)
            entries.Add((new JsonObject
            {
                ["ip"] = node.Address, ["nodeName"] = node.Name,
                ["targetRef"] = new JsonObject { ["kind"] = "Pod", ["namespace"] = ns, ["name"] = Name(pod), ["uid"] = Uid(pod) },
            }, new JsonObject { ["name"] = portName, ["port"] = p, ["protocol"] = "TCP" }));
        var subsets = new JsonArray();
        foreach (var group in entries.GroupBy(e => e.Port.ToJsonString()))
            subsets.Add(new JsonObject
            {
                ["addresses"] = new JsonArray([.. group.Select(e => (JsonNode)e.Address.DeepClone())]),
                ["ports"] = new JsonArray(group.First().Port.DeepClone()),
            });
        endpoints["subsets"] = subsets;
        var reply = exists
            ? await api.PutAsync(path, endpoints, ct).ConfigureAwait(false)
            : await api.PostAsync($"api/v1/namespaces/{ns}/endpoints", endpoints, ct).ConfigureAwait(false);
        if (reply.Ok) return true;
        if ((int)reply.Status is 409) return false;
        throw new InvalidOperationException($"The kubelet of {node.Name} could not update the endpoints {ns}/{service}: {reply.Describe()}.");
    }
}
