using System.Text.Json.Nodes;

namespace KubeCaRotate.Lab.ApiServer;

/// <summary>RFC 6902 JSON patch (application/json-patch+json): add, remove, replace, move, copy and test over JSON pointers.</summary>
public static class JsonPatch
{
    public static JsonNode Apply(JsonNode document, JsonArray operations)
    {
        var root = new JsonObject { ["doc"] = document.DeepClone() };
        foreach (var entry in operations)
        {
            if (entry is not JsonObject op)
                throw ApiStatusException.BadRequest("A JSON patch operation is not an object.");
            var name = KubeJson.Str(op["op"]);
            var path = KubeJson.Str(op["path"]) ?? throw ApiStatusException.BadRequest($"The JSON patch operation '{name}' has no path.");
            switch (name)
            {
                case "add": Add(root, path, Value(op)); break;
                case "remove": Remove(root, path); break;
                case "replace": Remove(root, path); Add(root, path, Value(op)); break;
                case "move": { var from = From(op); var v = Get(root, from)?.DeepClone(); Remove(root, from); Add(root, path, v); break; }
                case "copy": Add(root, path, Get(root, From(op))?.DeepClone()); break;
                case "test":
                    if (!JsonNode.DeepEquals(Get(root, path), op["value"]))
                        throw new ApiStatusException(422, "Invalid", $"the JSON patch test at {path} failed");
                    break;
                default: throw ApiStatusException.BadRequest($"The JSON patch operation '{name}' is not supported.");
            }
        }
        return root["doc"] ?? throw ApiStatusException.BadRequest("The JSON patch removed the whole document.");
    }

    private static JsonNode? Value(JsonObject op) =>
        op.ContainsKey("value") ? op["value"]?.DeepClone() : throw ApiStatusException.BadRequest("A JSON patch operation has no value.");

    private static string From(JsonObject op) => KubeJson.Str(op["from"]) ?? throw ApiStatusException.BadRequest("A JSON patch move or copy has no from.");

    private static string[] Tokens(string path)
    {
        if (path.Length > 0 && path[0] != '/')
            throw ApiStatusException.BadRequest($"The JSON pointer '{path}' does not start with '/'.");
        return ["doc", .. path.Split('/').Skip(1).Select(t => t.Replace("~1", "/").Replace("~0", "~"))];
    }

    private static (JsonNode Parent, string Last) Parent(JsonObject root, string path)
    {
        var tokens = Tokens(path);
        JsonNode node = root;
        foreach (var token in tokens[..^1])
            node = Child(node, token) ?? throw Missing(path);
        return (node, tokens[^1]);
    }

    private static JsonNode? Child(JsonNode node, string token) => node switch
    {
        JsonObject o => o[token],
        JsonArray a when int.TryParse(token, out var i) && i >= 0 && i < a.Count => a[i],
        _ => null,
    };

    private static JsonNode? Get(JsonObject root, string path)
    {
        var (parent, last) = Parent(root, path);
        return parent switch
        {
            JsonObject o when o.ContainsKey(last) => o[last],
            JsonArray a when int.TryParse(last, out var i) && i >= 0 && i < a.Count => a[i],
            _ => throw Missing(path),
        };
    }

    private static void Add(JsonObject root, string path, JsonNode? value)
    {
        var (parent, last) = Parent(root, path);
        switch (parent)
        {
            case JsonObject o: o[last] = value; break;
            case JsonArray a when last == "-": a.Add(value); break;
            case JsonArray a when int.TryParse(last, out var i) && i >= 0 && i <= a.Count: a.Insert(i, value); break;
            default: throw Missing(path);
        }
    }

    private static void Remove(JsonObject root, string path)
    {
        var (parent, last) = Parent(root, path);
        switch (parent)
        {
            case JsonObject o when o.ContainsKey(last): o.Remove(last); break;
            case JsonArray a when int.TryParse(last, out var i) && i >= 0 && i < a.Count: a.RemoveAt(i); break;
            default: throw Missing(path);
        }
    }

    private static ApiStatusException Missing(string path) =>
        new(422, "Invalid", $"the JSON patch path {path} does not exist in the object");
}
