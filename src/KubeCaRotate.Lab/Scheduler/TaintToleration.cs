using System.Text.Json.Nodes;

namespace KubeCaRotate.Lab.Scheduler;

/// <summary>
/// The scheduler's TaintToleration filter (also used by the DaemonSet controller): a node is eligible for a pod when
/// every NoSchedule and NoExecute taint of the node is tolerated by one of the pod's tolerations.
/// </summary>
public static class TaintToleration
{
    public static bool Tolerates(JsonObject podSpec, JsonObject node)
    {
        var tolerations = (podSpec["tolerations"] as JsonArray ?? []).OfType<JsonObject>().ToList();
        foreach (var taint in (node["spec"]?["taints"] as JsonArray ?? []).OfType<JsonObject>())
        {
            var effect = Str(taint["effect"]);
            if (effect is not ("NoSchedule" or "NoExecute"))
                continue;
            if (!tolerations.Any(t => Matches(t, taint)))
                return false;
        }
        return true;
    }

    private static bool Matches(JsonObject toleration, JsonObject taint)
    {
        var effect = Str(toleration["effect"]);
        if (!string.IsNullOrEmpty(effect) && effect != Str(taint["effect"]))
            return false;
        var key = Str(toleration["key"]);
        if (!string.IsNullOrEmpty(key) && key != Str(taint["key"]))
            return false;
        return Str(toleration["operator"]) == "Exists"
            || (string.IsNullOrEmpty(key) ? false : (Str(toleration["value"]) ?? "") == (Str(taint["value"]) ?? ""));
    }

    /// <summary>spec.nodeSelector: every label must be on the node with that value.</summary>
    public static bool MatchesNodeSelector(JsonObject podSpec, JsonObject node)
    {
        if (podSpec["nodeSelector"] is not JsonObject selector)
            return true;
        var labels = node["metadata"]?["labels"] as JsonObject;
        return selector.All(kv => Str(labels?[kv.Key]) == Str(kv.Value));
    }

    public static bool IsReady(JsonObject node) =>
        node["spec"]?["unschedulable"]?.GetValue<bool>() != true
        && (node["status"]?["conditions"] as JsonArray ?? []).Any(c => Str(c?["type"]) == "Ready" && Str(c?["status"]) == "True");

    private static string? Str(JsonNode? n) => n is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
}
