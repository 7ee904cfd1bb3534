using System.Text.Json.Nodes;

namespace KubeCaRotate.Lab.ApiServer;

/// <summary>
/// The legacy discovery documents (APIVersions, APIGroupList, APIGroup, APIResourceList). kubectl accepts
/// them in place of the aggregated v2 form and then asks each group-version for its resources.
/// </summary>
internal static class Discovery
{
    public static JsonObject ApiVersions(string serverAddress) => new()
    {
        ["kind"] = "APIVersions",
        ["versions"] = new JsonArray("v1"),
        ["serverAddressByClientCIDRs"] = new JsonArray(new JsonObject { ["clientCIDR"] = "0.0.0.0/0", ["serverAddress"] = serverAddress }),
    };

    public static JsonObject GroupList() => new()
    {
        ["kind"] = "APIGroupList",
        ["apiVersion"] = "v1",
        ["groups"] = new JsonArray([.. ApiResourceCatalog.Groups.Select(g => Group(g))]),
    };

    /// <summary>The APIGroup document for /apis/{group}, or null for a group the stand-in does not serve.</summary>
    public static JsonObject? GroupDocument(string group)
    {
        if (!ApiResourceCatalog.Groups.Contains(group))
            return null;
        var document = Group(group);
        document["kind"] = "APIGroup";
        document["apiVersion"] = "v1";
        return document;
    }

    private static JsonObject Group(string group)
    {
        var versions = ApiResourceCatalog.All.Where(r => r.Group == group).Select(r => r.Version).Distinct().ToList();
        return new JsonObject
        {
            ["name"] = group,
            ["versions"] = new JsonArray([.. versions.Select(v => new JsonObject { ["groupVersion"] = $"{group}/{v}", ["version"] = v })]),
            ["preferredVersion"] = new JsonObject { ["groupVersion"] = $"{group}/{versions[0]}", ["version"] = versions[0] },
        };
    }

    public static JsonObject? ResourceList(string group, string version)
    {
        var resources = ApiResourceCatalog.InGroupVersion(group, version).ToList();
        if (resources.Count == 0)
            return null;
        var list = new JsonArray();
        foreach (var r in resources)
        {
            list.Add(new JsonObject
            {
                ["name"] = r.Name,
                ["singularName"] = r.SingularName,
                ["namespaced"] = r.Namespaced,
                ["kind"] = r.Kind,
                ["verbs"] = new JsonArray([.. ApiResource.Verbs.Select(v => (JsonNode)v)]),
                ["shortNames"] = r.ShortNames.Count > 0 ? new JsonArray([.. r.ShortNames.Select(s => (JsonNode)s)]) : null,
                ["storageVersionHash"] = Convert.ToBase64String(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(r.GroupVersion + r.Kind)))[..11],
            });
            foreach (var sub in r.Subresources)
                list.Add(sub == "token"
                    ? new JsonObject
                    {
                        ["name"] = $"{r.Name}/{sub}", ["singularName"] = "", ["namespaced"] = r.Namespaced,
                        ["group"] = "authentication.k8s.io", ["version"] = "v1", ["kind"] = "TokenRequest", ["verbs"] = new JsonArray("create"),
                    }
                    : new JsonObject
                    {
                        ["name"] = $"{r.Name}/{sub}",
                        ["singularName"] = "",
                        ["namespaced"] = r.Namespaced,
                        ["kind"] = r.Kind,
                        ["verbs"] = new JsonArray("get", "patch", "update"),
                    });
        }
        foreach (var node in list.OfType<JsonObject>().Where(o => o["shortNames"] is null).ToList())
            node.Remove("shortNames");
        return new JsonObject
        {
            ["kind"] = "APIResourceList",
            ["apiVersion"] = "v1",
            ["groupVersion"] = group.Length == 0 ? version : $"{group}/{version}",
            ["resources"] = list,
        };
    }
}
