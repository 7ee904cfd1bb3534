using System.Globalization;
using System.Text.Json.Nodes;

namespace KubeCaRotate.Lab.ApiServer;

/// <summary>
/// What a DELETE asks for, as kube-apiserver reads it: the DeleteOptions body when the request has one, else the
/// query parameters (gracePeriodSeconds). Preconditions (uid, resourceVersion) come only from the body.
/// </summary>
public sealed record DeleteOptions(long? GracePeriodSeconds, string? PreconditionUid, string? PreconditionResourceVersion)
{
    public static readonly DeleteOptions None = new(null, null, null);

    public static DeleteOptions FromBody(JsonObject body) => new(
        Seconds(body["gracePeriodSeconds"]),
        KubeJson.Str(body["preconditions"]?["uid"]),
        KubeJson.Str(body["preconditions"]?["resourceVersion"]));

    public static DeleteOptions FromQuery(string? gracePeriodSeconds)
    {
        if (string.IsNullOrEmpty(gracePeriodSeconds))
            return None;
        return long.TryParse(gracePeriodSeconds, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var seconds)
            ? new DeleteOptions(seconds, null, null)
            : throw ApiStatusException.BadRequest($"the gracePeriodSeconds \"{gracePeriodSeconds}\" is not a number");
    }

    private static long? Seconds(JsonNode? node) => node switch
    {
        null => null,
        JsonValue v when v.TryGetValue<long>(out var n) => n,
        _ => throw ApiStatusException.BadRequest("gracePeriodSeconds in the DeleteOptions must be a whole number of seconds"),
    };
}
