using System.Text;
using System.Text.Json.Nodes;

namespace KubeCaRotate.Lab.ApiServer;

/// <summary>
/// Reads the Kubernetes protobuf encoding ("k8s\0" + runtime.Unknown) for the few kinds kubectl's generators
/// send as protobuf (kubectl create namespace / configmap / secret / serviceaccount / token), turning them into the
/// JSON the rest of the stand-in handles. Other kinds are refused with 415, as the stand-in serves JSON.
/// </summary>
internal static class ProtobufObjectDecoder
{
    public const string MediaType = "application/vnd.kubernetes.protobuf";
    private static readonly byte[] Magic = "k8s\0"u8.ToArray();

    public static JsonObject Decode(byte[] body)
    {
        if (body.Length < 4 || !body.AsSpan(0, 4).SequenceEqual(Magic))
            throw ApiStatusException.BadRequest("The protobuf body does not start with the Kubernetes magic prefix.");
        string? apiVersion = null, kind = null;
        ReadOnlyMemory<byte> raw = default;
        foreach (var (field, value) in Fields(body.AsMemory(4)))
        {
            if (field == 1)
                foreach (var (f, v) in Fields(value.Bytes))
                {
                    if (f == 1) apiVersion = v.String;
                    else if (f == 2) kind = v.String;
                }
            else if (field == 2)
                raw = value.Bytes;
        }
        var obj = new JsonObject { ["apiVersion"] = apiVersion, ["kind"] = kind };
        foreach (var (field, value) in Fields(raw))
        {
            if (field == 1)
            {
                obj["metadata"] = Metadata(value.Bytes);
                continue;
            }
            switch (kind, field)
            {
                case ("ConfigMap", 2): Map(obj, "data", value, bytes: false); break;
                case ("ConfigMap", 3): Map(obj, "binaryData", value, bytes: true); break;
                case ("ConfigMap", 4): obj["immutable"] = value.Varint != 0; break;
                case ("Secret", 2): Map(obj, "data", value, bytes: true); break;
                case ("Secret", 3): obj["type"] = value.String; break;
                case ("Secret", 4): Map(obj, "stringData", value, bytes: false); break;
                case ("Secret", 5): obj["immutable"] = value.Varint != 0; break;
                case ("Namespace", 2):
                    obj["spec"] = new JsonObject { ["finalizers"] = new JsonArray([.. Fields(value.Bytes).Where(f => f.Field == 1).Select(f => (JsonNode)f.Value.String)]) };
                    break;
                case ("ServiceAccount", 2):
                    Append(obj, "secrets", new JsonObject(Fields(value.Bytes).Where(f => f.Field is 1 or 2 or 3).Select(f =>
                        KeyValuePair.Create(f.Field switch { 1 => "kind", 2 => "namespace", _ => "name" }, (JsonNode?)f.Value.String))));
                    break;
                case ("ServiceAccount", 3):
                    Append(obj, "imagePullSecrets", new JsonObject { ["name"] = Fields(value.Bytes).FirstOrDefault(f => f.Field == 1).Value.String });
                    break;
                case ("ServiceAccount", 4): obj["automountServiceAccountToken"] = value.Varint != 0; break;
                case ("TokenRequest", 2): obj["spec"] = TokenRequestSpec(value.Bytes); break;
                case (not ("ConfigMap" or "Secret" or "Namespace" or "ServiceAccount" or "TokenRequest"), _):
                    throw ApiStatusException.UnsupportedMediaType($"{MediaType} for {kind}");
            }
        }
        if (kind is not ("ConfigMap" or "Secret" or "Namespace" or "ServiceAccount" or "TokenRequest"))
            throw ApiStatusException.UnsupportedMediaType($"{MediaType} for {kind}");
        return obj;
    }

    /// <summary>authentication.k8s.io/v1 TokenRequestSpec: audiences (1), boundObjectRef (3: kind, apiVersion, name, uid), expirationSeconds (4).</summary>
    private static JsonObject TokenRequestSpec(ReadOnlyMemory<byte> bytes)
    {
        var spec = new JsonObject();
        foreach (var (field, value) in Fields(bytes))
        {
            switch (field)
            {
                case 1: Append(spec, "audiences", value.String); break;
                case 3:
                    spec["boundObjectRef"] = new JsonObject(Fields(value.Bytes).Where(f => f.Field is >= 1 and <= 4).Select(f =>
                        KeyValuePair.Create(f.Field switch { 1 => "kind", 2 => "apiVersion", 3 => "name", _ => "uid" }, (JsonNode?)f.Value.String)));
                    break;
                case 4: spec["expirationSeconds"] = (long)value.Varint; break;
            }
        }
        return spec;
    }

    private static JsonObject Metadata(ReadOnlyMemory<byte> bytes)
    {
        var meta = new JsonObject();
        foreach (var (field, value) in Fields(bytes))
        {
            switch (field)
            {
                case 1: meta["name"] = value.String; break;
                case 2: meta["generateName"] = value.String; break;
                case 3: meta["namespace"] = value.String; break;
                case 6: meta["resourceVersion"] = value.String; break;
                case 11: Map(meta, "labels", value, bytes: false); break;
                case 12: Map(meta, "annotations", value, bytes: false); break;
                case 14: Append(meta, "finalizers", value.String); break;
            }
        }
        return meta;
    }

    private static void Map(JsonObject target, string name, Value entry, bool bytes)
    {
        string key = "";
        JsonNode? value = "";
        foreach (var (field, v) in Fields(entry.Bytes))
        {
            if (field == 1)
                key = v.String;
            else if (field == 2)
                value = bytes ? Convert.ToBase64String(v.Bytes.Span) : v.String;
        }
        if (target[name] is not JsonObject map)
            target[name] = map = new JsonObject();
        map[key] = value;
    }

    private static void Append(JsonObject target, string name, JsonNode item)
    {
        if (target[name] is not JsonArray list)
            target[name] = list = new JsonArray();
        list.Add(item);
    }

    private readonly record struct Value(ulong Varint, ReadOnlyMemory<byte> Bytes)
    {
        public string String => Encoding.UTF8.GetString(Bytes.Span);
    }

    private static List<(int Field, Value Value)> Fields(ReadOnlyMemory<byte> message)
    {
        var fields = new List<(int, Value)>();
        var span = message.Span;
        var i = 0;
        while (i < span.Length)
        {
            var tag = ReadVarint(span, ref i);
            var field = (int)(tag >> 3);
            switch (tag & 7)
            {
                case 0: fields.Add((field, new Value(ReadVarint(span, ref i), default))); break;
                case 1: i += 8; break;
                case 5: i += 4; break;
                case 2:
                    var length = (int)ReadVarint(span, ref i);
                    if (length < 0 || i + length > span.Length)
                        throw ApiStatusException.BadRequest("The protobuf body is truncated.");
                    fields.Add((field, new Value(0, message.Slice(i, length))));
                    i += length;
                    break;
                default: throw ApiStatusException.BadRequest("The protobuf body uses an unknown wire type.");
            }
        }
        return fields;
    }

    private static ulong ReadVarint(ReadOnlySpan<byte> span, ref int i)
    {
        ulong result = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            if (i >= span.Length)
                throw ApiStatusException.BadRequest("The protobuf body is truncated.");
            var b = span[i++];
            result |= (ulong)(b & 0x7f) << shift;
            if ((b & 0x80) == 0)
                return result;
        }
        throw ApiStatusException.BadRequest("The protobuf body has an over-long varint.");
    }
}
