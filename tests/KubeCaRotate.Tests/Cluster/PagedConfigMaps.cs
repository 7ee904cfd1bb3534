using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace KubeCaRotate.Tests.Cluster;

/// <summary>
/// ConfigMaps in many namespaces, listed cluster-wide the way kube-apiserver pages them: in key order
/// (namespace/name), <c>limit</c> items a page, a <c>metadata.continue</c> token (base64url JSON naming the key
/// to start from and the list's resourceVersion) and <c>remainingItemCount</c> while more remain.
/// </summary>
public sealed class PagedConfigMaps
{
    private const int ListResourceVersion = 48213;
    private readonly List<(string Key, JsonObject Object)> _items;

    public PagedConfigMaps(int count, int namespaces)
    {
        _items = [.. Enumerable.Range(0, count)
            .Select(i => ScriptedApiServer.ConfigMap($"ns-{i % namespaces:D3}", $"cm-{i:D5}", 1000 + i, new Dictionary<string, string> { ["index"] = i.ToString(System.Globalization.CultureInfo.InvariantCulture) }))
            .Select(o => ($"{o["metadata"]!["namespace"]}/{o["metadata"]!["name"]}", o))
            .OrderBy(x => x.Item1, StringComparer.Ordinal)];
    }

    public IReadOnlyList<string> Keys => [.. _items.Select(i => i.Key)];

    /// <summary>The continue token the server hands out for a page that ended at <paramref name="lastKey"/>.</summary>
    public static string ContinueAfter(string lastKey) =>
        Convert.ToBase64String(Encoding.UTF8.GetBytes(new JsonObject { ["v"] = "meta.k8s.io/v1", ["rv"] = ListResourceVersion, ["start"] = lastKey + "\u0000" }.ToJsonString()))
            .TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static string StartOf(string token)
    {
        var b64 = token.Replace('-', '+').Replace('_', '/');
        b64 += new string('=', (4 - b64.Length % 4) % 4);
        return JsonNode.Parse(Convert.FromBase64String(b64))!["start"]!.GetValue<string>();
    }

    /// <summary>Answers GET /api/v1/configmaps?limit=N[&amp;continue=T] with one page.</summary>
    public Task AnswerAsync(HttpContext http, SeenRequest request)
    {
        if (request.Method != "GET" || request.Path != "/api/v1/configmaps")
            return ScriptedApiServer.WriteStatusAsync(http, 404, "NotFound", "the server could not find the requested resource");
        var limit = request.Query.TryGetValue("limit", out var l) ? int.Parse(l, System.Globalization.CultureInfo.InvariantCulture) : int.MaxValue;
        var start = request.Query.TryGetValue("continue", out var c) && c.Length > 0 ? StartOf(c) : "";
        var rest = _items.Where(i => string.CompareOrdinal(i.Key, start) >= 0).ToList();
        var page = rest.Take(limit).ToList();
        var metadata = new JsonObject { ["resourceVersion"] = ListResourceVersion.ToString(System.Globalization.CultureInfo.InvariantCulture) };
        if (rest.Count > page.Count)
        {
            metadata["continue"] = ContinueAfter(page[^1].Key);
            metadata["remainingItemCount"] = rest.Count - page.Count;
        }
        var items = new JsonArray([.. page.Select(p =>
        {
            var item = p.Object.DeepClone().AsObject();
            item.Remove("kind"); // list items carry no kind/apiVersion on the wire
            item.Remove("apiVersion");
            return (JsonNode)item;
        })]);
        return ScriptedApiServer.WriteJsonAsync(http, new JsonObject { ["kind"] = "ConfigMapList", ["apiVersion"] = "v1", ["metadata"] = metadata, ["items"] = items });
    }
}
