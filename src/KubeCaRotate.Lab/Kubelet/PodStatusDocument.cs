using System.Globalization;
using System.Text.Json.Nodes;

namespace KubeCaRotate.Lab.Kubelet;

/// <summary>The status the kubelet posts for a pod it runs: phase Running, start time, IPs, conditions, one container.</summary>
public static class PodStatusDocument
{
    public static string Stamp(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    public static JsonObject Running(DateTimeOffset startedAt, string nodeAddress, bool ready, string? message, string containerName, string image, DateTimeOffset transition)
    {
        var start = Stamp(startedAt);
        var changed = Stamp(transition);
        JsonObject Condition(string type, bool value) => new()
        {
            ["type"] = type, ["status"] = value ? "True" : "False", ["lastProbeTime"] = null, ["lastTransitionTime"] = value ? changed : changed,
        };
        var status = new JsonObject
        {
            ["phase"] = "Running",
            ["conditions"] = new JsonArray(Condition("Initialized", true), Condition("Ready", ready), Condition("ContainersReady", ready), Condition("PodScheduled", true)),
            ["hostIP"] = nodeAddress,
            ["hostIPs"] = new JsonArray(new JsonObject { ["ip"] = nodeAddress }),
            ["podIP"] = nodeAddress,
            ["podIPs"] = new JsonArray(new JsonObject { ["ip"] = nodeAddress }),
            ["startTime"] = start,
            ["containerStatuses"] = new JsonArray(new JsonObject
            {
                ["name"] = containerName, ["image"] = image, ["imageID"] = "", ["ready"] = ready, ["started"] = true, ["restartCount"] = 0,
                ["state"] = new JsonObject { ["running"] = new JsonObject { ["startedAt"] = start } },
            }),
            ["qosClass"] = "BestEffort",
        };
        if (message is not null) status["message"] = message;
        return status;
    }
}
