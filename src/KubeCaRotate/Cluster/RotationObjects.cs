using System.Text;
using System.Text.Json.Nodes;
using KubeCaRotate.Rotation;

namespace KubeCaRotate.Cluster;

/// <summary>
/// Reads and edits single data fields of the ConfigMaps and Secrets a rotation changes (cluster-info,
/// extension-apiserver-authentication, kubeadm-certs) through the rotation's own API connection. A write is a JSON merge
/// patch of data.&lt;field&gt; alone, so concurrent writers of other fields (the API server itself keeps
/// extension-apiserver-authentication) are not overwritten.
/// </summary>
public sealed class RotationObjects(RotationApiConnection connection) : IClusterObjects
{
    public async Task<string?> ReadFieldAsync(ObjectTarget target, string field, CancellationToken ct)
    {
        switch (DataObjectKinds.Of(target))
        {
            case DataObjectKind.ConfigMap:
                var configMap = await connection.CallAsync((api, t) => api.GetConfigMapAsync(target.Namespace!, target.Name, t), ct).ConfigureAwait(false);
                return configMap?.Data is { } data && data.TryGetValue(field, out var text) ? text : null;
            default:
                var secret = await connection.CallAsync((api, t) => api.GetSecretAsync(target.Namespace!, target.Name, t), ct).ConfigureAwait(false);
                return secret?.Data is { } secretData && secretData.TryGetValue(field, out var bytes) && bytes is not null ? Encoding.UTF8.GetString(bytes) : null;
        }
    }

    public async Task WriteFieldAsync(ObjectTarget target, string field, string? value, CancellationToken ct)
    {
        var kind = DataObjectKinds.Of(target);
        JsonNode? encoded = value is null ? null
            : JsonValue.Create(kind == DataObjectKind.Secret ? Convert.ToBase64String(Encoding.UTF8.GetBytes(value)) : value);
        var patch = new JsonObject { ["data"] = new JsonObject { [field] = encoded } }.ToJsonString();
        try
        {
            if (kind == DataObjectKind.ConfigMap)
                await connection.CallAsync((api, t) => api.PatchConfigMapAsync(target.Namespace!, target.Name, patch, t), ct).ConfigureAwait(false);
            else
                await connection.CallAsync((api, t) => api.PatchSecretAsync(target.Namespace!, target.Name, patch, t), ct).ConfigureAwait(false);
        }
        catch (ClusterApiException e) when (e.IsNotFound)
        {
            throw new RotationException($"{target} does not exist, so its field {field} cannot be {(value is null ? "removed" : "set")}; check that the cluster has it (kubeadm creates it) and run again.", e);
        }
    }

    public async Task<bool> ExistsAsync(ObjectTarget target, CancellationToken ct) =>
        DataObjectKinds.Of(target) == DataObjectKind.ConfigMap
            ? await connection.CallAsync((api, t) => api.GetConfigMapAsync(target.Namespace!, target.Name, t), ct).ConfigureAwait(false) is not null
            : await connection.CallAsync((api, t) => api.GetSecretAsync(target.Namespace!, target.Name, t), ct).ConfigureAwait(false) is not null;

    public Task<bool> DeleteAsync(ObjectTarget target, CancellationToken ct) =>
        DataObjectKinds.Of(target) == DataObjectKind.ConfigMap
            ? connection.CallAsync((api, t) => api.DeleteConfigMapAsync(target.Namespace!, target.Name, t), ct)
            : connection.CallAsync((api, t) => api.DeleteSecretAsync(target.Namespace!, target.Name, t), ct);
}
