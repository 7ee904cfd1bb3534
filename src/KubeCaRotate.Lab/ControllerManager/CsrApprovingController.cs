using System.Text.Json.Nodes;

namespace KubeCaRotate.Lab.ControllerManager;

/// <summary>
/// csrapproving: approves kubelet client certificate requests made by the node itself or by a bootstrapper, as the
/// real controller does once kubeadm's RBAC bindings allow it. Other requests are left for a person.
/// </summary>
public sealed class CsrApprovingController(KubeconfigClient client, TimeProvider time, TextWriter log)
{
    public async Task SyncAsync(IReadOnlyList<JsonObject> csrs, CancellationToken ct)
    {
        foreach (var csr in csrs)
        {
            if (KubeletCsr.HasCondition(csr, "Approved") || KubeletCsr.HasCondition(csr, "Denied") || KubeletCsr.HasCondition(csr, "Failed"))
                continue;
            var request = KubeletCsr.From(csr);
            if (!request.IsKubeletClientRequest || !request.RequestedByNodeOrBootstrapper)
                continue;
            var approved = (JsonObject)csr.DeepClone();
            var conditions = approved["status"]?["conditions"] as JsonArray ?? [];
            conditions.Add(new JsonObject
            {
                ["type"] = "Approved",
                ["status"] = "True",
                ["reason"] = "AutoApproved",
                ["message"] = "Auto approving kubelet client certificate after SubjectAccessReview.",
                ["lastUpdateTime"] = Timestamp(),
                ["lastTransitionTime"] = Timestamp(),
            });
            approved["status"] ??= new JsonObject();
            approved["status"]!["conditions"] = conditions.DeepClone();
            try
            {
                await client.ReplaceAsync($"/apis/certificates.k8s.io/v1/certificatesigningrequests/{request.Name}/approval", approved, ct).ConfigureAwait(false);
                log.WriteLine($"{time.GetUtcNow():O} csrapproving: approved {request.Name} ({request.CommonName}, requested by {request.Username})");
            }
            catch (ApiCallException e) when (e.IsConflict || e.IsNotFound)
            {
                // changed meanwhile: the next sync looks again
            }
        }
    }

    private string Timestamp() => time.GetUtcNow().UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture);
}
