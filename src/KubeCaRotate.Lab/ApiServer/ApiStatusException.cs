using System.Text.Json.Nodes;

namespace KubeCaRotate.Lab.ApiServer;

/// <summary>
/// A failed request, answered as a Kubernetes Status object (kind Status, apiVersion v1, status Failure) with
/// the HTTP code, reason and message kube-apiserver would give.
/// </summary>
public sealed class ApiStatusException(int code, string reason, string message, JsonObject? details = null) : Exception(message)
{
    public int Code { get; } = code;
    public string Reason { get; } = reason;
    public JsonObject? Details { get; } = details;

    public JsonObject ToStatus() => new()
    {
        ["kind"] = "Status",
        ["apiVersion"] = "v1",
        ["metadata"] = new JsonObject(),
        ["status"] = "Failure",
        ["message"] = Message,
        ["reason"] = Reason,
        ["details"] = Details?.DeepClone(),
        ["code"] = Code,
    };

    private static JsonObject DetailsFor(ApiResource resource, string name) => new()
    {
        ["name"] = name,
        ["group"] = resource.Group,
        ["kind"] = resource.Name,
    };

    public static ApiStatusException NotFound(ApiResource resource, string name) =>
        new(404, "NotFound", $"{resource.QualifiedName} \"{name}\" not found", DetailsFor(resource, name));

    public static ApiStatusException AlreadyExists(ApiResource resource, string name) =>
        new(409, "AlreadyExists", $"{resource.QualifiedName} \"{name}\" already exists", DetailsFor(resource, name));

    public static ApiStatusException Conflict(ApiResource resource, string name) =>
        new(409, "Conflict",
            $"Operation cannot be fulfilled on {resource.QualifiedName} \"{name}\": the object has been modified; please apply your changes to the latest version and try again",
            DetailsFor(resource, name));

    public static ApiStatusException Invalid(ApiResource resource, string name, string field, string problem)
    {
        var details = DetailsFor(resource, name);
        details["kind"] = resource.Kind;
        details["causes"] = new JsonArray(new JsonObject { ["reason"] = "FieldValueInvalid", ["message"] = problem, ["field"] = field });
        return new(422, "Invalid", $"{resource.Kind} \"{name}\" is invalid: {field}: {problem}", details);
    }

    public static ApiStatusException BadRequest(string message) => new(400, "BadRequest", message);

    public static ApiStatusException Unauthorized() => new(401, "Unauthorized", "Unauthorized");

    public static ApiStatusException NotFoundPath() => new(404, "NotFound", "the server could not find the requested resource");

    public static ApiStatusException MethodNotAllowed(string method) => new(405, "MethodNotAllowed", $"the server does not allow this method on the requested resource ({method})");

    public static ApiStatusException UnsupportedMediaType(string contentType) =>
        new(415, "UnsupportedMediaType", $"the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json (got {contentType})");

    public static ApiStatusException Unavailable(string message) => new(503, "ServiceUnavailable", message);
}
