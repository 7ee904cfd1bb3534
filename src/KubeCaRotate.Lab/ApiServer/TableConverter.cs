using System.Globalization;
using System.Text.Json.Nodes;

namespace KubeCaRotate.Lab.ApiServer;

/// <summary>
/// The meta.k8s.io/v1 Table kubectl asks for (Accept: application/json;as=Table;v=v1;g=meta.k8s.io), with the
/// columns kubectl shows for the common kinds and Name + Age for the rest. Rows carry the object as
/// PartialObjectMetadata unless ?includeObject=Object or None.
/// </summary>
internal sealed class TableConverter(TimeProvider time)
{
    private sealed record Column(string Name, string Type, Func<JsonObject, JsonNode?> Cell, int Priority = 0, string Format = "");

    public static bool Wanted(string accept) =>
        accept.Split(',').Any(a => a.Contains("as=Table", StringComparison.Ordinal) && a.Contains("g=meta.k8s.io", StringComparison.Ordinal));

    public JsonObject Convert(ApiResource resource, IEnumerable<JsonObject> objects, JsonObject listMetadata, string? includeObject)
    {
        var columns = ColumnsFor(resource);
        var rows = new JsonArray();
        foreach (var obj in objects)
        {
            var row = new JsonObject { ["cells"] = new JsonArray([.. columns.Select(c => c.Cell(obj))]) };
            row["object"] = includeObject switch
            {
                "None" => null,
                "Object" => obj.DeepClone(),
                _ => new JsonObject
                {
                    ["kind"] = "PartialObjectMetadata",
                    ["apiVersion"] = "meta.k8s.io/v1",
                    ["metadata"] = obj["metadata"]?.DeepClone(),
                },
            };
            rows.Add(row);
        }
        return new JsonObject
        {
            ["kind"] = "Table",
            ["apiVersion"] = "meta.k8s.io/v1",
            ["metadata"] = listMetadata.DeepClone(),
            ["columnDefinitions"] = new JsonArray([.. columns.Select(c => new JsonObject
            {
                ["name"] = c.Name,
                ["type"] = c.Type,
                ["format"] = c.Format,
                ["description"] = c.Name,
                ["priority"] = c.Priority,
            })]),
            ["rows"] = rows,
        };
    }

