using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using KubeCaRotate.Lab.Store;

namespace KubeCaRotate.Lab.ApiServer;

/// <summary>
/// Objects in the store as kube-apiserver's generic registry keeps them: the stored JSON has no
/// resourceVersion (it is the key's mod revision, set on every read); create fills uid, creationTimestamp and
/// generation and requires the namespace; update checks resourceVersion, keeps what the client may not change,
/// counts spec changes in metadata.generation for workloads, and separates the main resource from /status.
/// Failures are <see cref="ApiStatusException"/>s carrying the Status kube-apiserver would answer.
/// </summary>
internal sealed partial class ObjectRegistry(IObjectStore store, TimeProvider time)
{
    private const string GenerateNameAlphabet = "bcdfghjklmnpqrstvwxz2456789";

    public IObjectStore Store { get; } = store;

    public static JsonObject Decode(StoredObject stored, long? revision = null)
    {
        var obj = KubeJson.ParseObject(stored.Value, $"stored object {stored.Key}");
        KubeJson.Metadata(obj)["resourceVersion"] = (revision ?? stored.ModRevision).ToString(CultureInfo.InvariantCulture);
        return obj;
    }

    public static byte[] Encode(JsonObject obj)
    {
        var copy = (JsonObject)obj.DeepClone();
        KubeJson.Metadata(copy).Remove("resourceVersion");
        return KubeJson.Bytes(copy);
    }

    public async Task<(JsonObject Object, StoredObject Stored)> GetAsync(ApiResource resource, string? ns, string name, CancellationToken ct)
    {
        var stored = await Call(() => Store.GetAsync(resource.Key(ns, name), ct)) ?? throw ApiStatusException.NotFound(resource, name);
        return (Decode(stored), stored);
    }

    public async Task<(List<(JsonObject Object, string Key)> Items, long Revision)> ListAsync(ApiResource resource, string? ns, CancellationToken ct)
    {
        var list = await Call(() => Store.ListAsync(resource.CollectionPrefix(ns), ct));
        return (list.Items.Select(s => (Decode(s), s.Key)).ToList(), list.Revision);
    }

    /// <summary>One page of a list (see <see cref="IObjectStore.ListPageAsync"/>): only its objects are decoded.</summary>
    public async Task<(List<(JsonObject Object, string Key)> Items, StoredPage Page)> ListPageAsync(ApiResource resource, string? ns, string? startKey, long limit, long atRevision, CancellationToken ct)
    {
        var page = await Call(() => Store.ListPageAsync(resource.CollectionPrefix(ns), startKey, limit, atRevision, ct));
        return (page.Items.Select(s => (Decode(s), s.Key)).ToList(), page);
    }

    public async Task<JsonObject> CreateAsync(ApiResource resource, string? ns, JsonObject obj, bool dryRun, CancellationToken ct)
    {
        CheckKind(resource, obj);
        var metadata = KubeJson.Metadata(obj);
        var bodyNamespace = KubeJson.Str(metadata["namespace"]);
        if (resource.Namespaced)
        {
            if (!string.IsNullOrEmpty(bodyNamespace) && bodyNamespace != ns)
                throw ApiStatusException.BadRequest("the namespace of the provided object does not match the namespace sent on the request");
            metadata["namespace"] = ns;
            if (await Call(() => Store.GetAsync(ApiResourceCatalog.Namespaces.Key(null, ns!), ct)) is null)
                throw ApiStatusException.NotFound(ApiResourceCatalog.Namespaces, ns!);
        }
        else
            metadata.Remove("namespace");

        var name = KubeJson.Str(metadata["name"]);
        if (string.IsNullOrEmpty(name))
        {
            var prefix = KubeJson.Str(metadata["generateName"]);
            if (string.IsNullOrEmpty(prefix))
                throw ApiStatusException.Invalid(resource, "", "metadata.name", "name or generateName is required");
            name = prefix + string.Concat(Enumerable.Range(0, 5).Select(_ => GenerateNameAlphabet[Random.Shared.Next(GenerateNameAlphabet.Length)]));
            metadata["name"] = name;
        }
        ValidateName(resource, name);

        metadata.Remove("resourceVersion");
        metadata.Remove("deletionTimestamp");
        metadata.Remove("deletionGracePeriodSeconds");
        metadata["uid"] = Guid.NewGuid().ToString();
        metadata["creationTimestamp"] = KubeJson.Timestamp(time.GetUtcNow());
        StampManagedFields(metadata, resource);
        if (resource.TracksGeneration)
            metadata["generation"] = 1;
        else
            metadata.Remove("generation");
        ApplyDefaults(resource, obj);

        if (dryRun)
            return obj;
        try
        {
            var stored = await Call(() => Store.CreateAsync(resource.Key(ns, name), Encode(obj), ct));
            return Decode(stored);
        }
        catch (StoreConflictException)
        {
            throw ApiStatusException.AlreadyExists(resource, name);
        }
    }

