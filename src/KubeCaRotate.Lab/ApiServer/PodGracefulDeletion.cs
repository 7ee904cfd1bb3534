using System.Globalization;
using System.Text.Json.Nodes;

namespace KubeCaRotate.Lab.ApiServer;

/// <summary>
/// How kube-apiserver deletes a Pod (the pod strategy's CheckGracefulDelete and the registry's BeforeDelete): the grace
/// period is the request's gracePeriodSeconds, else spec.terminationGracePeriodSeconds; a pod not bound to a node or
/// already Succeeded/Failed has none and goes at once. With a grace period the object stays, with
/// metadata.deletionTimestamp = now + period and metadata.deletionGracePeriodSeconds, until the kubelet has stopped
/// its containers and deletes it with grace 0. A pod already terminating may only have its period shortened.
/// </summary>
public static class PodGracefulDeletion
{
    public enum Outcome
    {
        /// <summary>Remove the object from storage now.</summary>
        Immediate,
        /// <summary>Write the new deletionTimestamp and deletionGracePeriodSeconds; the object stays.</summary>
        Mark,
        /// <summary>A graceful deletion is already under way and this request does not shorten it: nothing changes.</summary>
        Pending,
    }

    public static (Outcome Outcome, JsonObject? Marked) Decide(JsonObject pod, long? requested, DateTimeOffset now)
    {
        var metadata = KubeJson.Metadata(pod);
        if (metadata["deletionTimestamp"] is not null)
        {
            var current = Seconds(metadata["deletionGracePeriodSeconds"]);
            if (current is null or 0)
                return (Outcome.Immediate, null);
            if (requested is not { } shorter || shorter >= current)
                return (Outcome.Pending, null);
            if (shorter <= 0)
                return (Outcome.Immediate, null);
            var deadline = DateTimeOffset.Parse(KubeJson.Str(metadata["deletionTimestamp"])!, CultureInfo.InvariantCulture)
                - TimeSpan.FromSeconds(current.Value) + TimeSpan.FromSeconds(shorter);
            return (Outcome.Mark, Marked(pod, deadline, shorter));
        }
        var period = requested ?? Seconds(pod["spec"]?["terminationGracePeriodSeconds"]) ?? 0;
        if (string.IsNullOrEmpty(KubeJson.Str(pod["spec"]?["nodeName"])))
            period = 0; // not scheduled: nothing runs it
        if (KubeJson.Str(pod["status"]?["phase"]) is "Succeeded" or "Failed")
            period = 0; // its containers have already stopped
        if (period < 0)
            period = 1;
        return period == 0 ? (Outcome.Immediate, null) : (Outcome.Mark, Marked(pod, now + TimeSpan.FromSeconds(period), period));
    }

    private static JsonObject Marked(JsonObject pod, DateTimeOffset deadline, long period)
    {
        var marked = (JsonObject)pod.DeepClone();
        var metadata = KubeJson.Metadata(marked);
        metadata["deletionTimestamp"] = KubeJson.Timestamp(deadline);
        metadata["deletionGracePeriodSeconds"] = period;
        return marked;
    }

    private static long? Seconds(JsonNode? node) => node is JsonValue v && v.TryGetValue<long>(out var n) ? n : null;
}
