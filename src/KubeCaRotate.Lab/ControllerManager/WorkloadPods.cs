using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace KubeCaRotate.Lab.ControllerManager;

/// <summary>What the workload controllers share: template hashes, pod readiness, ownership and new pods from a template.</summary>
public static class WorkloadPods
{
    private const string SafeAlphabet = "bcdfghjklmnpqrstvwxz2456789";

    /// <summary>
    /// A short hash of a pod template as the controllers put in pod-template-hash / controller-revision-hash: FNV-1a
    /// over the template's JSON with sorted keys, encoded with the alphabet Kubernetes uses for generated names.
    /// </summary>
    public static string TemplateHash(JsonNode? template)
    {
        var canonical = Encoding.UTF8.GetBytes(Canonical(template));
        uint hash = 2166136261;
        foreach (var b in canonical)
        {
            hash ^= b;
            hash *= 16777619;
        }
        return string.Concat(hash.ToString(CultureInfo.InvariantCulture).Select(c => SafeAlphabet[c % SafeAlphabet.Length]));
    }

    private static string Canonical(JsonNode? node) => node switch
    {
        JsonObject o => "{" + string.Join(",", o.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"\"{p.Key}\":{Canonical(p.Value)}")) + "}",
        JsonArray a => "[" + string.Join(",", a.Select(Canonical)) + "]",
        null => "null",
        _ => node.ToJsonString(),
    };

    public static string Str(JsonNode? n) => n is JsonValue v && v.TryGetValue<string>(out var s) ? s : "";

    public static string Name(JsonObject o) => Str(o["metadata"]?["name"]);

    public static string Namespace(JsonObject o) => Str(o["metadata"]?["namespace"]);

    public static string Uid(JsonObject o) => Str(o["metadata"]?["uid"]);

    public static string Label(JsonObject o, string key) => Str(o["metadata"]?["labels"]?[key]);

    /// <summary>Running with condition Ready=True: the only state in which a new pod counts for a rollout.</summary>
    public static bool IsReady(JsonObject pod) =>
        Str(pod["status"]?["phase"]) == "Running"
        && (pod["status"]?["conditions"] as JsonArray ?? []).Any(c => Str(c?["type"]) == "Ready" && Str(c?["status"]) == "True");

    /// <summary>Being deleted (deletionTimestamp set): still running until its kubelet stops it, but no longer active for any controller.</summary>
    public static bool IsTerminating(JsonObject pod) => pod["metadata"]?["deletionTimestamp"] is not null;

    public static bool IsFinished(JsonObject pod) => Str(pod["status"]?["phase"]) is "Failed" or "Succeeded";

    /// <summary>The uid of the pod's controlling owner, or "" when it has none.</summary>
    public static string ControllerUid(JsonObject pod, out string kind)
    {
        foreach (var owner in (pod["metadata"]?["ownerReferences"] as JsonArray ?? []).OfType<JsonObject>())
        {
            if (owner["controller"]?.GetValue<bool>() == true)
            {
                kind = Str(owner["kind"]);
                return Str(owner["uid"]);
            }
        }
        kind = "";
        return "";
    }

    public static long Generation(JsonObject o) => o["metadata"]?["generation"]?.GetValue<long>() ?? 0;

    /// <summary>A new pod from the owner's template: template labels and annotations plus <paramref name="labels"/>, a controller owner reference, status Pending.</summary>
    public static JsonObject NewPod(JsonObject owner, string kind, IReadOnlyDictionary<string, string> labels, string? name, string? generateName, Action<JsonObject>? adjustSpec = null)
    {
        var template = owner["spec"]?["template"] as JsonObject ?? new JsonObject();
        var podLabels = template["metadata"]?["labels"]?.DeepClone() as JsonObject ?? new JsonObject();
        foreach (var (k, v) in labels)
            podLabels[k] = v;
        var metadata = new JsonObject
        {
            ["labels"] = podLabels,
            ["ownerReferences"] = new JsonArray(new JsonObject
            {
                ["apiVersion"] = "apps/v1",
                ["kind"] = kind,
                ["name"] = Name(owner),
                ["uid"] = Uid(owner),
                ["controller"] = true,
                ["blockOwnerDeletion"] = true,
            }),
        };
        if (name is not null)
            metadata["name"] = name;
        else
            metadata["generateName"] = generateName;
        if (template["metadata"]?["annotations"] is JsonObject annotations)
            metadata["annotations"] = annotations.DeepClone();
        var spec = template["spec"]?.DeepClone() as JsonObject ?? new JsonObject();
        spec["restartPolicy"] ??= "Always";
        spec["schedulerName"] ??= "default-scheduler";
        spec["serviceAccountName"] ??= "default";
        adjustSpec?.Invoke(spec);
        return new JsonObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "Pod",
            ["metadata"] = metadata,
            ["spec"] = spec,
            ["status"] = new JsonObject { ["phase"] = "Pending" },
        };
    }

    /// <summary>An int-or-percent (maxSurge, maxUnavailable) scaled to <paramref name="total"/>, as intstr.GetScaledValueFromIntOrPercent.</summary>
    public static int Scaled(JsonNode? value, string fallback, int total, bool roundUp)
    {
        var text = value switch
        {
            JsonValue v when v.TryGetValue<int>(out var i) => i.ToString(CultureInfo.InvariantCulture),
            JsonValue v when v.TryGetValue<string>(out var s) => s,
            _ => fallback,
        };
        if (!text.EndsWith('%'))
            return int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? n : 0;
        var percent = double.Parse(text.TrimEnd('%'), CultureInfo.InvariantCulture);
        var scaled = percent * total / 100.0;
        return (int)(roundUp ? Math.Ceiling(scaled) : Math.Floor(scaled));
    }

    /// <summary>
    /// Conditions as the controllers write them: a condition whose status is unchanged keeps its lastTransitionTime,
    /// and one whose reason and message are unchanged keeps its lastUpdateTime, so an unchanged state writes nothing.
    /// </summary>
    public static JsonArray Conditions(JsonArray? current, IEnumerable<(string Type, bool Status, string Reason, string Message)> wanted, DateTimeOffset now, bool withUpdateTime)
    {
        var stamp = now.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        var result = new JsonArray();
        foreach (var (type, status, reason, message) in wanted)
        {
            var old = (current ?? []).OfType<JsonObject>().FirstOrDefault(c => Str(c["type"]) == type);
            var statusText = status ? "True" : "False";
            var sameStatus = old is not null && Str(old["status"]) == statusText;
            var same = sameStatus && Str(old!["reason"]) == reason && Str(old["message"]) == message;
            var condition = new JsonObject { ["type"] = type, ["status"] = statusText };
            if (withUpdateTime)
                condition["lastUpdateTime"] = same ? old!["lastUpdateTime"]?.DeepClone() : stamp;
            condition["lastTransitionTime"] = sameStatus ? old!["lastTransitionTime"]?.DeepClone() : stamp;
            condition["reason"] = reason;
            condition["message"] = message;
            result.Add(condition);
        }
        return result;
    }
}
