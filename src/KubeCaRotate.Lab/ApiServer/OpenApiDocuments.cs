using System.Security.Cryptography;
using System.Text.Json.Nodes;

namespace KubeCaRotate.Lab.ApiServer;

/// <summary>
/// A minimal OpenAPI v3: the index under /openapi/v3 and one document per group-version whose PATCH operations
/// declare the fieldValidation query parameter, which is what makes kubectl apply rely on server-side field
/// validation instead of downloading /openapi/v2. Schemas are bare objects tagged with their group-version-kind.
/// </summary>
internal static class OpenApiDocuments
{
    private static readonly Lazy<Dictionary<string, (JsonObject Document, string Hash)>> Documents = new(Build);

    public static JsonObject Index() => new()
    {
        ["paths"] = new JsonObject(Documents.Value.Select(kv => KeyValuePair.Create(kv.Key,
            (JsonNode?)new JsonObject { ["serverRelativeURL"] = $"/openapi/v3/{kv.Key}?hash={kv.Value.Hash}" }))),
    };

    /// <summary>The document for "api/v1" or "apis/apps/v1", or null.</summary>
    public static JsonObject? For(string groupVersionPath) =>
        Documents.Value.TryGetValue(groupVersionPath, out var d) ? d.Document : null;

    private static Dictionary<string, (JsonObject, string)> Build()
    {
        var result = new Dictionary<string, (JsonObject, string)>();
        foreach (var gv in ApiResourceCatalog.All.GroupBy(r => r.GroupVersion))
        {
            var paths = new JsonObject();
            var schemas = new JsonObject();
            foreach (var r in gv)
            {
                var prefix = r.Group.Length == 0 ? "/api/v1" : $"/apis/{r.Group}/{r.Version}";
                var item = r.Namespaced ? $"{prefix}/namespaces/{{namespace}}/{r.Name}/{{name}}" : $"{prefix}/{r.Name}/{{name}}";
                var schemaName = SchemaName(r);
                paths[item] = new JsonObject
                {
                    ["get"] = Operation(r, "get", "read", schemaName),
                    ["put"] = Operation(r, "put", "replace", schemaName),
                    ["patch"] = Operation(r, "patch", "patch", schemaName),
                    ["delete"] = Operation(r, "delete", "delete", schemaName),
                };
                schemas[schemaName] = new JsonObject
                {
                    ["type"] = "object",
                    ["properties"] = new JsonObject
                    {
                        ["apiVersion"] = new JsonObject { ["type"] = "string" },
                        ["kind"] = new JsonObject { ["type"] = "string" },
                        ["metadata"] = new JsonObject { ["type"] = "object" },
                    },
                    ["x-kubernetes-group-version-kind"] = new JsonArray(Gvk(r)),
                };
            }
            var document = new JsonObject
            {
                ["openapi"] = "3.0.0",
                ["info"] = new JsonObject { ["title"] = "Kubernetes", ["version"] = "unversioned" },
                ["paths"] = paths,
                ["components"] = new JsonObject { ["schemas"] = schemas },
            };
            var key = gv.First().Group.Length == 0 ? "api/v1" : $"apis/{gv.Key}";
            result[key] = (document, Convert.ToHexString(SHA512.HashData(KubeJson.Bytes(document))));
        }
        return result;
    }

    private static JsonObject Operation(ApiResource r, string action, string verb, string schemaName)
    {
        var parameters = new JsonArray(
            Query("dryRun"), Query("fieldManager"));
        if (action is "put" or "patch")
            parameters.Add(Query("fieldValidation"));
        if (action == "patch")
            parameters.Add(Query("force", "boolean"));
        var group = r.Group.Length == 0 ? "Core" : string.Concat(r.Group.Split('.')[0].Select((c, i) => i == 0 ? char.ToUpperInvariant(c) : c));
        return new JsonObject
        {
            ["operationId"] = $"{verb}{group}{char.ToUpperInvariant(r.Version[0])}{r.Version[1..]}{(r.Namespaced ? "Namespaced" : "")}{r.Kind}",
            ["parameters"] = parameters,
            ["responses"] = new JsonObject
            {
                ["200"] = new JsonObject
                {
                    ["description"] = "OK",
                    ["content"] = new JsonObject
                    {
                        ["application/json"] = new JsonObject { ["schema"] = new JsonObject { ["$ref"] = $"#/components/schemas/{schemaName}" } },
                    },
                },
            },
            ["x-kubernetes-action"] = action,
            ["x-kubernetes-group-version-kind"] = Gvk(r),
        };
    }

    private static JsonObject Query(string name, string type = "string") => new()
    {
        ["name"] = name,
        ["in"] = "query",
        ["schema"] = new JsonObject { ["type"] = type, ["uniqueItems"] = true },
    };

    private static JsonObject Gvk(ApiResource r) => new() { ["group"] = r.Group, ["kind"] = r.Kind, ["version"] = r.Version };

    private static string SchemaName(ApiResource r) =>
        r.Group.Length == 0 ? $"io.k8s.api.core.v1.{r.Kind}" : $"io.k8s.api.{r.Group.Split('.')[0]}.{r.Version}.{r.Kind}";
}
