using System.Text;
using System.Text.Json.Nodes;

namespace KubeCaRotate.Lab.ControllerManager;

/// <summary>
/// The tokens controller's part that matters for rotation: every kubernetes.io/service-account-token Secret keeps
/// data.ca.crt equal to the root CA (and data.namespace filled), updated whenever it differs.
/// </summary>
public sealed class TokensController(KubeconfigClient client, string rootCaPem, TimeProvider time, TextWriter log)
{
    public const string TokenSecretType = "kubernetes.io/service-account-token";
    private readonly string _rootCa = Convert.ToBase64String(Encoding.UTF8.GetBytes(rootCaPem));

    public async Task SyncAsync(IReadOnlyList<JsonObject> tokenSecrets, CancellationToken ct)
    {
        foreach (var secret in tokenSecrets)
        {
            if (secret["type"]?.GetValue<string>() != TokenSecretType)
                continue;
            var ns = secret["metadata"]?["namespace"]?.GetValue<string>() ?? "";
            var name = secret["metadata"]?["name"]?.GetValue<string>() ?? "";
            var data = secret["data"] as JsonObject;
            var nsData = Convert.ToBase64String(Encoding.UTF8.GetBytes(ns));
            if (data?["ca.crt"]?.GetValue<string>() == _rootCa && data["namespace"] is not null)
                continue;
            var updated = (JsonObject)secret.DeepClone();
            var newData = updated["data"] as JsonObject ?? new JsonObject();
            newData["ca.crt"] = _rootCa;
            newData["namespace"] ??= nsData;
            updated["data"] = newData;
            try
            {
                await client.ReplaceAsync($"/api/v1/namespaces/{ns}/secrets/{name}", updated, ct).ConfigureAwait(false);
                log.WriteLine($"{time.GetUtcNow():O} tokens: updated ca.crt of {ns}/{name}");
            }
            catch (ApiCallException e) when (e.IsConflict || e.IsNotFound)
            {
            }
        }
    }
}
