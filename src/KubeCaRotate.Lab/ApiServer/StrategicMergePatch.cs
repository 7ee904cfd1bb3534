using System.Text.Json.Nodes;

namespace KubeCaRotate.Lab.ApiServer;

/// <summary>
/// Strategic merge patch (application/strategic-merge-patch+json) for the list merge keys of the built-in types
/// that matter here: containers, initContainers, ephemeralContainers, volumes, env, imagePullSecrets and webhooks
/// by name; volumeMounts by mountPath; ports by containerPort; conditions and addresses by type; ownerReferences
/// by uid; finalizers as a merged set. Maps merge, null deletes, other lists are replaced. Directives:
/// "$patch": "replace" and "delete" on maps and list items, "$retainKeys", "$deleteFromPrimitiveList/…";
/// "$setElementOrder/…" is accepted and ignored (order of the original is kept, new items are appended).
/// The merge key is chosen by field name, not by the field's type, which is enough for these resources.
/// </summary>
public static class StrategicMergePatch
{
    private static readonly Dictionary<string, string> MergeKeys = new(StringComparer.Ordinal)
    {
        ["containers"] = "name",
        ["initContainers"] = "name",
        ["ephemeralContainers"] = "name",
        ["volumes"] = "name",
        ["env"] = "name",
        ["imagePullSecrets"] = "name",
        ["webhooks"] = "name",
        ["volumeMounts"] = "mountPath",
        ["volumeDevices"] = "devicePath",
        ["ports"] = "containerPort",
        ["conditions"] = "type",
        ["addresses"] = "type",
        ["ownerReferences"] = "uid",
        ["hostAliases"] = "ip",
        ["topologySpreadConstraints"] = "topologyKey",
    };

    private static readonly HashSet<string> MergedPrimitiveLists = ["finalizers"];

    public static JsonObject Apply(JsonObject original, JsonObject patch) =>
        MergeMap((JsonObject)original.DeepClone(), patch) ?? new JsonObject();

    private static JsonObject? MergeMap(JsonObject original, JsonObject patch)
    {
        switch (KubeJson.Str(patch["$patch"]))
        {
            case "delete":
                return null;
            case "replace":
                return WithoutDirectives(patch);
        }
        foreach (var (key, value) in patch)
        {
            if (key.StartsWith("$deleteFromPrimitiveList/", StringComparison.Ordinal))
            {
                var field = key["$deleteFromPrimitiveList/".Length..];
                if (original[field] is JsonArray list && value is JsonArray remove)
                    original[field] = new JsonArray([.. list.Where(x => !remove.Any(r => JsonNode.DeepEquals(r, x))).Select(x => x?.DeepClone())]);
                continue;
            }
            if (key.StartsWith('$'))
                continue;
            if (value is null)
            {
                original.Remove(key);
                continue;
            }
            switch (value)
            {
                case JsonObject patchMap when original[key] is JsonObject originalMap:
                    var merged = MergeMap(originalMap, patchMap);
                    if (merged is null)
                        original.Remove(key);
                    else if (!ReferenceEquals(merged, originalMap))
                        original[key] = merged;
                    break;
                case JsonObject patchMap:
                    var created = MergeMap(new JsonObject(), patchMap);
                    if (created is null)
                        original.Remove(key);
                    else
                        original[key] = created;
                    break;
                case JsonArray patchList:
                    original[key] = MergeList(key, original[key] as JsonArray, patchList);
                    break;
                default:
                    original[key] = value.DeepClone();
                    break;
            }
        }
        if (patch["$retainKeys"] is JsonArray retain)
        {
            var keep = retain.Select(KubeJson.Str).ToHashSet();
            foreach (var key in original.Select(kv => kv.Key).ToList())
                if (!keep.Contains(key))
                    original.Remove(key);
        }
        return original;
    }

    private static JsonArray MergeList(string field, JsonArray? original, JsonArray patch)
    {
        if (patch.Any(e => e is JsonObject o && KubeJson.Str(o["$patch"]) == "replace" && o.Count == 1))
            return new JsonArray([.. patch.Where(e => !(e is JsonObject o && KubeJson.Str(o["$patch"]) == "replace" && o.Count == 1)).Select(e => e?.DeepClone())]);
        if (MergedPrimitiveLists.Contains(field))
        {
            var union = new JsonArray([.. (original ?? []).Select(e => e?.DeepClone())]);
            foreach (var item in patch)
                if (!union.Any(u => JsonNode.DeepEquals(u, item)))
                    union.Add(item?.DeepClone());
            return union;
        }
        if (!MergeKeys.TryGetValue(field, out var mergeKey) || original is null)
            return new JsonArray([.. patch.Where(e => !(e is JsonObject o && KubeJson.Str(o["$patch"]) == "delete")).Select(e => e is JsonObject o ? WithoutDirectives(o) : e?.DeepClone())]);

        var result = new JsonArray([.. original.Select(e => e?.DeepClone())]);
        foreach (var item in patch)
        {
            if (item is not JsonObject patchItem)
            {
                result.Add(item?.DeepClone());
                continue;
            }
            var keyValue = patchItem[mergeKey];
            var index = -1;
            for (var i = 0; i < result.Count && keyValue is not null; i++)
                if (result[i] is JsonObject existing && JsonNode.DeepEquals(existing[mergeKey], keyValue))
                {
                    index = i;
                    break;
                }
            if (KubeJson.Str(patchItem["$patch"]) == "delete")
            {
                if (index >= 0)
                    result.RemoveAt(index);
                continue;
            }
            if (index >= 0)
            {
                var merged = MergeMap((JsonObject)result[index]!, patchItem);
                if (merged is null)
                    result.RemoveAt(index);
                else if (!ReferenceEquals(merged, result[index]))
                    result[index] = merged;
            }
            else
                result.Add(WithoutDirectives(patchItem));
        }
        return result;
    }

    private static JsonObject WithoutDirectives(JsonObject map)
    {
        var clean = new JsonObject();
        foreach (var (key, value) in map)
        {
            if (key.StartsWith('$'))
                continue;
            clean[key] = value switch
            {
                JsonObject o => WithoutDirectives(o),
                JsonArray a => new JsonArray([.. a.Select(e => e is JsonObject o ? WithoutDirectives(o) : e?.DeepClone())]),
                _ => value?.DeepClone(),
            };
        }
        return clean;
    }
}
