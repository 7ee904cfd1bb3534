using System.Text.Json.Serialization;

namespace KubeCaRotate.Lab.ApiServer;

/// <summary>
/// Faults the stand-in injects, read from the JSON file named by --lab-fault-file (re-read when it changes).
/// Each rate is a probability from 0 to 1, drawn per request. Requests whose path starts with one of
/// <see cref="ExemptPaths"/> (by default the health endpoints, so a load balancer keeps the server in
/// rotation) are never faulted. Example:
/// {"latencyMs":200,"latencyRate":0.5,"tooManyRequestsRate":0.1,"retryAfterSeconds":1,
///  "internalErrorRate":0.05,"unavailableRate":0.05,"abortRate":0.02}
/// </summary>
public sealed record FaultSettings
{
    [JsonPropertyName("latencyMs")] public int LatencyMs { get; init; }
    [JsonPropertyName("latencyRate")] public double LatencyRate { get; init; }
    [JsonPropertyName("tooManyRequestsRate")] public double TooManyRequestsRate { get; init; }
    [JsonPropertyName("retryAfterSeconds")] public int RetryAfterSeconds { get; init; } = 1;
    [JsonPropertyName("internalErrorRate")] public double InternalErrorRate { get; init; }
    [JsonPropertyName("unavailableRate")] public double UnavailableRate { get; init; }
    [JsonPropertyName("abortRate")] public double AbortRate { get; init; }
    [JsonPropertyName("exemptPaths")] public IReadOnlyList<string> ExemptPaths { get; init; } = ["/livez", "/readyz", "/healthz"];

    public static readonly FaultSettings None = new();
}