    private IReadOnlyList<Column> ColumnsFor(ApiResource resource)
    {
        var name = new Column("Name", "string", o => KubeJson.Name(o), Format: "name");
        var age = new Column("Age", "string", o => Age(o));
        return resource.Name switch
        {
            "nodes" =>
            [
                name,
                new("Status", "string", o => NodeStatus(o)),
                new("Roles", "string", o => NodeRoles(o)),
                age,
                new("Version", "string", o => S(o, "status.nodeInfo.kubeletVersion")),
                new("Internal-IP", "string", o => Address(o, "InternalIP"), 1),
                new("External-IP", "string", o => Address(o, "ExternalIP"), 1),
                new("OS-Image", "string", o => S(o, "status.nodeInfo.osImage"), 1),
                new("Kernel-Version", "string", o => S(o, "status.nodeInfo.kernelVersion"), 1),
                new("Container-Runtime", "string", o => S(o, "status.nodeInfo.containerRuntimeVersion"), 1),
            ],
            "pods" =>
            [
                name,
                new("Ready", "string", o => $"{Count(o["status"]?["containerStatuses"], c => c?["ready"]?.GetValue<bool>() == true)}/{Count(o["spec"]?["containers"], _ => true)}"),
                new("Status", "string", o => o["metadata"]?["deletionTimestamp"] is null ? S(o, "status.phase", "Pending") : "Terminating"),
                new("Restarts", "string", o => (o["status"]?["containerStatuses"] as JsonArray ?? []).Sum(c => (long?)c?["restartCount"]?.GetValue<long>() ?? 0).ToString(CultureInfo.InvariantCulture)),
                age,
                new("IP", "string", o => S(o, "status.podIP", "<none>"), 1),
                new("Node", "string", o => S(o, "spec.nodeName", "<none>"), 1),
            ],
            "deployments" =>
            [
                name,
                new("Ready", "string", o => $"{N(o, "status.readyReplicas")}/{N(o, "spec.replicas", 1)}"),
                new("Up-to-date", "integer", o => N(o, "status.updatedReplicas")),
                new("Available", "integer", o => N(o, "status.availableReplicas")),
                age,
                new("Containers", "string", o => Join(o["spec"]?["template"]?["spec"]?["containers"], "name"), 1),
                new("Images", "string", o => Join(o["spec"]?["template"]?["spec"]?["containers"], "image"), 1),
            ],
            "daemonsets" =>
            [
                name,
                new("Desired", "integer", o => N(o, "status.desiredNumberScheduled")),
                new("Current", "integer", o => N(o, "status.currentNumberScheduled")),
                new("Ready", "integer", o => N(o, "status.numberReady")),
                new("Up-to-date", "integer", o => N(o, "status.updatedNumberScheduled")),
                new("Available", "integer", o => N(o, "status.numberAvailable")),
                new("Node Selector", "string", o => o["spec"]?["template"]?["spec"]?["nodeSelector"] is JsonObject sel && sel.Count > 0 ? string.Join(",", sel.Select(kv => $"{kv.Key}={KubeJson.Str(kv.Value)}")) : "<none>"),
                age,
            ],
            "statefulsets" or "replicasets" =>
            [
                name,
                new("Ready", "string", o => $"{N(o, "status.readyReplicas")}/{N(o, "spec.replicas", 1)}"),
                age,
            ],
            "secrets" =>
            [
                name,
                new("Type", "string", o => S(o, "type", "Opaque")),
                new("Data", "integer", o => (o["data"] as JsonObject)?.Count ?? 0),
                age,
            ],
            "configmaps" => [name, new("Data", "integer", o => ((o["data"] as JsonObject)?.Count ?? 0) + ((o["binaryData"] as JsonObject)?.Count ?? 0)), age],
            "namespaces" => [name, new("Status", "string", o => S(o, "status.phase", "Active")), age],
            "serviceaccounts" => [name, new("Secrets", "integer", o => (o["secrets"] as JsonArray)?.Count ?? 0), age],
            "leases" => [name, new("Holder", "string", o => S(o, "spec.holderIdentity")), age],
            "certificatesigningrequests" =>
            [
                name,
                age,
                new("SignerName", "string", o => S(o, "spec.signerName")),
                new("Requestor", "string", o => S(o, "spec.username")),
                new("Condition", "string", o => (o["status"]?["conditions"] as JsonArray)?.Select(c => KubeJson.Str(c?["type"])).ToList() is { Count: > 0 } t ? string.Join(",", t) : "Pending"),
            ],
            _ => [name, age],
        };
    }

    private string Age(JsonObject o) =>
        DateTimeOffset.TryParse(KubeJson.Str(o["metadata"]?["creationTimestamp"]), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var created)
            ? HumanDuration.Format(time.GetUtcNow() - created)
            : "<unknown>";

    private static string NodeStatus(JsonObject o)
    {
        var ready = (o["status"]?["conditions"] as JsonArray)?.FirstOrDefault(c => KubeJson.Str(c?["type"]) == "Ready");
        var status = KubeJson.Str(ready?["status"]) == "True" ? "Ready" : ready is null ? "Unknown" : "NotReady";
        return o["spec"]?["unschedulable"]?.GetValue<bool>() == true ? status + ",SchedulingDisabled" : status;
    }

    private static string NodeRoles(JsonObject o)
    {
        var roles = (o["metadata"]?["labels"] as JsonObject ?? [])
            .Select(kv => kv.Key)
            .Where(k => k.StartsWith("node-role.kubernetes.io/", StringComparison.Ordinal))
            .Select(k => k["node-role.kubernetes.io/".Length..])
            .Where(r => r.Length > 0)
            .Order(StringComparer.Ordinal)
            .ToList();
        return roles.Count == 0 ? "<none>" : string.Join(",", roles);
    }

    private static string Address(JsonObject o, string type) =>
        KubeJson.Str((o["status"]?["addresses"] as JsonArray)?.FirstOrDefault(a => KubeJson.Str(a?["type"]) == type)?["address"]) ?? "<none>";

    private static string S(JsonObject o, string path, string fallback = "") => KubeJson.FieldValue(o, path) ?? fallback;

    private static long N(JsonObject o, string path, long fallback = 0) =>
        long.TryParse(KubeJson.FieldValue(o, path), NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? n : fallback;

    private static int Count(JsonNode? list, Func<JsonNode?, bool> predicate) => (list as JsonArray)?.Count(predicate) ?? 0;

    private static string Join(JsonNode? list, string field) =>
        string.Join(",", (list as JsonArray ?? []).Select(e => KubeJson.Str(e?[field]) ?? ""));
}
