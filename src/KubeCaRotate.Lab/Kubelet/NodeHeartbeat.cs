using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;

namespace KubeCaRotate.Lab.Kubelet;

/// <summary>
/// The kubelet's two heartbeats: the node Lease in kube-node-lease (holder = node, renewed every call) and the
/// Node's Ready condition (status.conditions, heartbeat time refreshed every <see cref="StatusInterval"/> and at the
/// first call after start, so a restarted kubelet is seen reporting again).
/// </summary>
public sealed class NodeHeartbeat(string nodeName, ApiServerConnection api, TimeProvider time)
{
    public static readonly TimeSpan StatusInterval = TimeSpan.FromSeconds(10);
    private DateTimeOffset _lastStatus = DateTimeOffset.MinValue;

    /// <summary>When the Node was last reported Ready by this kubelet, or null before the first report.</summary>
    public DateTimeOffset? ReportedReadyAt { get; private set; }

    private static string Stamp(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    private static string MicroStamp(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture);

    public async Task BeatAsync(CancellationToken ct)
    {
        await RenewLeaseAsync(ct).ConfigureAwait(false);
        var now = time.GetUtcNow();
        if (now - _lastStatus >= StatusInterval)
        {
            await ReportReadyAsync(ct).ConfigureAwait(false);
            _lastStatus = now;
            ReportedReadyAt = now;
        }
    }

    private async Task RenewLeaseAsync(CancellationToken ct)
    {
        var path = $"apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/{nodeName}";
        var now = MicroStamp(time.GetUtcNow());
        var current = await api.GetAsync(path, ct).ConfigureAwait(false);
        if (current.Status == HttpStatusCode.NotFound)
        {
            var created = await api.PostAsync("apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases", new JsonObject
            {
                ["apiVersion"] = "coordination.k8s.io/v1",
                ["kind"] = "Lease",
                ["metadata"] = new JsonObject { ["name"] = nodeName, ["namespace"] = "kube-node-lease" },
                ["spec"] = new JsonObject { ["holderIdentity"] = nodeName, ["leaseDurationSeconds"] = 40, ["renewTime"] = now },
            }, ct).ConfigureAwait(false);
            Require(created, "create its Lease");
            return;
        }
        Require(current, "read its Lease");
        var lease = current.Body!;
        var spec = lease["spec"] as JsonObject ?? new JsonObject();
        spec["holderIdentity"] = nodeName;
        spec["leaseDurationSeconds"] = 40;
        spec["renewTime"] = now;
        lease["spec"] = spec.DeepClone();
        Require(await api.PutAsync(path, lease, ct).ConfigureAwait(false), "renew its Lease");
    }

    private async Task ReportReadyAsync(CancellationToken ct)
    {
        var path = $"api/v1/nodes/{nodeName}";
        var current = await api.GetAsync(path, ct).ConfigureAwait(false);
        Require(current, "read its Node");
        var node = current.Body!;
        var status = node["status"] as JsonObject ?? new JsonObject();
        var conditions = status["conditions"] as JsonArray ?? new JsonArray();
        var now = Stamp(time.GetUtcNow());
        var ready = conditions.OfType<JsonObject>().FirstOrDefault(c => c["type"]?.GetValue<string>() == "Ready");
        if (ready is null)
        {
            ready = new JsonObject { ["type"] = "Ready" };
            conditions.Add(ready);
        }
        if (ready["status"]?.GetValue<string>() != "True") ready["lastTransitionTime"] = now;
        ready["status"] = "True";
        ready["reason"] = "KubeletReady";
        ready["message"] = "kubelet is posting ready status";
        ready["lastHeartbeatTime"] = now;
        status["conditions"] = conditions.DeepClone();
        node["status"] = status.DeepClone();
        Require(await api.PutAsync(path + "/status", node, ct).ConfigureAwait(false), "report its Node Ready");
    }

    private void Require(ApiReply reply, string what)
    {
        if (!reply.Ok) throw new InvalidOperationException($"The kubelet of {nodeName} could not {what}: {reply.Describe()}.");
    }
}
