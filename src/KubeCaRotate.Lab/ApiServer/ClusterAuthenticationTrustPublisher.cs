using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace KubeCaRotate.Lab.ApiServer;

/// <summary>
/// Keeps kube-system/extension-apiserver-authentication as kube-apiserver's cluster_authentication_trust_controller
/// does: the certificates already in the ConfigMap united with this server's --client-ca-file and
/// --requestheader-client-ca-file, duplicates removed and expired certificates dropped; the requestheader
/// name and header lists united likewise (JSON string arrays). Several API servers share the ConfigMap, so what
/// it trusts only grows until certificates expire or someone edits it. Runs at start, when the files change
/// and on a periodic resync.
/// </summary>
internal sealed class ClusterAuthenticationTrustPublisher(ApiServerOptions options, ClientCertificateVerifier bundles, ObjectRegistry registry, TimeProvider time)
{
    public const string Namespace = "kube-system";
    public const string Name = "extension-apiserver-authentication";
    private static readonly TimeSpan Resync = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan FilePoll = TimeSpan.FromSeconds(1);

    public async Task RunAsync(CancellationToken ct)
    {
        var published = (-1, -1);
        string? writtenVersion = null;
        var lastSync = DateTimeOffset.MinValue;
        while (!ct.IsCancellationRequested)
        {
            try
            {
                var versions = (bundles.ClientCa?.Current.Version ?? 0, bundles.RequestHeaderCa?.Current.Version ?? 0);
                // The real controller also watches the ConfigMap: when someone edits or deletes it, it is merged again.
                var stored = await CurrentResourceVersionAsync(ct);
                if (versions != published || stored != writtenVersion || time.GetUtcNow() - lastSync >= Resync)
                {
                    writtenVersion = await PublishAsync(ct);
                    published = versions;
                    lastSync = time.GetUtcNow();
                }
            }
            catch (ApiStatusException) when (!ct.IsCancellationRequested)
            {
                // store unreachable or a conflict with another API server: try again on the next poll
            }
            try
            {
                await Task.Delay(FilePoll, time, ct);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private async Task<string?> CurrentResourceVersionAsync(CancellationToken ct)
    {
        try
        {
            var (current, _) = await registry.GetAsync(ApiServerResources.ConfigMaps, Namespace, Name, ct);
            return KubeJson.Str(current["metadata"]?["resourceVersion"]);
        }
        catch (ApiStatusException e) when (e.Code == 404)
        {
            return null;
        }
    }

    /// <summary>Merges this server's trust into the ConfigMap once (with retries on conflicts); returns its resourceVersion.</summary>
    public async Task<string?> PublishAsync(CancellationToken ct)
    {
        var configMaps = ApiServerResources.ConfigMaps;
        for (var attempt = 0; ; attempt++)
        {
            await EnsureNamespaceAsync(ct);
            (JsonObject Object, Store.StoredObject Stored)? existing = null;
            try
            {
                existing = await registry.GetAsync(configMaps, Namespace, Name, ct);
            }
            catch (ApiStatusException e) when (e.Code == 404)
            {
            }
            var oldData = existing?.Object["data"] as JsonObject ?? new JsonObject();
            var data = Merge(oldData);
            try
            {
                if (existing is { } current)
                {
                    if (JsonNode.DeepEquals(oldData, data))
                        return KubeJson.Str(current.Object["metadata"]?["resourceVersion"]);
                    var updated = (JsonObject)current.Object.DeepClone();
                    updated["data"] = data;
                    var written = await registry.UpdateAsync(configMaps, Namespace, Name, "", updated, current.Object, current.Stored, dryRun: false, ct);
                    return KubeJson.Str(written["metadata"]?["resourceVersion"]);
                }
                else
                {
                    var created = new JsonObject
                    {
                        ["apiVersion"] = "v1",
                        ["kind"] = "ConfigMap",
                        ["metadata"] = new JsonObject { ["name"] = Name, ["namespace"] = Namespace },
                        ["data"] = data,
                    };
                    var written = await registry.CreateAsync(configMaps, Namespace, created, dryRun: false, ct);
                    return KubeJson.Str(written["metadata"]?["resourceVersion"]);
                }
            }
            catch (ApiStatusException e) when (e.Code == 409 && attempt < 10)
            {
                // another API server wrote it first: merge again with what it wrote
            }
        }
    }

    private JsonObject Merge(JsonObject old)
    {
        var data = new JsonObject();
        var clientCa = CombineCertificates(KubeJson.Str(old["client-ca-file"]), bundles.ClientCa?.Current.Certificates);
        if (clientCa.Length > 0)
            data["client-ca-file"] = clientCa;
        var requestHeaderCa = CombineCertificates(KubeJson.Str(old["requestheader-client-ca-file"]), bundles.RequestHeaderCa?.Current.Certificates);
        if (requestHeaderCa.Length > 0)
        {
            data["requestheader-client-ca-file"] = requestHeaderCa;
            data["requestheader-username-headers"] = CombineLists(old["requestheader-username-headers"], options.RequestHeaderUsernameHeaders);
            if (options.RequestHeaderUidHeaders.Count > 0 || old.ContainsKey("requestheader-uid-headers"))
                data["requestheader-uid-headers"] = CombineLists(old["requestheader-uid-headers"], options.RequestHeaderUidHeaders);
            data["requestheader-group-headers"] = CombineLists(old["requestheader-group-headers"], options.RequestHeaderGroupHeaders);
            data["requestheader-extra-headers-prefix"] = CombineLists(old["requestheader-extra-headers-prefix"], options.RequestHeaderExtraHeadersPrefix);
            data["requestheader-allowed-names"] = CombineLists(old["requestheader-allowed-names"], options.RequestHeaderAllowedNames);
        }
        return data;
    }

    private string CombineCertificates(string? existingPem, IReadOnlyList<X509Certificate2>? own)
    {
        var all = new List<X509Certificate2>();
        if (!string.IsNullOrEmpty(existingPem))
        {
            var parsed = new X509Certificate2Collection();
            try
            {
                parsed.ImportFromPem(existingPem);
            }
            catch (System.Security.Cryptography.CryptographicException)
            {
                // an unparsable bundle in the ConfigMap is replaced by ours, as the real controller does
            }
            all.AddRange(parsed);
        }
        all.AddRange(own ?? []);
        var now = time.GetUtcNow();
        var seen = new HashSet<string>();
        var pem = new StringBuilder();
        foreach (var cert in all)
        {
            if (cert.NotAfter.ToUniversalTime() < now.UtcDateTime || !seen.Add(Convert.ToHexString(cert.RawData)))
                continue;
            pem.Append(cert.ExportCertificatePem()).Append('\n');
        }
        return pem.ToString();
    }

    private static string CombineLists(JsonNode? existing, IReadOnlyList<string> own)
    {
        var values = new List<string>();
        if (KubeJson.Str(existing) is { Length: > 0 } text)
        {
            try
            {
                values.AddRange(JsonSerializer.Deserialize<List<string>>(text) ?? []);
            }
            catch (JsonException)
            {
                // not a JSON list: start from ours
            }
        }
        foreach (var v in own)
            if (!values.Contains(v))
                values.Add(v);
        return JsonSerializer.Serialize(values);
    }

    private async Task EnsureNamespaceAsync(CancellationToken ct)
    {
        try
        {
            await registry.GetAsync(ApiResourceCatalog.Namespaces, null, Namespace, ct);
        }
        catch (ApiStatusException e) when (e.Code == 404)
        {
            try
            {
                await registry.CreateAsync(ApiResourceCatalog.Namespaces, null,
                    new JsonObject { ["metadata"] = new JsonObject { ["name"] = Namespace } }, dryRun: false, ct);
            }
            catch (ApiStatusException conflict) when (conflict.Code == 409)
            {
            }
        }
    }
}