    /// <summary>
    /// Replaces an object (PUT, or the result of a patch). <paramref name="subresource"/> is "" for the main
    /// resource, "status" or "approval". <paramref name="current"/> is the object the change was computed from.
    /// </summary>
    public async Task<JsonObject> UpdateAsync(ApiResource resource, string? ns, string name, string subresource, JsonObject incoming,
        JsonObject current, StoredObject currentStored, bool dryRun, CancellationToken ct)
    {
        CheckKind(resource, incoming);
        var incomingMeta = KubeJson.Metadata(incoming);
        var incomingName = KubeJson.Str(incomingMeta["name"]);
        if (!string.IsNullOrEmpty(incomingName) && incomingName != name)
            throw ApiStatusException.BadRequest($"the name of the object ({incomingName}) does not match the name on the URL ({name})");
        if (resource.Namespaced && KubeJson.Str(incomingMeta["namespace"]) is { Length: > 0 } bodyNs && bodyNs != ns)
            throw ApiStatusException.BadRequest("the namespace of the provided object does not match the namespace sent on the request");
        var rv = KubeJson.Str(incomingMeta["resourceVersion"]);
        if (string.IsNullOrEmpty(rv) && subresource.Length == 0 && !resource.AllowsUnconditionalUpdate)
            throw ApiStatusException.Invalid(resource, name, "metadata.resourceVersion", "Invalid value: 0x0: must be specified for an update");
        if (!string.IsNullOrEmpty(rv) && rv != currentStored.ModRevision.ToString(CultureInfo.InvariantCulture))
            throw ApiStatusException.Conflict(resource, name);

        JsonObject updated;
        switch (subresource)
        {
            case "status":
                updated = (JsonObject)current.DeepClone();
                updated["status"] = incoming["status"]?.DeepClone();
                break;
            case "approval":
                updated = (JsonObject)current.DeepClone();
                updated["status"] ??= new JsonObject();
                updated["status"]!["conditions"] = incoming["status"]?["conditions"]?.DeepClone();
                break;
            default:
                updated = (JsonObject)incoming.DeepClone();
                if (resource.HasStatus)
                    updated["status"] = current["status"]?.DeepClone();
                if (updated["status"] is null)
                    updated.Remove("status");
                break;
        }
        updated["apiVersion"] = resource.GroupVersion;
        updated["kind"] = resource.Kind;
        var meta = KubeJson.Metadata(updated);
        var currentMeta = KubeJson.Metadata(current);
        if (subresource.Length > 0)
        {
            updated["metadata"] = currentMeta.DeepClone();
            meta = KubeJson.Metadata(updated);
        }
        meta["name"] = name;
        if (resource.Namespaced)
            meta["namespace"] = ns;
        foreach (var fixedField in new[] { "uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "generation", "managedFields" })
        {
            if (currentMeta[fixedField] is { } value)
                meta[fixedField] = value.DeepClone();
            else
                meta.Remove(fixedField);
        }
        ApplyDefaults(resource, updated);
        if (resource.TracksGeneration && subresource.Length == 0 && !JsonNode.DeepEquals(current["spec"], updated["spec"]))
            meta["generation"] = (currentMeta["generation"]?.GetValue<long>() ?? 0) + 1;

        meta["resourceVersion"] = currentStored.ModRevision.ToString(CultureInfo.InvariantCulture);
        if (JsonNode.DeepEquals(updated, current) || dryRun)
            return updated; // kube-apiserver does not write a no-op update: the resourceVersion stays
        StampManagedFields(meta, resource);
        try
        {
            var stored = await Call(() => Store.UpdateAsync(resource.Key(ns, name), Encode(updated), currentStored.ModRevision, ct));
            return Decode(stored);
        }
        catch (StoreConflictException)
        {
            throw ApiStatusException.Conflict(resource, name);
        }
        catch (StoreNotFoundException)
        {
            throw ApiStatusException.NotFound(resource, name);
        }
    }

    /// <summary>
    /// DELETE of one object. Preconditions (uid, resourceVersion) must match or it is a 409. Pods are deleted gracefully
    /// (<see cref="PodGracefulDeletion"/>): the answer is then the object as it stays, with its deletionTimestamp;
    /// everything else goes from storage at once, answered with the object as it was.
    /// </summary>
    public async Task<JsonObject> DeleteAsync(ApiResource resource, string? ns, string name, DeleteOptions options, bool dryRun, CancellationToken ct)
    {
        var (current, stored) = await GetAsync(resource, ns, name, ct);
        if (!string.IsNullOrEmpty(options.PreconditionUid) && options.PreconditionUid != KubeJson.Str(current["metadata"]?["uid"]))
            throw new ApiStatusException(409, "Conflict",
                $"Operation cannot be fulfilled on {resource.QualifiedName} \"{name}\": Precondition failed: UID in precondition: {options.PreconditionUid}, UID in object meta: {KubeJson.Str(current["metadata"]?["uid"])}");
        if (!string.IsNullOrEmpty(options.PreconditionResourceVersion) && options.PreconditionResourceVersion != stored.ModRevision.ToString(CultureInfo.InvariantCulture))
            throw ApiStatusException.Conflict(resource, name);
        if (resource.Name == "pods" && resource.Group.Length == 0)
        {
            var (outcome, marked) = PodGracefulDeletion.Decide(current, options.GracePeriodSeconds, time.GetUtcNow());
            if (outcome == PodGracefulDeletion.Outcome.Pending)
                return current;
            if (outcome == PodGracefulDeletion.Outcome.Mark)
            {
                if (dryRun)
                    return marked!;
                try
                {
                    return Decode(await Call(() => Store.UpdateAsync(stored.Key, Encode(marked!), stored.ModRevision, ct)));
                }
                catch (StoreConflictException)
                {
                    throw ApiStatusException.Conflict(resource, name);
                }
                catch (StoreNotFoundException)
                {
                    throw ApiStatusException.NotFound(resource, name);
                }
            }
        }
        if (dryRun)
            return current;
        try
        {
            await Call(() => Store.DeleteAsync(stored.Key, stored.ModRevision, ct));
        }
        catch (StoreNotFoundException)
        {
            throw ApiStatusException.NotFound(resource, name);
        }
        catch (StoreConflictException)
        {
            throw ApiStatusException.Conflict(resource, name);
        }
        if (resource == ApiResourceCatalog.Namespaces)
            await DeleteNamespaceContentsAsync(name, ct);
        return current;
    }

    /// <summary>What the namespace controller does after a namespace is deleted, done at once.</summary>
    private async Task DeleteNamespaceContentsAsync(string ns, CancellationToken ct)
    {
        foreach (var resource in ApiResourceCatalog.All.Where(r => r.Namespaced))
        {
            var list = await Call(() => Store.ListAsync(resource.CollectionPrefix(ns), ct));
            foreach (var item in list.Items)
            {
                try
                {
                    await Call(() => Store.DeleteAsync(item.Key, null, ct));
                }
                catch (StoreNotFoundException)
                {
                    // deleted by someone else meanwhile
                }
            }
        }
    }

    /// <summary>Runs a store call, turning an unreachable store into a 503 Status.</summary>
    public static async Task<T> Call<T>(Func<Task<T>> call)
    {
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (StoreUnavailableException e)
        {
            throw ApiStatusException.Unavailable($"the storage backend is unavailable: {e.Message}");
        }
    }

    public static async Task Call(Func<Task> call) => await Call(async () => { await call().ConfigureAwait(false); return true; });

    private static void CheckKind(ApiResource resource, JsonObject obj)
    {
        var kind = KubeJson.Str(obj["kind"]);
        var apiVersion = KubeJson.Str(obj["apiVersion"]);
        if (!string.IsNullOrEmpty(kind) && kind != resource.Kind)
            throw ApiStatusException.BadRequest($"the object's kind {kind} does not match the resource {resource.QualifiedName}, which holds {resource.Kind}");
        if (!string.IsNullOrEmpty(apiVersion) && apiVersion != resource.GroupVersion)
            throw ApiStatusException.BadRequest($"the API version in the data ({apiVersion}) does not match the expected API version ({resource.GroupVersion})");
        obj["kind"] = resource.Kind;
        obj["apiVersion"] = resource.GroupVersion;
    }

    private static void ValidateName(ApiResource resource, string name)
    {
        if (name.Length > 253 || !DnsSubdomain().IsMatch(name))
            throw ApiStatusException.Invalid(resource, name, "metadata.name",
                $"Invalid value: \"{name}\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character");
        if (resource == ApiResourceCatalog.Namespaces && (name.Length > 63 || name.Contains('.')))
            throw ApiStatusException.Invalid(resource, name, "metadata.name", $"Invalid value: \"{name}\": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-'");
    }

    /// <summary>The few defaults and conversions kube-apiserver applies that show up in what kubectl prints.</summary>
    private static void ApplyDefaults(ApiResource resource, JsonObject obj)
    {
        switch (resource.Name)
        {
            case "namespaces":
                obj["spec"] ??= new JsonObject { ["finalizers"] = new JsonArray("kubernetes") };
                obj["status"] ??= new JsonObject { ["phase"] = "Active" };
                var labels = KubeJson.Metadata(obj)["labels"] as JsonObject ?? new JsonObject();
                labels["kubernetes.io/metadata.name"] = KubeJson.Name(obj);
                KubeJson.Metadata(obj)["labels"] = labels;
                break;
            case "secrets":
                obj["type"] ??= "Opaque";
                if (obj["stringData"] is JsonObject stringData)
                {
                    var data = obj["data"] as JsonObject ?? new JsonObject();
                    foreach (var (key, value) in stringData)
                        data[key] = Convert.ToBase64String(Encoding.UTF8.GetBytes(KubeJson.Str(value) ?? ""));
                    obj["data"] = data;
                    obj.Remove("stringData");
                }
                break;
            case "pods":
                // as the pod defaults: 30 s to stop when the pod spec says nothing
                if (obj["spec"] is JsonObject podSpec)
                    podSpec["terminationGracePeriodSeconds"] ??= 30;
                break;
            case "deployments" or "statefulsets" or "replicasets":
                if (obj["spec"] is JsonObject spec)
                    spec["replicas"] ??= 1;
                break;
        }
    }

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")]
    private static partial Regex DnsSubdomain();

    /// <summary>
    /// metadata.managedFields as far as the lab needs it: one entry whose time is the object's last change (a real
    /// API server keeps one per manager; the newest time is the same). Tools read it to tell when CA data changed.
    /// </summary>
    private void StampManagedFields(JsonObject metadata, ApiResource resource) =>
        metadata["managedFields"] = new JsonArray(new JsonObject
        {
            ["manager"] = "lab",
            ["operation"] = "Update",
            ["apiVersion"] = resource.GroupVersion,
            ["time"] = KubeJson.Timestamp(time.GetUtcNow()),
            ["fieldsType"] = "FieldsV1",
            ["fieldsV1"] = new JsonObject(),
        });
}
