using System.Text.Json.Nodes;

namespace KubeCaRotate.Lab.ApiServer;

/// <summary>
/// A field selector: comma-separated "field=value", "field==value" or "field!=value" over the fields the
/// resource supports (metadata.name, metadata.namespace, and per resource e.g. type for Secrets,
/// spec.nodeName and status.phase for Pods). An unsupported field is a 400, as in kube-apiserver.
/// </summary>
public sealed class FieldSelector
{
    private readonly List<(string Field, bool Equal, string Value)> _requirements = [];

    public static FieldSelector Parse(string? text, ApiResource resource)
    {
        var selector = new FieldSelector();
        if (string.IsNullOrWhiteSpace(text))
            return selector;
        foreach (var raw in text.Split(','))
        {
            var part = raw.Trim();
            if (part.Length == 0)
                continue;
            var (field, equal, value) = part.IndexOf("!=", StringComparison.Ordinal) is var ne and > 0 ? (part[..ne], false, part[(ne + 2)..])
                : part.IndexOf("==", StringComparison.Ordinal) is var ee and > 0 ? (part[..ee], true, part[(ee + 2)..])
                : part.IndexOf('=') is var e and > 0 ? (part[..e], true, part[(e + 1)..])
                : throw ApiStatusException.BadRequest($"invalid selector: '{text}'; can't understand '{part}'");
            field = field.Trim();
            if (!resource.FieldLabels.Contains(field))
                throw ApiStatusException.BadRequest($"field label not supported: {field}");
            selector._requirements.Add((field, equal, value.Trim()));
        }
        return selector;
    }

    /// <summary>The name an equality on metadata.name pins the list to, so a get-by-name can replace a scan.</summary>
    public string? Name => _requirements.FirstOrDefault(r => r.Field == "metadata.name" && r.Equal).Value;

    public bool Matches(JsonObject obj)
    {
        foreach (var (field, equal, value) in _requirements)
        {
            var actual = KubeJson.FieldValue(obj, field) ?? "";
            if ((actual == value) != equal)
                return false;
        }
        return true;
    }
}
